"""Thin glue: train one backbone in its own nested MLflow run."""

import logging
import time

import keras
import mlflow
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba.distributed import weights_digest
from eeg_hba.models import build_model, use_mixed_precision_if_gpu
from eeg_hba.plots import training_curve
from eeg_hba.tracking import MlflowEpochLogger, end_interrupted_runs, log_keras_model
from eeg_hba.training import TrainingConfig, distribution_strategy, fit_two_stages

logger = logging.getLogger(__name__)


def train_backbone(
    index: pd.DataFrame, shards: dict, preprocessing: dict, defaults: dict, overrides: dict
) -> tuple[keras.Model, pd.DataFrame, Figure, dict]:
    """Train, log params, per-epoch metrics, the curve and the model to a run named after
    the backbone; a failure ends that run as FAILED, a killed run is marked KILLED by the
    next one, which resumes its training (tag ``resumed_from``)."""
    image = {k: preprocessing["features"][k] for k in ("image_height", "image_width")}
    config = TrainingConfig.from_params({**defaults, **image}, overrides)
    keras.utils.set_random_seed(config.seed)
    policy = use_mixed_precision_if_gpu(config.mixed_precision)
    interrupted = end_interrupted_runs(config.backbone)
    with mlflow.start_run(run_name=config.backbone, nested=True) as run:
        mlflow.set_tag("backbone", config.backbone)
        if interrupted and config.backup_path and config.backup_path.exists():
            mlflow.set_tag("resumed_from", interrupted[0])  # it continues that run's epochs
        mlflow.log_params({**config.as_flat_dict(), "precision_policy": policy})
        strategy = distribution_strategy(config.distribution)
        with strategy.scope():  # the model's variables live on the strategy's devices
            model = build_model(
                config.backbone,
                config.image_height,
                config.image_width,
                config.weights,
                config.dropout,
                config.batch_norm_momentum,
            )
        mlflow.log_param("replicas", strategy.num_replicas_in_sync)
        mlflow.log_param("parameter_count", model.count_params())
        logger.info(
            "Training %s (%d parameters, %s)", config.backbone, model.count_params(), policy
        )
        started = time.perf_counter()
        history = fit_two_stages(model, shards, index, config, callbacks=[MlflowEpochLogger()])
        seconds = time.perf_counter() - started
        logger.info(  # the same on every worker of a multi-worker training
            "Trained %s in %.0f s, weights digest %s",
            config.backbone, seconds, weights_digest(model.get_weights()),
        )  # fmt: skip
        mlflow.log_metric("training_seconds", seconds)
        figure = training_curve(history, f"{config.backbone}: KL divergence per epoch")
        mlflow.log_figure(figure, "training_curve.png")
        log_keras_model(model)
    summary = {
        "backbone": config.backbone,
        "mlflow_run_id": run.info.run_id,
        "parameter_count": int(model.count_params()),
        "training_seconds": seconds,
        "epochs": len(history),
        "best_val_loss": float(history["val_loss"].min()),
    }
    return model, history, figure, summary
