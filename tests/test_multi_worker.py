"""Multi-worker training: who writes, and two workers on 127.0.0.1 started as a user starts
them on two machines sharing the project folder, each told its role by ``TF_CONFIG``.
"""

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from eeg_hba.training.multi_worker import chief_only, is_chief, scratch_folder
from eeg_hba.training.two_stage import TrainingConfig, training_backup

from .cluster import HOST, ProcessGroups, Started, free_port, process_groups, wait_all
from .projects import TINY_RUN, TINY_SYNTHETIC, make_project, run_session, training_config

LIFETIME_S = 600  # a safety net: nothing started here outlives it
RUN_TIMEOUT_S = 400
BACKBONE = "mobilenet_v3_large"
#: Enough windows for whole global batches of 8 in both stages (about 20 and 10 rows),
#: steps traced as users run them.
SIZES = {
    **TINY_RUN,
    "training_defaults": {**TINY_RUN["training_defaults"], "run_eagerly": False},
    "synthetic": {"presets": {"default": {
        **TINY_SYNTHETIC, "n_patients": 12, "n_spectrograms": 16, "n_eegs": 48, "n_rows": 96}}},
}  # fmt: skip
#: What a run of training writes in the project (the chief's, and only the chief's).
OUTPUTS = [
    f"data/06_models/{BACKBONE}/model.keras",
    f"data/06_models/{BACKBONE}/model_runs",
    f"data/08_reporting/{BACKBONE}/training_history.csv",
    f"data/08_reporting/{BACKBONE}/training_curve.png",
    f"data/08_reporting/{BACKBONE}/training_summary.json",
]


