"""Crash safety: runs killed with SIGKILL resume on re-run; outputs are never half-written;
safe defaults for loading models and arrays and for servers."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import AbstractDataset, DatasetError
from kedro_viz.constants import DEFAULT_HOST

from .hand_folder import write_hand_folder
from .projects import PROJECT_ROOT, cli_params, make_project, run_session

pytestmark = pytest.mark.slow
SMALL = {
    "ingestion": {"holdout_fraction": 0.2, "n_folds": 2, "workers": 1},
    "preprocessing": {"shard_size": 1, "workers": 1,
                      "features": {"image_height": 32, "image_width": 32}},
}  # fmt: skip
KILL_AFTER_SECONDS = 240  # a safety net only: the test waits for files, not for time


def _start_kedro(project: Path, pipeline: str, params: dict) -> subprocess.Popen:
    log = (project / f"{pipeline}.log").open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", f"--pipelines={pipeline}",
         f"--params={','.join(cli_params(params))}"],
        cwd=project, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "400"},
    )  # fmt: skip


def _kill_when(process: subprocess.Popen, ready: Callable[[], bool]) -> None:
    """SIGKILL the whole process group as soon as ``ready()`` holds."""
    deadline = time.monotonic() + KILL_AFTER_SECONDS
    while not ready():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "the run never reached the point to kill it"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def _rerun(project: Path, pipeline: str, params: dict) -> str:
    process = _start_kedro(project, pipeline, params)
    assert process.wait(timeout=KILL_AFTER_SECONDS) == 0, (project / f"{pipeline}.log").read_text()
    return (project / f"{pipeline}.log").read_text()


def _model_inputs(project: Path) -> dict[str, object]:
    """Every visible file under data/05_model_input: npz as arrays, parquet as tables."""
    found: dict[str, object] = {}
    for path in sorted((project / "data/05_model_input").rglob("*")):
        name = str(path.relative_to(project))
        if path.suffix == ".npz" and not path.name.startswith("."):
            with np.load(path, allow_pickle=False) as archive:
                found[name] = dict(archive)
        elif path.suffix == ".parquet":
            found[name] = pd.read_parquet(path)
    return found


@pytest.fixture
def ingested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A new project over one hand-written HMS folder, after ingestion."""
    folder = write_hand_folder(tmp_path / "hms")

    def make(name: str) -> Path:
        project = make_project(tmp_path / name)
        monkeypatch.chdir(project)
        run_session(project, "ingestion", raw_data_dir=str(folder), **SMALL)
        return project

    make.folder = folder
    return make


def test_killed_preprocessing_resumes_to_identical_output(ingested):
    reference = ingested("uninterrupted")
    run_session(reference, "preprocessing", raw_data_dir=str(ingested.folder), **SMALL)
    expected = _model_inputs(reference)
    shard_count = len([name for name in expected if name.endswith(".npz")])
    assert shard_count == 7  # six train spectrograms and one test spectrogram, one per shard

    project = ingested("killed")
    params = {"raw_data_dir": ingested.folder, **SMALL}
    shards = project / "data/05_model_input/train_inputs/shards"
    process = _start_kedro(project, "preprocessing", params)
    _kill_when(process, lambda: shards.is_dir() and any(shards.glob("*.npz")))
    survivors = {p.name: p.stat().st_mtime_ns for p in shards.glob("*.npz")}
    assert 0 < len(survivors) < 6

    log = _rerun(project, "preprocessing", params)
    assert f"{len(survivors)} of 6 shards are already written: resuming" in log
    assert {p.name: p.stat().st_mtime_ns for p in shards.glob("*.npz") if p.name in survivors} == (
        survivors  # kept, not computed again
    )
    resumed = _model_inputs(project)
    assert resumed.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(resumed[name], value)
        else:
            assert value.keys() == resumed[name].keys()
            for key in value:
                np.testing.assert_array_equal(resumed[name][key], value[key])


def test_killed_training_resumes_from_its_last_epoch(ingested):
    project = ingested("training")
    params = {"raw_data_dir": ingested.folder, **SMALL}
    run_session(project, "preprocessing", **params)
    backbone = "mobilenet_v3_large"
    epochs = 3
    params["training_defaults"] = {
        "batch_size": 4, "stage1": {"epochs": epochs}, "stage2": {"epochs": 0},
        "early_stopping_patience": epochs,
    }  # fmt: skip
    params[backbone] = {"training": {"stage1": {"epochs": epochs}}}  # its own default is longer
    backup = project / f"data/06_models/{backbone}/training_backup"
    metadata = backup / "seed-42_fold-0/stage1/training_metadata.json"

    def epochs_backed_up() -> int:
        try:
            return json.loads(metadata.read_text())["epoch"]
        except (OSError, ValueError):  # not written yet, or being written
            return 0

    process = _start_kedro(project, f"train_{backbone}", params)
    _kill_when(process, lambda: epochs_backed_up() >= 1)
    resume_epoch = epochs_backed_up()

    _rerun(project, f"train_{backbone}", params)
    client = mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs(
        client.get_experiment_by_name("eeg_hba").experiment_id,
        f"tags.backbone = '{backbone}'",
        order_by=["attributes.start_time ASC"],
    )
    killed, resumed = runs
    assert killed.info.status == "KILLED" and resumed.info.status == "FINISHED"
    assert resumed.data.tags["resumed_from"] == killed.info.run_id
    assert client.get_run(killed.data.tags["mlflow.parentRunId"]).info.status == "KILLED"
    (killed_model_run,) = client.search_runs(
        killed.info.experiment_id, f"tags.mlflow.parentRunId = '{killed.info.run_id}'"
    )
    assert killed_model_run.info.status == "KILLED"  # with its backbone's run
    (model_run,) = client.search_runs(
        resumed.info.experiment_id, f"tags.mlflow.parentRunId = '{resumed.info.run_id}'"
    )
    steps = [m.step for m in client.get_metric_history(model_run.info.run_id, "val_loss")]
    assert steps == list(range(resume_epoch, epochs))  # continued, not from epoch 0

    history = pd.read_csv(project / f"data/08_reporting/{backbone}/training_history.csv")
    assert history["epoch"].tolist() == list(range(epochs))  # the killed run's epochs kept
    assert not backup.exists()  # removed once training ended


def test_models_load_in_safe_mode_and_arrays_without_pickle(tmp_path):
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    model_config = {**catalog["{namespace}.model"], "filepath": str(tmp_path / "m.keras")}
    model_config.pop("versioned")
    inputs = keras.Input((2,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    dataset = AbstractDataset.from_config("model", model_config)
    dataset.save(lambda_model)
    with pytest.raises(DatasetError, match="safe_mode"):
        dataset.load()  # a Lambda layer is arbitrary code: refused

    npz = AbstractDataset.from_config(
        "shard", {"type": "eeg_hba.catalog.datasets.NpzDataset", "filepath": str(tmp_path / "s.npz")}
    )
    np.savez(tmp_path / "s.npz", objects=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        npz.load()["objects"]


def test_servers_bind_to_localhost_by_default():
    mlflow_conf = yaml.safe_load((PROJECT_ROOT / "conf/base/mlflow.yml").read_text())
    assert mlflow_conf["ui"]["host"] == "127.0.0.1"  # kedro mlflow ui
    assert DEFAULT_HOST == "127.0.0.1"  # kedro viz run, which the project does not override
