"""Scores on the held-out split with patient-level intervals, and the baselines.

No Kedro imports. Every score is ``eeg_hba.evaluation.metrics``' leaderboard KL. A prediction table
is ``eeg_id`` + the six submission columns, and ``seed`` when a model trained once per
seed. Held-out patients are few, so every score carries a 95 % interval from a bootstrap
over patients, and "A beats B" is a paired bootstrap of the per-EEG differences: its
interval must exclude zero. Seeds show how much a score moves with the training seed
alone (the split is fixed); intervals show how much it would move with other patients.
"""

import numpy as np
import pandas as pd

from eeg_hba.evaluation.metrics import kl_divergence, kl_per_row, kl_terms
from eeg_hba.hms.layout import CLASSES, TARGET_COLUMNS
from eeg_hba.hms.prediction_table import PREDICTION_COLUMNS, aligned, as_prediction_table
from eeg_hba.preprocessing.splits import TRAIN_SPLIT, holdout_rows

CONFIDENCE = 0.95


def evaluate(label_table: pd.DataFrame, predictions: pd.DataFrame) -> dict[str, float]:
    """KL on all rows and on high-vote rows, accuracy against the expert consensus, and each
    class's share of the KL (the per-class terms sum to ``kl_all``)."""
    rows, values = aligned(label_table, predictions)
    targets = rows[list(TARGET_COLUMNS)].to_numpy(np.float64)
    high = rows["high_vote"].to_numpy(bool)
    terms = kl_terms(targets, values)
    predicted_class = np.asarray(CLASSES)[values.argmax(axis=1)]
    return {
        "kl_all": float(terms.sum(axis=1).mean()),
        "kl_high_vote": kl_divergence(targets[high], values[high]) if high.any() else float("nan"),
        "accuracy": float((predicted_class == rows["expert_consensus"].to_numpy()).mean()),
        **{f"kl_{name.lower()}": float(terms[:, k].mean()) for k, name in enumerate(CLASSES)},
        "rows": len(rows),
        "high_vote_rows": int(high.sum()),
    }


def row_kl(label_table: pd.DataFrame, predictions: pd.DataFrame) -> pd.Series:
    """Each labelled EEG's KL, indexed by eeg_id in the label table's order."""
    rows, values = aligned(label_table, predictions)
    return pd.Series(kl_per_row(rows[list(TARGET_COLUMNS)], values), index=rows.index)


