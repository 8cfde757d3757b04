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
