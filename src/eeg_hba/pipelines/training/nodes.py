"""Thin glue: train one backbone's models in MLflow runs nested under the backbone's run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import mlflow
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba import lazy_module
from eeg_hba.evaluation.plots import training_curve
from eeg_hba.preprocessing.splits import model_runs
from eeg_hba.training.model_kinds import SIGNAL_NETWORKS, input_key

# TensorFlow loads when a model trains (or Kedro reads these functions' type hints), not
# when the pipelines are listed or drawn.
keras = lazy_module("keras")
distributed = lazy_module("eeg_hba.training.distributed")
inputs = lazy_module("eeg_hba.training.inputs")
keras_models = lazy_module("eeg_hba.training.models")
tracking = lazy_module("eeg_hba.training.tracking")
two_stage = lazy_module("eeg_hba.training.two_stage")

logger = logging.getLogger(__name__)


def train_backbone(
    index: pd.DataFrame, shards: dict, defaults: dict, overrides: dict
) -> tuple[keras.Model, dict[str, Callable[[], keras.Model]], pd.DataFrame, Figure, dict]:
    """Train one model per seed and fold, each in an MLflow run nested under a run named
    after the backbone (params, per-epoch metrics), and their average: the backbone's
    model. A failure ends the runs as FAILED; a killed run is marked KILLED by the next
    one, which resumes its training (tag ``resumed_from``)."""
    config = two_stage.TrainingConfig.from_params(defaults, overrides)
    shape = inputs.stored_shape(shards, input_key(config.backbone))
    policy = keras_models.use_mixed_precision_if_gpu(config.mixed_precision)
    strategy = two_stage.distribution_strategy(config.distribution)
    interrupted = tracking.end_interrupted_runs(config.backbone)
    models, histories = {}, []
    with (
        mlflow.start_run(run_name=config.backbone, nested=True) as run,
        two_stage.training_backup(config, len(index)) as backup,
    ):
        mlflow.set_tags({"backbone": config.backbone, **tracking.process_tags()})
        if interrupted and any(p.name != "plan.json" for p in backup.iterdir()):
            mlflow.set_tag("resumed_from", interrupted[0])  # it continues that run's epochs
        mlflow.log_params(
            {**config.as_flat_dict(), "precision_policy": policy,
             "replicas": strategy.num_replicas_in_sync, "input_shape": str(shape)}
        )  # fmt: skip
        started = time.perf_counter()
        for model_run in model_runs(config.seed, config.seeds, config.folds):
            with mlflow.start_run(run_name=f"{config.backbone} {model_run.name}", nested=True):
                mlflow.set_tags({"model_run": model_run.name, "seed": model_run.seed,
                                 "fold": model_run.fold})  # fmt: skip
                logger.info("Training %s %s (%s)", config.backbone, model_run.name, policy)
                model, history = two_stage.train_model_run(
                    model_run, shards, index, shape, config, strategy, backup,
                    callbacks=[tracking.MlflowEpochLogger()],
                )  # fmt: skip
            models[model_run.name] = model
            histories.append(history)
        seconds = time.perf_counter() - started
        history = pd.concat(histories, ignore_index=True)
        parameter_count = int(next(iter(models.values())).count_params())
        mlflow.log_param("parameter_count", parameter_count)
        class_prior = {fold: two_stage.class_prior_validation_kl(shards, index, fold)
                       for fold in sorted(history["fold"].unique())}  # fmt: skip
        figure = training_curve(
            history, f"{config.backbone}: KL divergence per epoch", class_prior
        )
        mlflow.log_figure(figure, "training_curve.png")
        model = keras_models.average_models(models, config.backbone)
        logger.info(  # the same on every worker of a multi-worker training
            "Trained %s in %.0f s, weights digest %s",
            config.backbone, seconds, distributed.weights_digest(model.get_weights()),
        )  # fmt: skip
        example = inputs.example_inputs(shards, model)
        model_id = tracking.log_keras_model(model, example, name=config.backbone)
        # the run's own metrics, not linked to its model (whose view shows the held-out KLs)
        tracking.log_run_metrics({"training_seconds": seconds})
        tracking.log_epoch_curves(history)
    summary = {
        "model": config.backbone,
        "kind": "signal network" if config.backbone in SIGNAL_NETWORKS else "backbone",
        "backbone": config.backbone,
        "mlflow_run_id": run.info.run_id,
        "mlflow_model_id": model_id,
        "parameter_count": parameter_count,
        "training_seconds": seconds,
        "model_runs": list(models),
        "epochs": int(history.groupby(["seed", "fold"]).size().mean()),
        "best_val_loss": float(history.groupby(["seed", "fold"])["val_loss"].min().mean()),
    }
    # A PartitionedDataset calls a callable partition to get its data, and a Keras model
    # is callable: each model goes to it behind a loader.
    loaders = {name: (lambda member=member: member) for name, member in models.items()}
    return model, loaders, history, figure, summary
