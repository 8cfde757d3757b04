"""Evaluation on the held-out test split, baselines and the ensemble. No Kedro imports.

Every score is ``eeg_hba.metrics.kl_divergence``, the leaderboard's metric.
"""

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from eeg_hba.hms import CLASSES, TARGET_COLUMNS, VOTE_COLUMNS
from eeg_hba.labels import TEST_SPLIT, TRAIN_SPLIT
from eeg_hba.metrics import kl_divergence, kl_per_row
from eeg_hba.synthetic import oracle_by_eeg

PREDICTION_COLUMNS = VOTE_COLUMNS  # predictions use the submission's column names


def as_prediction_table(eeg_ids: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """``eeg_id`` + six probabilities renormalised in float64 (softmax in float32 drifts)."""
    values = np.asarray(probabilities, dtype=np.float64)
    values = values / values.sum(axis=1, keepdims=True)
    table = pd.DataFrame(values, columns=list(PREDICTION_COLUMNS))
    table.insert(0, "eeg_id", np.asarray(eeg_ids, dtype=np.int64))
    return table


def _aligned(
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


def evaluate(label_table: pd.DataFrame, predictions: pd.DataFrame) -> dict[str, float]:
    """KL on all rows and on high-vote rows, accuracy against the expert consensus, and each
    class's share of the KL (the per-class terms sum to ``kl_all``)."""
    rows, values = _aligned(label_table, predictions)
    targets = rows[list(TARGET_COLUMNS)].to_numpy(np.float64)
    high = rows["high_vote"].to_numpy(bool)
    clipped = np.clip(values, 1e-15, 1 - 1e-15)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(targets > 0, targets * np.log(targets / clipped), 0.0)
    predicted_class = np.asarray(CLASSES)[values.argmax(axis=1)]
    return {
        "kl_all": kl_divergence(targets, values),
        "kl_high_vote": kl_divergence(targets[high], values[high]) if high.any() else float("nan"),
        "accuracy": float((predicted_class == rows["expert_consensus"].to_numpy()).mean()),
        **{f"kl_{name.lower()}": float(terms[:, k].mean()) for k, name in enumerate(CLASSES)},
        "rows": len(rows),
        "high_vote_rows": int(high.sum()),
    }


def confusion_table(label_table: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Counts of expert consensus (rows) against the most probable predicted class (columns)."""
    rows, values = _aligned(label_table, predictions)
    predicted = pd.Categorical(np.asarray(CLASSES)[values.argmax(axis=1)], categories=CLASSES)
    actual = pd.Categorical(rows["expert_consensus"], categories=CLASSES)
    return pd.crosstab(actual, predicted, dropna=False).rename_axis(
        index="expert", columns="predicted"
    )


def reliability_table(
    label_table: pd.DataFrame, predictions: pd.DataFrame, bins: int = 10
) -> pd.DataFrame:
    """Mean predicted probability against mean target share, pooled over classes, per bin."""
    rows, values = _aligned(label_table, predictions)
    predicted = values.ravel()
    observed = rows[list(TARGET_COLUMNS)].to_numpy(np.float64).ravel()
    bin_of = np.minimum((predicted * bins).astype(int), bins - 1)
    table = pd.DataFrame({"bin": bin_of, "predicted": predicted, "observed": observed})
    return table.groupby("bin").agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), count=("observed", "size")
    )


# --- baselines -----------------------------------------------------------------------------


def uniform_baseline(eeg_ids: pd.Series) -> pd.DataFrame:
    """1/6 for every class: the leaderboard's reference point."""
    return as_prediction_table(eeg_ids.to_numpy(), np.full((len(eeg_ids), len(CLASSES)), 1 / 6))


def class_prior_baseline(label_table: pd.DataFrame, eeg_ids: pd.Series) -> pd.DataFrame:
    """The mean target of the training rows, predicted for everyone."""
    prior = label_table.loc[label_table["split"] == TRAIN_SPLIT, list(TARGET_COLUMNS)].mean()
    return as_prediction_table(eeg_ids.to_numpy(), np.tile(prior.to_numpy(), (len(eeg_ids), 1)))


def oracle_baseline(latent: pd.DataFrame, eeg_ids: pd.Series) -> pd.DataFrame | None:
    """The generator's expected vote distributions, collapsed per EEG as the label table
    collapses its sub-windows: the best achievable prediction on synthetic data.

    None when the latent table does not cover every EEG (e.g. real data, no sidecar).
    """
    if latent.empty:
        return None
    per_eeg = oracle_by_eeg(latent)
    if not eeg_ids.isin(per_eeg.index).all():
        return None
    return as_prediction_table(eeg_ids.to_numpy(), per_eeg.loc[eeg_ids].to_numpy())


def test_rows(label_table: pd.DataFrame) -> pd.DataFrame:
    return label_table[label_table["split"] == TEST_SPLIT]


# --- ensemble ------------------------------------------------------------------------------


def fit_ensemble_weights(
    label_table: pd.DataFrame, predictions: dict[str, pd.DataFrame]
) -> dict[str, float]:
    """Non-negative weights summing to 1 that minimise the KL of the weighted average."""
    names = sorted(predictions)
    stacked = []
    for name in names:
        rows, values = _aligned(label_table, predictions[name])
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
    """The weighted average of several prediction tables (same eeg_ids)."""
    names = sorted(weights)
    base = predictions[names[0]].set_index("eeg_id")
    total = sum(
        weights[name]
        * predictions[name].set_index("eeg_id").loc[base.index, list(PREDICTION_COLUMNS)]
        for name in names
    )
    return as_prediction_table(base.index.to_numpy(), total.to_numpy())
