"""MLflow helpers: each backbone trains in its own run nested under the ``kedro run``."""

import tempfile
from pathlib import Path

import keras
import mlflow


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every epoch's losses and learning rate to the active MLflow run."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)


def log_keras_model(model: keras.Model, artifact_path: str = "model") -> None:
    """The trained model as a ``.keras`` artifact of the active run."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{model.name}.keras"
        model.save(path)
        mlflow.log_artifact(str(path), artifact_path=artifact_path)


def end_interrupted_runs(backbone: str) -> list[str]:
    """Runs of ``backbone`` left RUNNING by a killed process, newest first: marked KILLED,
    with their model runs and their parent ``kedro run``, so that a finished-looking run
    really finished."""
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

    interrupted = running(f"tags.backbone = '{backbone}'")
    for run in interrupted:
        children = running(f"tags.mlflow.parentRunId = '{run.info.run_id}'")
        for killed in [run, *children]:
            client.set_terminated(killed.info.run_id, "KILLED")
        parent = run.data.tags.get("mlflow.parentRunId")
        is_other_parent = parent and parent != (active and active.info.run_id)
        if is_other_parent and client.get_run(parent).info.status == "RUNNING":
            client.set_terminated(parent, "KILLED")
    return [run.info.run_id for run in interrupted]
