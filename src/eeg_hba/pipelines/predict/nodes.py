"""Thin glue: predict test windows with the ensemble or one backbone, in Kaggle's format."""

import logging

import keras
import pandas as pd

from eeg_hba.contract import validate_submission
from eeg_hba.evaluation import blend
from eeg_hba.hms import SUBMISSION_COLUMNS
from eeg_hba.pipelines.evaluation.nodes import BACKBONE_NAMES, predict_rows

logger = logging.getLogger(__name__)


def make_submission(
    test_windows: pd.DataFrame,
    index: pd.DataFrame,
    shards: dict,
    ensemble_weights: dict[str, float],
    params: dict,
    preprocessing: dict,
    *models: keras.Model,
) -> pd.DataFrame:
    """One row per test eeg_id, in test.csv's order: ``eeg_id`` + six probabilities."""
    chosen = params["model"]
    if chosen != "ensemble" and chosen not in BACKBONE_NAMES:
        raise ValueError(
            f"predict.model must be 'ensemble' or one of {BACKBONE_NAMES}, got {chosen!r}"
        )
    weights = ensemble_weights if chosen == "ensemble" else {chosen: 1.0}
    shape = (preprocessing["features"]["image_height"], preprocessing["features"]["image_width"])
    by_name = dict(zip(BACKBONE_NAMES, models, strict=True))
    predictions = {
        name: predict_rows(by_name[name], shards, index, shape, params["batch_size"])
        for name, weight in weights.items()
        if weight > 0
    }
    blended = blend(predictions, {name: weights[name] for name in predictions})
    submission = blended.set_index("eeg_id").loc[test_windows["eeg_id"]].reset_index()
    logger.info("Predicted %d test EEGs with %s", len(submission), chosen)
    return validate_submission(submission[list(SUBMISSION_COLUMNS)], "submission.csv")
