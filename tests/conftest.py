"""Shared fixtures: a scratch copy of the Kedro project and a hand-written HMS folder."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
import pytest
import yaml
from filelock import FileLock

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from .hand_folder import write_hand_folder

if TYPE_CHECKING:
    from eeg_hba.training import TrainingConfig

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Tiny sizes for runs of the synthetic pipeline in tests.
TINY_SYNTHETIC = {
    "n_patients": 6,
    "n_spectrograms": 8,
    "n_eegs": 12,
    "n_rows": 40,
    "n_test_patients": 2,
    "n_test_eegs": 3,
}

#: Runtime parameters of a tiny default run: all four backbones, 32 x 32 images (two per
#: EEG, from its sub-windows), 3 epochs, eagerly (tracing the steps would take longer
#: than the few batches they run).
TINY_RUN = {
    "synthetic": {"presets": {"default": TINY_SYNTHETIC}},
    "preprocessing": {"shard_size": 4, "images_per_eeg": 2,
                      "features": {"image_height": 32, "image_width": 32}},
    "training_defaults": {"batch_size": 4, "run_eagerly": True,
                          "stage1": {"epochs": 2, "learning_rate": 1e-3},
                          "stage2": {"epochs": 1, "learning_rate": 1e-4}},
    "ingestion": {"holdout_fraction": 0.2, "n_folds": 2},
    # their own defaults are longer
    "mobilenet_v3_large": {"training": {"stage1": {"epochs": 2}}},
    "resnet1d_raw_eeg": {"training": {"stage1": {"epochs": 2}}},
}  # fmt: skip


#: What the shared tiny project's ``kedro run`` printed, beside the project folder.
CONSOLE = "kedro_run_console.txt"


def training_config(**overrides) -> "TrainingConfig":
    """The project's ``training_defaults`` with ``overrides``, as a backbone's config."""
    from eeg_hba.training import TrainingConfig  # noqa: PLC0415 - imports TensorFlow

    parameters = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_training.yml").read_text())
    return TrainingConfig.from_params(parameters["training_defaults"], overrides)


def end_active_mlflow_runs() -> None:
    """Clear MLflow's in-process run stack, as the end of a ``kedro run`` process does.

    kedro-mlflow marks its run FINISHED in the store but can leave it on the stack of a
    process that goes on to start another session (only tests do that).
    """
    while mlflow.active_run():
        mlflow.end_run()


@pytest.fixture(autouse=True)
def no_active_mlflow_run():
    end_active_mlflow_runs()
    yield
    end_active_mlflow_runs()


def make_project(project: Path) -> Path:
    """The project's configuration in a scratch folder; runs there write only there."""
    project.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project)
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf")
    (project / "src").mkdir()  # the package itself is installed; Kedro wants the folder
    # An absolute tracking store, as conf/local/mlflow.yml overrides it for users: MLflow
    # caches stores by URI, so one relative URI would be shared by every test project.
    (project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: sqlite:///{project / 'mlflow.db'}\n"
    )
    bootstrap_project(project)
    return project


def run_session(project: Path, name: str, env: str | None = None, **runtime_params) -> dict:
    """Run a registered pipeline with runtime parameters, as ``kedro run`` does."""
    try:
        with KedroSession.create(
            project_path=project, env=env, runtime_params=runtime_params
        ) as session:
            return session.run(pipeline_names=[name])
    finally:
        end_active_mlflow_runs()


def cli_params(params: dict, prefix: str = "") -> list[str]:
    """Nested runtime parameters as the ``key.sub=value`` items of ``kedro run --params``."""
    items = []
    for key, value in params.items():
        if isinstance(value, dict):
            items += cli_params(value, f"{prefix}{key}.")
        else:
            items.append(f"{prefix}{key}={json.dumps(value)}")  # JSON values are YAML
    return items


def kedro_run(project: Path, pipelines: str, env: str | None = None, **runtime_params) -> str:
    """``kedro run`` in its own process, as a user types it: a run that trains models keeps
    TensorFlow's memory out of the test process (the suite trains dozens of models).
    Returns what it printed."""
    command = [str(Path(sys.executable).parent / "kedro"), "run", f"--pipelines={pipelines}"]
    command += [f"--env={env}"] if env else []
    command += ["--params=" + ",".join(cli_params(runtime_params))] if runtime_params else []
    done = subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "COLUMNS": "200"},
    )  # fmt: skip
    console = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)}\n{console[-6000:]}"
    return console


@pytest.fixture
def kedro_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project that is also the working directory, as for ``kedro run``."""
    project = make_project(tmp_path / "project")
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def run_pipeline(kedro_project: Path) -> Callable[..., dict]:
    return partial(run_session, kedro_project)


@pytest.fixture
def hand_folder(tmp_path: Path) -> Path:
    return write_hand_folder(tmp_path / "hms")


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One tiny project after ``train_all``, ``evaluation`` and ``predict``.

    Shared by every test that needs trained models, MLflow runs and reports (training,
    notebooks, browser tests): training four backbones is the slowest thing the suite does.
    Under pytest-xdist the first worker to ask trains it in the session's shared temporary
    folder while the others wait on a file lock, so it is trained once per session.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    project = shared / "trained" / "project"
    with FileLock(shared / "trained.lock"):
        if not (project.parent / CONSOLE).exists():
            if project.exists():
                pytest.fail(f"training the shared tiny project failed in another worker: {project}")
            make_project(project)
            console = kedro_run(project, "train_all,evaluation,predict", **TINY_RUN)
            (project.parent / CONSOLE).write_text(console)
    return project
