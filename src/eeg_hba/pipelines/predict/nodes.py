"""Thin glue: predict the submission set with the ensemble or one backbone, Kaggle's format."""

from __future__ import annotations

import logging

import pandas as pd

from eeg_hba import lazy_module

# TensorFlow loads when the ensemble predicts (or Kedro reads this function's type hints),
# not when the pipelines are listed or drawn.
prediction = lazy_module("eeg_hba.serving.prediction")

logger = logging.getLogger(__name__)


def make_submission(
    test_windows: pd.DataFrame,
    index: pd.DataFrame,
    shards: dict,
    ensemble_weights: dict[str, float],
    params: dict,
    **models: prediction.Member,
) -> pd.DataFrame:
    """One row per test.csv eeg_id, in its order: ``eeg_id`` + six probabilities.

    ``models`` are the ensemble's members by name: the backbones (each the average of its
    fold models) and the classical baseline.
    """
    chosen = params["model"]
    if chosen != "ensemble" and chosen not in models:
        raise ValueError(
            f"predict.model must be 'ensemble' or one of {sorted(models)}, got {chosen!r}"
        )
    weights = ensemble_weights if chosen == "ensemble" else {chosen: 1.0}
    submission = prediction.predict_submission(
        test_windows, index, shards, models, weights, params["batch_size"]
    )
    logger.info("Predicted %d test EEGs with %s", len(submission), chosen)
    return submission
