"""Preprocessing on a real Spark standalone cluster: a master and two workers on 127.0.0.1.

The driver is a ``kedro run`` process, as a user starts it. The executors run a Python
with the project's dependencies but without the project (as a cluster node has), so they
can only compute shards from the package the driver ships them.
"""

import re
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (.ci/run installs one)", allow_module_level=True)

from .cluster import (
    HOST,
    ProcessGroups,
    StartError,
    free_port,
    process_groups,
    python_without_project,
    spark_daemon,
    spark_environment,
    spark_standalone,
)
from .projects import TINY_SYNTHETIC, make_project, run_session
from .test_spark import assert_same_model_inputs, written_model_inputs

pytestmark = pytest.mark.slow

LIFETIME_S = 600  # a safety net: nothing started here outlives it
RUN_TIMEOUT_S = 240
TINY = {
    "synthetic": {"presets": {"default": TINY_SYNTHETIC}},
    "preprocessing": {
        "shard_size": 4,
        "workers": 2,
        "features": {"image_height": 32, "image_width": 32},
        # one attempt per task: a missing file stays missing (a cluster's default is 4)
        "spark": {"config": {"spark.executor.memory": "512m", "spark.task.maxFailures": 1}},
    },
}


@dataclass(frozen=True)
class SparkCluster:
    groups: ProcessGroups
    master: str
    executor_python: Path  # has the dependencies, not the project


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkCluster]:
    """A master and two workers; afterwards nothing of them runs or listens."""
    folder = tmp_path_factory.mktemp("spark-cluster")
    with process_groups(folder) as groups:
        master = spark_standalone(groups, workers=2, lifetime_s=LIFETIME_S)
        yield SparkCluster(groups, master, python_without_project(folder / "executor-python"))


@pytest.fixture(scope="module")
def ingested_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiny project (sizes in conf/local, so ``kedro run`` sees them) after ingestion."""
    with pytest.MonkeyPatch.context() as patch:
        project = make_project(tmp_path_factory.mktemp("spark") / "project")
        (project / "conf/local/parameters.yml").write_text(yaml.safe_dump(TINY))
        patch.chdir(project)
        run_session(project, "synthetic")
        run_session(project, "ingestion")
        yield project


def _kedro_run_on(cluster: SparkCluster, project: Path, *params: str) -> tuple[int, str]:
    """``kedro run --pipelines=preprocessing`` as the driver; exit code and output."""
    driver = cluster.groups.start(
        "kedro run (Spark driver)",
        [sys.executable, "-m", "kedro", "run", "--pipelines=preprocessing",
         f"--params=preprocessing.engine=spark,preprocessing.spark.master={cluster.master}"
         + "".join(f",{p}" for p in params)],
        LIFETIME_S,
        env={**spark_environment(), "PYSPARK_PYTHON": str(cluster.executor_python),
             "PYTHONPATH": str(Path(sys.modules["eeg_hba"].__file__).parents[1]),
             "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "400"},
        cwd=project,
    )  # fmt: skip
    return driver.wait(RUN_TIMEOUT_S), driver.output()


def test_the_cluster_writes_the_shards_of_the_local_engine_bit_for_bit(
    spark_cluster, ingested_project
):
    run_session(ingested_project, "preprocessing")  # the local engine: worker processes
    local = written_model_inputs(ingested_project)
    shutil.rmtree(ingested_project / "data/05_model_input")  # the cluster computes them anew

    code, output = _kedro_run_on(spark_cluster, ingested_project)

    assert code == 0, output[-5000:]
    assert "shards with Spark" in output
    assert len(local[0]["train_inputs"]) > 2  # tasks for both workers
    assert_same_model_inputs(written_model_inputs(ingested_project), local)
    for worker in (s for s in spark_cluster.groups.started if s.name.startswith("spark worker")):
        assert "Asked to launch executor" in worker.output(), f"{worker.name} ran no executor"


def test_a_raw_file_the_executors_cannot_see_fails_the_run_naming_it(
    spark_cluster, ingested_project
):
    # /proc/self/cwd is one absolute path that is each process's own working directory:
    # the project for the driver, which lists the raw files, and a Spark work folder for
    # the executors, which read them. A folder the driver sees and the executors do not.
    shutil.rmtree(ingested_project / "data/05_model_input", ignore_errors=True)
    raw = "/proc/self/cwd/data/01_raw/synthetic"

    code, output = _kedro_run_on(spark_cluster, ingested_project, f"raw_data_dir={raw}")

    # The driver can read every file (ingestion checked their footers): only the executors'
    # reads fail, which the pass records as broken rules naming each file and row.
    assert code != 0
    missing = rf"{raw}/(train|test)_(spectrograms|eegs)/\d+\.parquet"
    assert re.search(missing, output), output[-5000:]
    assert "No such file or directory" in output  # errno 2, as pyarrow's native reads say
    assert "HmsContractError" in output and "row" in output


def test_a_worker_that_cannot_start_fails_clearly(tmp_path):
    with process_groups(tmp_path) as groups, closing(socket.socket()) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        worker = spark_daemon(
            groups, "spark worker 1", "org.apache.spark.deploy.worker.Worker",
            taken.getsockname()[1], [f"spark://{HOST}:{free_port()}"], LIFETIME_S,
        )  # fmt: skip
        with pytest.raises(StartError, match=r"spark worker 1 exited with code \d+ before"):
            worker.wait_for(r"Successfully registered with master", 120)
        assert "Address already in use" in worker.output()
