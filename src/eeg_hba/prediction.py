"""Predictions of trained Keras models on model-input windows. No Kedro imports.

Used alike for the out-of-fold and held-out scores, the submission and the served model.
"""

import logging

import keras
import pandas as pd

from eeg_hba.evaluation import as_prediction_table
from eeg_hba.inputs import prediction_order, window_dataset

logger = logging.getLogger(__name__)


def predict_windows(
    model: keras.Model, shards: dict, rows: pd.DataFrame, batch_size: int
) -> pd.DataFrame:
    """``eeg_id`` + six probabilities for ``rows`` of a model-input index, streamed from the
    shards at the image size the model was built for.

    Keras shows a progress bar with an ETA: the dataset knows its number of batches.
    """
    ordered = prediction_order(rows)
    shape = tuple(model.input_shape[1:3])
    dataset = window_dataset(shards, ordered, shape, batch_size, with_targets=False)
    logger.info(
        "Predicting %d windows in %d batches with %s",
        len(ordered), int(dataset.cardinality()), model.name,
    )  # fmt: skip
    probabilities = model.predict(dataset, verbose=1)
    return as_prediction_table(ordered["eeg_id"].to_numpy(), probabilities)
