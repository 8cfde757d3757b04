"""The prediction table: ``eeg_id`` + six probabilities under the submission's column
names (``seed`` too when a model trained once per seed). What every model, baseline and
the ensemble produce, what scoring reads and what ``submission.csv`` holds. No Kedro
imports; numpy and pandas only.
"""

import numpy as np
import pandas as pd

from eeg_hba.hms.layout import VOTE_COLUMNS

PREDICTION_COLUMNS = VOTE_COLUMNS  # predictions use the submission's column names


def as_prediction_table(eeg_ids: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """``eeg_id`` + six probabilities renormalised in float64 (softmax in float32 drifts)."""
    values = np.asarray(probabilities, dtype=np.float64)
    values = values / values.sum(axis=1, keepdims=True)
    table = pd.DataFrame(values, columns=list(PREDICTION_COLUMNS))
    table.insert(0, "eeg_id", np.asarray(eeg_ids, dtype=np.int64))
    return table


def mean_over_images(eeg_ids: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """A prediction table of one row per eeg_id, in order of first appearance: the mean of
    the probabilities of its images (one per run of sub-windows the pass cut)."""
    frame = pd.DataFrame(np.asarray(probabilities, dtype=np.float64))
    mean = frame.groupby(np.asarray(eeg_ids, dtype=np.int64), sort=False).mean()
    return as_prediction_table(mean.index.to_numpy(), mean.to_numpy())


def aligned(
    label_table: pd.DataFrame, predictions: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Label rows and prediction values in the same eeg_id order; every row predicted once."""
    rows = label_table.set_index("eeg_id")
    predicted = predictions.set_index("eeg_id")
    missing = rows.index.difference(predicted.index)
    if len(missing) or not predicted.index.is_unique:
        raise ValueError(
            "predictions must cover each evaluated eeg_id exactly once; "
            f"missing {missing[:5].tolist()}"
        )
    return rows, predicted.loc[rows.index, list(PREDICTION_COLUMNS)].to_numpy(np.float64)
