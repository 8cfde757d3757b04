"""MLflow helpers: each backbone trains in its own run nested under the ``kedro run``,
its model is logged with MLflow's Keras flavour, scores are linked to logged models."""

import os
import subprocess
import time

import keras
import mlflow
import numpy as np
import pandas as pd
import tensorflow as tf
from mlflow.entities import Metric
from mlflow.models import Model, infer_signature

from eeg_hba.run_lock import process_alive, this_process


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every epoch's losses and learning rate to the active MLflow run."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)


def log_run_metrics(metrics: dict[str, float], step: int = 0) -> None:
    """``metrics`` of the active run only, linked to no logged model: MLflow's fluent
    ``log_metrics`` links a metric to the run's models logged at its step (and to the
    process's active model), and logging a model links the run's metrics of its step."""
    now = int(time.time() * 1000)
    mlflow.MlflowClient().log_batch(
        mlflow.active_run().info.run_id,
        metrics=[Metric(key, float(value), now, step) for key, value in metrics.items()],
    )


def log_epoch_curves(history: pd.DataFrame) -> None:
    """Each epoch's numbers (losses, learning rate, seconds), the mean over the model runs
    of ``history``, as metrics of the active run, one step an epoch: the per-epoch curves on
    the run MLflow's Models view links a model to (each model run has its own)."""
    numbers = history.drop(columns=["stage", "seed", "fold"], errors="ignore")
    for epoch, values in numbers.groupby("epoch").mean().iterrows():
        log_run_metrics(values.dropna().to_dict(), step=int(epoch))


class _KerasFlavor:
    """``mlflow.keras`` whose ``save_model`` creates the model folder first: MLflow's own
    writes the input example before it does (mlflow/mlflow#16183, open in 3.17). It also
    drops ``validate_serving_input``, which ``Model.log`` reads and passes on to every
    flavour, and ``mlflow.keras.save_model`` does not take."""

    __name__ = mlflow.keras.__name__

    @staticmethod
    def save_model(path: str, validate_serving_input: bool = True, **kwargs) -> None:
        os.makedirs(path, exist_ok=True)
        mlflow.keras.save_model(path=path, **kwargs)


def log_keras_model(model: keras.Model, example: np.ndarray, name: str) -> str:
    """``model`` as an MLflow model of the active run named ``name`` (as MLflow's Models
    view lists it), Keras flavour, with its signature (its input tensor, images or
    signals, in; six probabilities out) and ``example`` (a batch of real model inputs) as
    input example; returns the LoggedModel's id.

    Neither is predicted here: the output is known from the model, and MLflow's check that
    the example serves (reload the saved model, predict: up to a minute for a deep backbone
    on a CPU) is what ``tests/test_mlflow_models.py`` does once for every model kind."""
    outputs = np.zeros((len(example), *model.output_shape[1:]), model.outputs[0].dtype)
    signature = infer_signature(example, outputs)
    info = Model.log(
        artifact_path=None,  # MLflow 3 names logged models with ``name``
        name=name,
        flavor=_KerasFlavor,
        model=model,
        signature=signature,
        input_example=example,
        pip_requirements=[f"tensorflow=={tf.__version__}", f"keras=={keras.__version__}"],
        validate_serving_input=False,
    )
    return info.model_id


def process_tags() -> dict[str, str]:
    """The tags that name the process a run belongs to (``pid``, ``host``): once that
    process is gone, a run still RUNNING was interrupted."""
    me = this_process()
    return {"pid": str(me["pid"]), "host": str(me["host"])}


def _process_gone(run: mlflow.entities.Run) -> bool:
    """Whether the process of ``run`` has ended (or is this one, which is not running it)."""
    pid, host = run.data.tags.get("pid"), run.data.tags.get("host")
    if pid is None or int(pid) == os.getpid():  # no name (older runs), or this process
        return True
    return not process_alive(int(pid), host)


def end_interrupted_runs(backbone: str) -> list[str]:
    """Runs of ``backbone`` left RUNNING by a process that is gone (killed), newest first:
    marked KILLED, with their model runs and their parent ``kedro run``, so that a
    finished-looking run really finished. Runs of a process still running are left alone."""
    client = mlflow.MlflowClient()
    active = mlflow.active_run()
    experiments = [active.info.experiment_id] if active else None

    def running(filter_string: str) -> list:
        return mlflow.search_runs(
            experiment_ids=experiments,
            filter_string=f"{filter_string} and attributes.status = 'RUNNING'",
            order_by=["attributes.start_time DESC"],
            output_format="list",
        )

    interrupted = [run for run in running(f"tags.backbone = '{backbone}'") if _process_gone(run)]
    for run in interrupted:
        children = running(f"tags.mlflow.parentRunId = '{run.info.run_id}'")
        for killed in [run, *children]:
            client.set_terminated(killed.info.run_id, "KILLED")
        parent = run.data.tags.get("mlflow.parentRunId")
        is_other_parent = parent and parent != (active and active.info.run_id)
        if is_other_parent and client.get_run(parent).info.status == "RUNNING":
            client.set_terminated(parent, "KILLED")
    return [run.info.run_id for run in interrupted]


def source_commit() -> str:
    """The git commit of the project being run, or "unknown" outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip()


def register_model(
    model_id: str,
    name: str,
    tags: dict[str, str],
    holdout_kl: float,
    alias: str,
    descriptions: tuple[str, str],
) -> str:
    """Register a logged model as a new version of ``name`` and point ``alias`` at it when
    it has the best held-out KL of the versions trained on the same data set (tag
    ``data_set``): a champion of other data was judged on other patients. The registered
    model and the version get ``descriptions`` (what the model is; what this version
    scored, on what). Returns the version."""
    client = mlflow.MlflowClient()
    version = mlflow.register_model(
        f"models:/{model_id}", name, tags={**tags, "holdout_kl_all": repr(holdout_kl)}
    ).version
    client.update_registered_model(name, description=descriptions[0])
    client.update_model_version(name, version, description=descriptions[1])
    try:
        champion = client.get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:  # no champion yet
        champion = None
    if (
        champion is None
        or champion.tags.get("data_set") != tags["data_set"]
        or holdout_kl < float(champion.tags["holdout_kl_all"])
    ):
        client.set_registered_model_alias(name, alias, version)
    return version
