"""Shared fixtures: a scratch copy of the Kedro project, a hand-written HMS folder, and one
tiny trained project per session (helpers in ``projects.py``)."""

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from filelock import FileLock

from .hand_folder import write_hand_folder
from .projects import (
    CONSOLE,
    TINY_RUN,
    end_active_mlflow_runs,
    kedro_run,
    make_project,
    run_session,
)


@pytest.fixture(autouse=True)
def no_active_mlflow_run():
    end_active_mlflow_runs()
    yield
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
            console = kedro_run(project, "synthetic", **TINY_RUN)
            console += kedro_run(project, "train_all,evaluation,predict", **TINY_RUN)
            (project.parent / CONSOLE).write_text(console)
    return project
