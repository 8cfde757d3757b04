"""Scratch copies of the Kedro project and runs in them, as a user types them: the helpers
the tests share (the fixtures that use them are in ``conftest.py``)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from kedro.config import OmegaConfigLoader
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from eeg_hba.preprocessing.model_inputs import FeatureConfig
from eeg_hba.settings import CONFIG_LOADER_ARGS

if TYPE_CHECKING:
    from eeg_hba.training.inputs import AugmentConfig
    from eeg_hba.training.two_stage import TrainingConfig

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


def project_parameters(env: str = "local") -> dict:
    """The parameters of ``kedro run --env=<env>``: conf/<env> soft-merged over conf/base."""
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


def feature_config(env: str = "local", **overrides) -> FeatureConfig:
    """The model-input knobs of ``env`` (``kaggle``: the ImageNet layout), with ``overrides``."""
    return FeatureConfig(**{**project_parameters(env)["preprocessing"]["features"], **overrides})


def augment_config(**overrides) -> "AugmentConfig":
    """The project's augmentation probabilities (``training_defaults.augment``), with
    ``overrides``."""
    from eeg_hba.training.inputs import AugmentConfig  # noqa: PLC0415 - imports TensorFlow

    return AugmentConfig(**{**project_parameters()["training_defaults"]["augment"], **overrides})


def training_config(**overrides) -> "TrainingConfig":
    """The project's ``training_defaults`` with ``overrides``, as a backbone's config."""
    from eeg_hba.training.two_stage import TrainingConfig  # noqa: PLC0415 - imports TensorFlow

    return TrainingConfig.from_params(project_parameters()["training_defaults"], overrides)


def end_active_mlflow_runs() -> None:
    """Clear MLflow's in-process run stack, as the end of a ``kedro run`` process does.

    kedro-mlflow marks its run FINISHED in the store but can leave it on the stack of a
    process that goes on to start another session (only tests do that).
    """
    while mlflow.active_run():
        mlflow.end_run()


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
    """Run registered pipelines (``name``: comma-separated) with runtime parameters, as
    ``kedro run --pipelines=<name>`` does."""
    try:
        with KedroSession.create(
            project_path=project, env=env, runtime_params=runtime_params
        ) as session:
            return session.run(pipeline_names=name.split(","))
    finally:
        end_active_mlflow_runs()


def cli_params(params: dict, prefix: str = "") -> list[str]:
    """Nested runtime parameters as the ``key.sub=value`` items of ``kedro run --params``."""
    items = []
    for key, value in params.items():
        if isinstance(value, dict):
            items += cli_params(value, f"{prefix}{key}.")
        else:
            items.append(f"{prefix}{key}={json.dumps(value, default=str)}")  # JSON values are YAML
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
