"""Thin glue: fit the classical baseline per seed and fold in its own MLflow run."""

import logging
import time
from collections.abc import Callable

import mlflow
import numpy as np
import pandas as pd

from eeg_hba.evaluation.scores import mean_over_folds
from eeg_hba.hms.prediction_table import mean_over_images
from eeg_hba.preprocessing.shards import gather
from eeg_hba.preprocessing.splits import fold_rows, holdout_rows, model_runs
from eeg_hba.preprocessing.window_features import FEATURE_NAMES
from eeg_hba.training.classical import ClassicalModel, SoftTargetClassifier

logger = logging.getLogger(__name__)
NAME = "classical"


def train_classical(
    index: pd.DataFrame,
    shards: dict[str, Callable[[], dict[str, np.ndarray]]],
    training: dict,
    params: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, float, dict, ClassicalModel]:
    """One classifier per training seed and validation fold, as the backbones train (on
    every image window, with its own targets): out-of-fold predictions, held-out
    predictions (mean over each seed's folds; each EEG's the mean over its windows), the
    held-out prediction throughput (EEGs per second), a summary (logged as a nested
    MLflow run named ``classical``) and the classifiers as one model, an ensemble member."""
    index = index.reset_index(drop=True)  # row labels are positions in ``features``
    features, targets = gather(index, shards, "features"), gather(index, shards, "targets")
    runs = model_runs(training["seed"], training["seeds"], training["folds"])
    validation, holdout, classifiers, predicting_seconds = [], [], [], 0.0
    with mlflow.start_run(run_name=NAME, nested=True) as run:
        mlflow.set_tag("kind", "classical baseline")
        mlflow.log_params({**params, "features": len(FEATURE_NAMES),
                           "seeds": training["seeds"], "folds": training["folds"]})  # fmt: skip
        started = time.perf_counter()
        for model_run in runs:
            train, fold = fold_rows(index, model_run.fold)
            classifier = SoftTargetClassifier(**params, seed=model_run.seed).fit(
                features[train.index], targets[train.index]
            )
            classifiers.append(classifier)
            labels = {"seed": model_run.seed, "fold": model_run.fold}
            predicted = classifier.predict_proba(features[fold.index])
            validation.append(mean_over_images(fold["eeg_id"], predicted).assign(**labels))
            held_out = holdout_rows(index)
            timer = time.perf_counter()
            predicted = classifier.predict_proba(features[held_out.index])
            predicting_seconds += time.perf_counter() - timer
            holdout.append(mean_over_images(held_out["eeg_id"], predicted).assign(**labels))
        seconds = time.perf_counter() - started
        mlflow.log_metric("training_seconds", seconds)
    logger.info("Classical baseline (%s): %d model runs in %.1f s", params["kind"], len(runs),
                seconds)  # fmt: skip
    summary = {
        "model": NAME,
        "kind": "classical baseline",
        "mlflow_run_id": run.info.run_id,
        "parameter_count": None,
        "training_seconds": seconds,
        "model_runs": [r.name for r in runs],
    }
    holdout_predictions = pd.concat(holdout, ignore_index=True)
    throughput = len(holdout_predictions) / predicting_seconds
    return (
        pd.concat(validation, ignore_index=True),
        mean_over_folds(holdout_predictions),
        throughput,
        summary,
        ClassicalModel(classifiers),
    )