def tf_config(ports: list[int], index: int) -> str:
    """Worker ``index``'s ``TF_CONFIG`` in a cluster of workers on ``ports`` of 127.0.0.1."""
    cluster = {"worker": [f"{HOST}:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


@pytest.fixture(scope="module")
def prepared_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tiny project (sizes in conf/local, so ``kedro run`` sees them) with model inputs,
    and an MLflow store that, like the outputs, only the chief writes to."""
    with pytest.MonkeyPatch.context() as patch:
        project = make_project(tmp_path_factory.mktemp("multi-worker") / "project")
        (project / "conf/local/parameters.yml").write_text(yaml.safe_dump(SIZES))
        (project / "conf/local/mlflow.yml").write_text(
            f"server:\n  mlflow_tracking_uri: sqlite:///${{chief_only:{project / 'mlflow.db'}}}\n"
        )
        patch.chdir(project)
        run_session(project, "synthetic")
        run_session(project, "ingestion")
        run_session(project, "preprocessing")
        yield project


def start_two_workers(
    groups: ProcessGroups, name: str, command: list[str], cwd: Path
) -> list[Started]:
    """``command`` as worker 0 (the chief) and worker 1 of a two-worker cluster."""
    ports = [free_port(), free_port()]
    environment = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "400"}
    workers = []
    for index in range(2):
        env = {**environment, "TF_CONFIG": tf_config(ports, index)}
        workers.append(groups.start(f"{name} {index}", command, LIFETIME_S, env, cwd))
    return workers


def start_training(groups: ProcessGroups, project: Path, *params: str) -> list[Started]:
    """``kedro run --pipelines=train_<backbone>`` on each of two workers."""
    command = [
        sys.executable, "-m", "kedro", "run", f"--pipelines=train_{BACKBONE}",
        "--params=" + ",".join(["training_defaults.distribution=multi_worker_mirrored", *params]),
    ]  # fmt: skip
    return start_two_workers(groups, "training worker", command, project)


@pytest.mark.slow
def test_two_workers_train_one_model_and_only_the_chief_writes(prepared_project, tmp_path):
    with process_groups(tmp_path) as groups:
        workers = start_training(groups, prepared_project)
        codes = wait_all(workers, RUN_TIMEOUT_S)
    chief, other = (worker.output() for worker in workers)
    assert codes == [0, 0], chief[-4000:] + other[-4000:]

    for output in (chief, other):  # batch_size is per replica: 4 on each of 2 workers
        assert "Global batch 8: 4 per replica x 2 replicas" in output
    digests = [re.search(r"weights digest ([0-9a-f]{16})", out)[1] for out in (chief, other)]
    assert digests[0] == digests[1]  # the workers ended with the same weights

    # the chief wrote every output once; the other worker wrote only to its scratch folder
    for output in OUTPUTS:
        assert (prepared_project / output).exists(), output
    versions = list((prepared_project / OUTPUTS[0]).iterdir())
    assert len(versions) == 1
    assert not (prepared_project / f"data/06_models/{BACKBONE}/training_backup").exists()
    scratch = re.search(r"writes its outputs to (\S+),", other)[1]
    assert "writes its outputs to" not in chief and not Path(scratch).exists()
    history = pd.read_csv(prepared_project / OUTPUTS[2])
    assert len(history) == 3  # TINY_RUN: 2 + 1 epochs

    client = MlflowClient(tracking_uri=f"sqlite:///{prepared_project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("eeg_hba")
    runs = client.search_runs([experiment.experiment_id])
    trainings = sorted(r.info.run_name for r in runs if BACKBONE in r.info.run_name)
    # one kedro run (named after its pipeline, data and time), one backbone run, one model
    # run (seed 42, fold 0)
    assert trainings[:2] == [BACKBONE, f"{BACKBONE} seed-42_fold-0"] and len(trainings) == 3
    assert trainings[2].startswith(f"train_{BACKBONE} on data/01_raw/synthetic, ")
    trained = next(r for r in runs if r.info.run_name == BACKBONE)
    assert trained.info.status == "FINISHED" and trained.data.params["replicas"] == "2"
    assert Path(experiment.artifact_location.removeprefix("file://")).is_relative_to(
        prepared_project
    )


WORKER_1 = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}


@pytest.mark.parametrize(
    ("cluster", "task", "chief"),
    [
        (None, None, True),  # no cluster: a single process keeps its outputs
        ({"worker": ["a:1", "b:2"]}, {"type": "worker", "index": 0}, True),
        ({"worker": ["a:1", "b:2"]}, {"type": "worker", "index": 1}, False),
        ({"chief": ["c:0"], "worker": ["a:1"]}, {"type": "chief", "index": 0}, True),
        ({"chief": ["c:0"], "worker": ["a:1"]}, {"type": "worker", "index": 0}, False),
    ],
)
def test_the_chief_is_the_chief_task_or_else_worker_0(monkeypatch, cluster, task, chief):
    if cluster is not None:
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    else:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief() is chief
    assert (chief_only("data/06_models") == "data/06_models") is chief


def test_other_workers_write_inside_their_scratch_folder(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(WORKER_1))
    scratch = scratch_folder()
    assert Path(chief_only("data/06_models")) == scratch / "data/06_models"
    assert Path(chief_only("/srv/project/mlflow.db")) == scratch / "srv/project/mlflow.db"
    assert (scratch / "srv/project").is_dir()  # an SQLite store needs its folder


def _crashed_backup(tmp_path: Path, rows: int) -> tuple[TrainingConfig, Path]:
    """The chief's backup of a training that crashed after its first epoch."""
    config = training_config(backbone="tiny", backup_dir=str(tmp_path / "{backbone}"))
    with pytest.raises(KeyboardInterrupt), training_backup(config, rows) as backup:
        (backup / "stage1.csv").write_text("epoch,loss\n0,1.5\n")
        raise KeyboardInterrupt  # the crash: the backup stays
    return config, backup


def test_another_worker_resumes_from_a_scratch_copy_of_the_chiefs_backup(monkeypatch, tmp_path):
    config, chiefs = _crashed_backup(tmp_path, rows=10)
    before = {p.name: p.read_bytes() for p in chiefs.iterdir()}
    monkeypatch.setenv("TF_CONFIG", json.dumps(WORKER_1))

    with training_backup(config, rows=10) as copy:
        assert copy != chiefs and (copy / "stage1.csv").read_bytes() == before["stage1.csv"]
        (copy / "stage1.csv").write_text("epoch,loss\n0,1.5\n1,1.4\n")
    with training_backup(config, rows=11) as fresh:  # another training: nothing to resume
        assert not any(fresh.iterdir())

    assert not copy.exists() and not fresh.exists()
    assert {p.name: p.read_bytes() for p in chiefs.iterdir()} == before  # only the chief writes


PER_REPLICA = 4


def _windows_each_step(epochs: int) -> list[list[int]]:
    """The windows this worker gets at each training step of ``epochs`` epochs, under the
    strategy of its TF_CONFIG: ``window_dataset`` over 40 windows whose image is their
    number, in five shards of unequal sizes."""
    import numpy as np  # noqa: PLC0415 - run in the workers' processes
    import tensorflow as tf  # noqa: PLC0415

    from eeg_hba.training.inputs import window_dataset  # noqa: PLC0415

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    sizes = [5, 11, 8, 9, 7]
    numbers = np.arange(sum(sizes), dtype=np.float32)
    index = pd.DataFrame({
        "shard": [f"shard-{k}" for k, size in enumerate(sizes) for _ in range(size)],
        "position": [p for size in sizes for p in range(size)],
    })  # fmt: skip
    starts = np.cumsum([0, *sizes])
    shards = {
        f"shard-{k}": lambda k=k: {
            "images": numbers[starts[k] : starts[k + 1], None, None] * np.ones((1, 8, 8), "f4"),
            "targets": np.full((sizes[k], 6), 1 / 6, np.float32),
        }
        for k in range(len(sizes))
    }
    dataset = window_dataset(
        shards, index, ("images", (8, 8, 1)), PER_REPLICA * strategy.num_replicas_in_sync, training=True, seed=1
    )
    distributed = strategy.experimental_distribute_dataset(dataset)
    return [
        [round(float(image[0, 0, 0])) for local in strategy.experimental_local_results(images)
         for image in local.numpy()]
        for _ in range(epochs)
        for images, _ in distributed
    ]  # fmt: skip


@pytest.mark.slow
def test_each_worker_trains_on_its_own_share_of_every_global_batch(tmp_path):
    epochs = 2
    script = (
        "import json\n"
        "from tests.test_multi_worker import _windows_each_step\n"
        f"print('RESULT', json.dumps(_windows_each_step({epochs})))\n"
    )
    with process_groups(tmp_path) as groups:
        command = [sys.executable, "-c", script]
        workers = start_two_workers(groups, "input worker", command, Path(__file__).parents[1])
        codes = wait_all(workers, RUN_TIMEOUT_S)
    assert codes == [0, 0], workers[0].output()[-3000:] + workers[1].output()[-3000:]
    steps = [json.loads(w.output().split("RESULT ", 1)[1].splitlines()[0]) for w in workers]

    assert len(steps[0]) == len(steps[1]) == epochs * 5  # 40 windows, global batch 8
    assert all(len(batch) == PER_REPLICA for batch in steps[0] + steps[1])
    for epoch in range(epochs):
        seen = [
            window for s in steps for batch in s[epoch * 5 : (epoch + 1) * 5] for window in batch
        ]
        assert sorted(seen) == list(range(40))  # each window once, on one worker
    assert steps[0][:5] != steps[0][5:]  # reshuffled every epoch


KILL_REPORTED_WITHIN_S = 120


@pytest.mark.slow
def test_a_killed_worker_is_reported_within_a_bounded_time(prepared_project, tmp_path):
    endless = [
        f"{BACKBONE}.training.stage1.epochs=500",  # its own block overrides the defaults
        "training_defaults.early_stopping_patience=500",
    ]
    with process_groups(tmp_path) as groups:
        chief, other = start_training(groups, prepared_project, *endless)
        chief.wait_for(r"Epoch 2/500", RUN_TIMEOUT_S)  # both workers are training
        groups.kill(other)
        # killed, it could not remove its scratch folder
        shutil.rmtree(re.search(r"writes its outputs to (\S+),", other.output())[1])
        killed = time.monotonic()
        code = chief.wait(KILL_REPORTED_WITHIN_S)  # a TimeoutError if it hangs
        seconds = time.monotonic() - killed
    output = chief.output()
    print(f"worker 1 killed: worker 0 failed {seconds:.0f} s later")
    assert code != 0 and seconds < KILL_REPORTED_WITHIN_S
    assert "UnavailableError" in output  # TensorFlow names the worker that stopped
    # found by the health check ("unhealthy") or by a collective op of the step it missed
    killed_task = r"(unhealthy .*\n|remote target )/job:worker/replica:0/task:1"
    assert re.search(killed_task, output), output[-4000:]

    client = MlflowClient(tracking_uri=f"sqlite:///{prepared_project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("eeg_hba")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
    assert runs[0].info.run_name.startswith(BACKBONE) and runs[0].info.status == "FAILED"
