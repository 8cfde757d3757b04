"""Shared fixtures: a scratch copy of the Kedro project and a hand-written HMS folder."""

import os
import shutil
from collections.abc import Callable
from functools import partial
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


def run_session(project: Path, name: str, **runtime_params) -> dict:
    """Run a registered pipeline with runtime parameters, as ``kedro run`` does."""
    try:
        with KedroSession.create(project_path=project, runtime_params=runtime_params) as session:
            return session.run(pipeline_names=[name])
    finally:
        end_active_mlflow_runs()


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
