"""The competition metric, exactly as the leaderboard computed it. No Kedro imports.

Targets are votes over their sum (not clipped). Predictions are clipped to
[1e-15, 1 - 1e-15] and not renormalised. A term whose target is 0 contributes 0.
The score is the mean over rows of ``sum_k y_k * log(y_k / p_k)`` (natural log).
Both tables must be probabilities: values in [0, 1], each row summing to 1 within
``np.allclose``'s default tolerance, as the leaderboard checked them.
"""

import numpy as np
import pandas as pd
from scipy.special import rel_entr

from eeg_hba.hms.layout import CLASSES

Table = np.ndarray | pd.DataFrame
CLIP = 1e-15


def _probability_table(values: Table, name: str) -> np.ndarray:
    table = np.asarray(values, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != len(CLASSES):
        raise ValueError(f"{name} must have shape (n, {len(CLASSES)}), got {table.shape}")
    if not len(table):
        raise ValueError(f"{name} has no rows: there is nothing to score")
    if not np.isfinite(table).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    outside = np.flatnonzero(((table < 0) | (table > 1)).any(axis=1))
    if outside.size:
        raise ValueError(f"{name} rows {outside[:10].tolist()} have values outside [0, 1]")
    off = np.flatnonzero(~np.isclose(table.sum(axis=1), 1.0))
    if off.size:
        raise ValueError(
            f"{name} rows {off[:10].tolist()} do not sum to 1 "
            f"(e.g. row {off[0]} sums to {table[off[0]].sum():.6g}); normalise them first"
        )
    return table


def kl_terms(targets: Table, predictions: Table) -> np.ndarray:
    """The metric's terms ``y_k * log(y_k / p_k)``, shape (rows, classes): 0 where y_k = 0.

    Summed over classes they are each row's KL; averaged over rows, each class's share.
    """
    y = _probability_table(targets, "targets")
    p = _probability_table(predictions, "predictions")
    if len(y) != len(p):
        raise ValueError(f"targets have {len(y)} rows, predictions {len(p)}")
    return rel_entr(y, np.clip(p, CLIP, 1 - CLIP))


def kl_per_row(targets: Table, predictions: Table) -> np.ndarray:
    """Each row's KL divergence of the predictions from the targets."""
    return kl_terms(targets, predictions).sum(axis=1)


def kl_divergence(targets: Table, predictions: Table) -> float:
    """The leaderboard score: mean KL divergence over rows (lower is better)."""
    return float(kl_per_row(targets, predictions).mean())
