"""Predictions of the ensemble's members (trained Keras models and the classical baseline)
on model-input windows. No Kedro imports.

Used alike for the out-of-fold and held-out scores, the submission and the served model.
"""

import logging
from typing import Protocol, TypeAlias

import keras
import numpy as np
import pandas as pd

from eeg_hba.evaluation.ensemble import blend
from eeg_hba.hms.contract import validate_submission
from eeg_hba.hms.layout import SUBMISSION_COLUMNS
from eeg_hba.hms.prediction_table import mean_over_images
from eeg_hba.preprocessing.shards import gather
from eeg_hba.training.inputs import keras_verbosity, model_input, prediction_order, window_dataset


class FeatureModel(Protocol):
    """The classical baseline as an ensemble member (``eeg_hba.training.classical.
    ClassicalModel``, not imported here: scikit-learn loads only where it is built or
    loaded): probabilities from the window features."""

    def predict_proba(self, features: np.ndarray) -> np.ndarray: ...


#: An ensemble member: a Keras model (a backbone from the images, the 1-D model from the
#: signals) or the classical baseline (from the features).
Member: TypeAlias = keras.Model | FeatureModel

logger = logging.getLogger(__name__)


def predict_windows(
    model: Member, shards: dict, rows: pd.DataFrame, batch_size: int
) -> pd.DataFrame:
    """``eeg_id`` + six probabilities for the EEGs of ``rows`` of a model-input index,
    streamed from the shards (what a Keras model reads, in the shape it was built for; the
    classical baseline's features): the mean over each EEG's windows.

    Keras shows a progress bar with an ETA: the dataset knows its number of batches.
    """
    ordered = prediction_order(rows)
    if not isinstance(model, keras.Model):  # the classical baseline
        probabilities = model.predict_proba(gather(ordered, shards, "features"))
        return mean_over_images(ordered["eeg_id"].to_numpy(), probabilities)
    dataset = window_dataset(shards, ordered, model_input(model), batch_size, with_targets=False)
    logger.info(
        "Predicting %d windows in %d batches with %s",
        len(ordered), int(dataset.cardinality()), model.name,
    )  # fmt: skip
    probabilities = model.predict(dataset, verbose=keras_verbosity())
    return mean_over_images(ordered["eeg_id"].to_numpy(), probabilities)


def predict_submission(
    test_windows: pd.DataFrame,
    index: pd.DataFrame,
    shards: dict,
    models: dict[str, Member],
    weights: dict[str, float],
    batch_size: int,
) -> pd.DataFrame:
    """One row per ``test_windows`` eeg_id, in its order: ``eeg_id`` + six probabilities,
    the ``weights`` blend of ``models`` (one of weight 0 is not run), checked as a
    submission. What ``kedro run --pipelines=predict`` writes and the served model returns.
    """
    predictions = {
        name: predict_windows(models[name], shards, index, batch_size)
        for name, weight in weights.items()
        if weight > 0
    }
    blended = blend(predictions, {name: weights[name] for name in predictions})
    submission = blended.set_index("eeg_id").loc[test_windows["eeg_id"]].reset_index()
    return validate_submission(submission[list(SUBMISSION_COLUMNS)], "submission.csv")
