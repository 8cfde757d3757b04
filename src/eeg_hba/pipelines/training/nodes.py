"""Thin glue: train one backbone's models in MLflow runs nested under the backbone's run."""

import logging
import time
from collections.abc import Callable

import keras
import mlflow
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba.distributed import weights_digest
from eeg_hba.inputs import example_inputs, stored_shape
from eeg_hba.labels import model_runs
from eeg_hba.models import (
    SIGNAL_NETWORKS,
    average_models,
    input_key,
    use_mixed_precision_if_gpu,
)
from eeg_hba.plots import training_curve
from eeg_hba.tracking import (
    MlflowEpochLogger,
    end_interrupted_runs,
    log_keras_model,
    process_tags,
)
from eeg_hba.training import (
    TrainingConfig,
    class_prior_validation_kl,
    distribution_strategy,
    train_model_run,
    training_backup,
)

logger = logging.getLogger(__name__)


def train_backbone(
    index: pd.DataFrame, shards: dict, defaults: dict, overrides: dict
) -> tuple[keras.Model, dict[str, Callable[[], keras.Model]], pd.DataFrame, Figure, dict]:
    """Train one model per seed and fold, each in an MLflow run nested under a run named
    after the backbone (params, per-epoch metrics), and their average: the backbone's
    model. A failure ends the runs as FAILED; a killed run is marked KILLED by the next
    one, which resumes its training (tag ``resumed_from``)."""
    config = TrainingConfig.from_params(defaults, overrides)
    shape = stored_shape(shards, input_key(config.backbone))
    policy = use_mixed_precision_if_gpu(config.mixed_precision)
    strategy = distribution_strategy(config.distribution)
    interrupted = end_interrupted_runs(config.backbone)
    models, histories = {}, []
    with (
        mlflow.start_run(run_name=config.backbone, nested=True) as run,
        training_backup(config, len(index)) as backup,
    ):
        mlflow.set_tags({"backbone": config.backbone, **process_tags()})
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
                model, history = train_model_run(
                    model_run, shards, index, shape, config, strategy, backup,
                    callbacks=[MlflowEpochLogger()],
                )  # fmt: skip
            models[model_run.name] = model
            histories.append(history)
        seconds = time.perf_counter() - started
        history = pd.concat(histories, ignore_index=True)
        parameter_count = int(next(iter(models.values())).count_params())
        mlflow.log_param("parameter_count", parameter_count)
        mlflow.log_metric("training_seconds", seconds)
        class_prior = {fold: class_prior_validation_kl(shards, index, fold)
                       for fold in sorted(history["fold"].unique())}  # fmt: skip
        figure = training_curve(
            history, f"{config.backbone}: KL divergence per epoch", class_prior
        )
        mlflow.log_figure(figure, "training_curve.png")
        model = average_models(models, config.backbone)
        logger.info(  # the same on every worker of a multi-worker training
            "Trained %s in %.0f s, weights digest %s",
            config.backbone, seconds, weights_digest(model.get_weights()),
        )  # fmt: skip
        model_id = log_keras_model(model, example_inputs(shards, model), name=config.backbone)
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
