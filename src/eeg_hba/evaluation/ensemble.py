"""The ensemble: non-negative weights over the models' predictions, fitted on out-of-fold
predictions, and the blend those weights make (what ``predict`` writes and the served model
returns). No Kedro imports.
"""

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from eeg_hba.evaluation.metrics import kl_per_row
from eeg_hba.hms.layout import TARGET_COLUMNS
from eeg_hba.hms.prediction_table import PREDICTION_COLUMNS, aligned, as_prediction_table


def fit_ensemble_weights(
    label_table: pd.DataFrame, predictions: dict[str, pd.DataFrame]
) -> dict[str, float]:
    """Non-negative weights summing to 1 that minimise the KL of the weighted average."""
    names = sorted(predictions)
    stacked = []
    for name in names:
        rows, values = aligned(label_table, predictions[name])
        stacked.append(values)
    targets = rows[list(TARGET_COLUMNS)].to_numpy(np.float64)
    stacked_array = np.stack(stacked)  # (models, rows, classes)

    def loss(weights: np.ndarray) -> float:
        blended = np.tensordot(weights, stacked_array, axes=1)
        return float(kl_per_row(targets, blended / blended.sum(axis=1, keepdims=True)).mean())

    start = np.full(len(names), 1 / len(names))
    result = minimize(
        loss, start, method="SLSQP", bounds=[(0.0, 1.0)] * len(names),
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
    )  # fmt: skip
    weights = np.clip(result.x, 0.0, None)
    weights = weights / weights.sum()
    return {name: float(w) for name, w in zip(names, weights, strict=True)}


def blend(predictions: dict[str, pd.DataFrame], weights: dict[str, float]) -> pd.DataFrame:
    """The weighted average of several prediction tables (same eeg_ids, and seeds if any)."""
    names = sorted(weights)
    keys = ["eeg_id", "seed"] if "seed" in predictions[names[0]] else ["eeg_id"]
    base = predictions[names[0]].set_index(keys)
    for name in names[1:]:
        if not predictions[name].set_index(keys).index.sort_values().equals(
            base.index.sort_values()
        ):
            raise ValueError(
                f"Cannot blend {name} with {names[0]}: their predictions are not for the "
                f"same {' and '.join(keys)} values (were they trained with the same seeds?)"
            )
    total = sum(
        weights[name]
        * predictions[name].set_index(keys).loc[base.index, list(PREDICTION_COLUMNS)]
        for name in names
    )
    table = as_prediction_table(base.index.get_level_values("eeg_id"), total.to_numpy())
    if "seed" in keys:
        table.insert(1, "seed", base.index.get_level_values("seed").to_numpy())
    return table