def confusion_table(label_table: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Counts of expert consensus (rows) against the most probable predicted class (columns)."""
    rows, values = aligned(label_table, predictions)
    predicted = pd.Categorical(np.asarray(CLASSES)[values.argmax(axis=1)], categories=CLASSES)
    actual = pd.Categorical(rows["expert_consensus"], categories=CLASSES)
    return pd.crosstab(actual, predicted, dropna=False).rename_axis(
        index="expert", columns="predicted"
    )


def reliability_table(
    label_table: pd.DataFrame, predictions: pd.DataFrame, bins: int = 10
) -> pd.DataFrame:
    """Mean predicted probability against mean target share, pooled over classes, per bin."""
    rows, values = aligned(label_table, predictions)
    predicted = values.ravel()
    observed = rows[list(TARGET_COLUMNS)].to_numpy(np.float64).ravel()
    bin_of = np.minimum((predicted * bins).astype(int), bins - 1)
    table = pd.DataFrame({"bin": bin_of, "predicted": predicted, "observed": observed})
    return table.groupby("bin").agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), count=("observed", "size")
    )


# --- seeds and patient-level intervals ----------------------------------------------------


def by_seed(predictions: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """A prediction table split by training seed (one entry, seed 0, if it has none)."""
    if "seed" not in predictions:
        return {0: predictions}
    return {
        int(seed): rows.drop(columns="seed")
        for seed, rows in predictions.groupby("seed", sort=True)
    }


def mean_over_folds(predictions: pd.DataFrame) -> pd.DataFrame:
    """Each seed's prediction per eeg_id: the mean of its fold models' predictions."""
    mean = (
        predictions.groupby(["seed", "eeg_id"], sort=True)[list(PREDICTION_COLUMNS)]
        .mean()
        .reset_index()
    )
    table = as_prediction_table(mean["eeg_id"].to_numpy(), mean[list(PREDICTION_COLUMNS)])
    table.insert(1, "seed", mean["seed"].to_numpy(np.int64))
    return table


def mean_over_seeds(predictions: pd.DataFrame) -> pd.DataFrame:
    """One prediction per eeg_id: the mean of the seeds' predictions."""
    if "seed" not in predictions:
        return predictions
    mean = predictions.drop(columns="seed").groupby("eeg_id", sort=False).mean()
    return as_prediction_table(mean.index.to_numpy(), mean.to_numpy())


def patient_bootstrap_means(
    values: pd.Series, patients: pd.Series, resamples: int, seed: int
) -> np.ndarray:
    """Means of ``values`` over ``resamples`` resamplings of whole patients, with
    replacement: rows of one patient are not independent, so they move together."""
    codes, unique = pd.factorize(patients.to_numpy())
    sums = np.bincount(codes, weights=values.to_numpy(np.float64), minlength=len(unique))
    counts = np.bincount(codes, minlength=len(unique)).astype(np.float64)
    # how often each patient is drawn in each resample of len(unique) patients
    weights = np.random.default_rng(seed).multinomial(
        len(unique), np.full(len(unique), 1 / len(unique)), size=resamples
    )
    return (weights @ sums) / (weights @ counts)


def interval(means: np.ndarray) -> tuple[float, float]:
    """The central ``CONFIDENCE`` percentile interval of bootstrap means."""
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_verdict(low: float, high: float) -> str:
    """From the interval of (A's KL - B's KL): does A beat B?"""
    if high < 0:
        return "yes"
    if low > 0:
        return "no (worse)"
    return "tie"


def seed_summary(label_table: pd.DataFrame, predictions: pd.DataFrame) -> dict[str, float]:
    """``evaluate`` per seed, then each metric's mean and (over several seeds) its ``_sd``."""
    per_seed = pd.DataFrame(
        [evaluate(label_table, rows) for rows in by_seed(predictions).values()]
    )
    summary = per_seed.mean().to_dict()
    summary.update({f"{k}_sd": float(v) for k, v in per_seed.std(ddof=1).fillna(0.0).items()
                    if k.startswith(("kl_all", "kl_high_vote", "accuracy"))})  # fmt: skip
    summary["seeds"] = len(per_seed)
    return summary


def seed_mean_row_kl(label_table: pd.DataFrame, predictions: pd.DataFrame) -> pd.Series:
    """Each labelled EEG's KL averaged over the seeds' predictions, by eeg_id."""
    per_seed = [row_kl(label_table, rows) for rows in by_seed(predictions).values()]
    return pd.concat(per_seed, axis=1).mean(axis=1)


def prediction_spread(predictions: pd.DataFrame) -> dict[str, float | str]:
    """How much a model's predictions (mean over seeds) vary between EEGs: its lowest and
    highest top probability, and the classes it predicts (the most probable class of each
    EEG, counted, most frequent first). A model that learned nothing predicts about the
    same distribution for every EEG."""
    probabilities = mean_over_seeds(predictions)[list(PREDICTION_COLUMNS)].to_numpy()
    top = probabilities.max(axis=1)
    predicted = pd.Series(np.asarray(CLASSES)[probabilities.argmax(axis=1)]).value_counts()
    return {
        "top_probability_min": float(top.min()),
        "top_probability_max": float(top.max()),
        "predicted_classes": ", ".join(f"{name} {count}" for name, count in predicted.items()),
    }


def score_model(
    label_table: pd.DataFrame,
    predictions: pd.DataFrame,
    references: dict[str, pd.DataFrame],
    resamples: int,
    seed: int,
) -> dict[str, float | str]:
    """Held-out scores of one model: ``evaluate``'s metrics (mean over seeds, ``_sd`` over
    seeds), 95 % patient intervals of both KLs, and for each reference model (e.g. the
    classical baseline, the class prior) the paired-bootstrap verdict ``beats_<name>``
    with the interval of the mean KL difference; and ``prediction_spread``. Intervals and
    paired tests use each EEG's KL averaged over the seeds."""
    rows = holdout_rows(label_table)
    by_eeg = rows.set_index("eeg_id")
    scores: dict[str, float | str] = seed_summary(rows, predictions)
    scores.update(prediction_spread(predictions[predictions["eeg_id"].isin(rows["eeg_id"])]))
    per_eeg = seed_mean_row_kl(rows, predictions)

    def bootstrap(values: pd.Series) -> tuple[float, float]:
        patients = by_eeg.loc[values.index, "patient_id"]
        return interval(patient_bootstrap_means(values, patients, resamples, seed))

    scores["kl_all_ci_low"], scores["kl_all_ci_high"] = bootstrap(per_eeg)
    high = per_eeg[by_eeg.loc[per_eeg.index, "high_vote"].to_numpy(bool)]
    if not high.empty:
        scores["kl_high_vote_ci_low"], scores["kl_high_vote_ci_high"] = bootstrap(high)
    for name, reference in references.items():
        difference = per_eeg - seed_mean_row_kl(rows, reference)
        low, high_end = bootstrap(difference)
        scores[f"kl_difference_vs_{name}"] = float(difference.mean())
        scores[f"kl_difference_vs_{name}_ci_low"] = low
        scores[f"kl_difference_vs_{name}_ci_high"] = high_end
        scores[f"beats_{name}"] = paired_verdict(low, high_end)
    return scores


def out_of_fold_scores(
    label_table: pd.DataFrame, validation_predictions: pd.DataFrame, resamples: int, seed: int
) -> dict[str, float]:
    """``validation_kl``: the KL of each model on its own validation fold (rows it never
    trained on), over every EEG of the trained folds, mean over seeds; with its 95 %
    patient interval from each EEG's KL averaged over the seeds."""
    predictions = validation_predictions.drop(columns="fold")
    rows = label_table[label_table["eeg_id"].isin(predictions["eeg_id"])]
    per_eeg = seed_mean_row_kl(rows, predictions)
    patients = rows.set_index("eeg_id").loc[per_eeg.index, "patient_id"]
    low, high = interval(patient_bootstrap_means(per_eeg, patients, resamples, seed))
    per_seed = [evaluate(rows, p)["kl_all"] for p in by_seed(predictions).values()]
    return {
        "validation_kl": float(np.mean(per_seed)),
        "validation_kl_ci_low": low,
        "validation_kl_ci_high": high,
        "validation_rows": len(rows),
    }


# --- baselines -----------------------------------------------------------------------------


def uniform_baseline(eeg_ids: pd.Series) -> pd.DataFrame:
    """1/6 for every class: the leaderboard's reference point."""
    return as_prediction_table(eeg_ids.to_numpy(), np.full((len(eeg_ids), len(CLASSES)), 1 / 6))


def class_prior_baseline(label_table: pd.DataFrame, eeg_ids: pd.Series) -> pd.DataFrame:
    """The mean target of the training rows, predicted for everyone."""
    prior = label_table.loc[label_table["split"] == TRAIN_SPLIT, list(TARGET_COLUMNS)].mean()
    return as_prediction_table(eeg_ids.to_numpy(), np.tile(prior.to_numpy(), (len(eeg_ids), 1)))
