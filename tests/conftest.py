"""Shared fixtures: a scratch copy of the Kedro project and a hand-written HMS folder."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from .hand_folder import write_hand_folder

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


@pytest.fixture
def kedro_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's configuration in a scratch folder, which becomes the working directory.

    Runs write their data and tracking store there, never into the repository.
    """
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project)
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf")
    (project / "src").mkdir()  # the package itself is installed; Kedro wants the folder
    monkeypatch.chdir(project)
    bootstrap_project(project)
    return project


@pytest.fixture
def run_pipeline(kedro_project: Path) -> Callable[..., dict]:
    """Run a registered pipeline with runtime parameters, as ``kedro run`` does."""

    def run(name: str, **runtime_params) -> dict:
        try:
            with KedroSession.create(
                project_path=kedro_project, runtime_params=runtime_params
            ) as s:
                return s.run(pipeline_names=[name])
        finally:
            end_active_mlflow_runs()

    return run


@pytest.fixture
def hand_folder(tmp_path: Path) -> Path:
    return write_hand_folder(tmp_path / "hms")
