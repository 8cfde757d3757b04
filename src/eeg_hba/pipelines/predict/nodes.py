"""Thin glue: predict the submission set with the ensemble or one backbone, Kaggle's format."""

import logging

import pandas as pd

from eeg_hba.prediction import Member, predict_submission

logger = logging.getLogger(__name__)


def make_submission(
    test_windows: pd.DataFrame,
    index: pd.DataFrame,
    shards: dict,
    ensemble_weights: dict[str, float],
    params: dict,
    **models: Member,
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
    submission = predict_submission(
        test_windows, index, shards, models, weights, params["batch_size"]
    )
    logger.info("Predicted %d test EEGs with %s", len(submission), chosen)
    return submission
