"""The competition metric, exactly as the leaderboard computed it. No Kedro imports.

Targets are votes over their sum (not clipped). Predictions are clipped to
[1e-15, 1 - 1e-15] and not renormalised. A term whose target is 0 contributes 0.
The score is the mean over rows of ``sum_k y_k * log(y_k / p_k)`` (natural log).
"""

import numpy as np
import pandas as pd

from eeg_hba.hms import CLASSES

Table = np.ndarray | pd.DataFrame
CLIP = 1e-15
ROW_SUM_TOLERANCE = 1e-6


def _probability_table(values: Table, name: str) -> np.ndarray:
    table = np.asarray(values, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != len(CLASSES):
        raise ValueError(f"{name} must have shape (n, {len(CLASSES)}), got {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    outside = np.flatnonzero(((table < 0) | (table > 1)).any(axis=1))
    if outside.size:
        raise ValueError(f"{name} rows {outside[:10].tolist()} have values outside [0, 1]")
    off = np.flatnonzero(np.abs(table.sum(axis=1) - 1) > ROW_SUM_TOLERANCE)
    if off.size:
        raise ValueError(
            f"{name} rows {off[:10].tolist()} do not sum to 1 "
            f"(e.g. row {off[0]} sums to {table[off[0]].sum():.6g}); normalise them first"
        )
    return table


def kl_per_row(targets: Table, predictions: Table) -> np.ndarray:
    """Each row's KL divergence of the predictions from the targets."""
    y = _probability_table(targets, "targets")
    p = np.clip(_probability_table(predictions, "predictions"), CLIP, 1 - CLIP)
    if len(y) != len(p):
        raise ValueError(f"targets have {len(y)} rows, predictions {len(p)}")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * np.log(y / p), 0.0)
    return terms.sum(axis=1)


def kl_divergence(targets: Table, predictions: Table) -> float:
    """The leaderboard score: mean KL divergence over rows (lower is better)."""
    return float(kl_per_row(targets, predictions).mean())
