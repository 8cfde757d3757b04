"""A band-power + logistic-regression baseline, to show how much of the synthetic task
coarse spectral averages can learn (tests/test_synthetic.py).

Features of each EEG's given 600 s spectrogram window (4 regions x 100 bins x 300 frames):
log mean power of each region in the delta, theta, alpha and beta bands over the central
20 s and over the whole window, and the central theta/delta, alpha/delta and beta/delta
log ratios per region (44 features). A multinomial logistic regression learns the vote
distribution by sample-weight expansion (each EEG once per class, weighted by its vote
share), out of fold over patient-grouped folds.
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from eeg_hba.evaluation.metrics import kl_divergence
from eeg_hba.hms.layout import SPECTROGRAM_FREQUENCIES, TARGET_COLUMNS

BANDS_HZ = {"delta": (0.5, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 20.0)}
CENTRAL_FRAMES = slice(145, 155)  # the 20 s around the window's centre (2 s frames)


def band_power_features(window: np.ndarray) -> np.ndarray:
    """(4 regions, 100 bins, 300 frames) power -> 44 features."""
    frequencies = np.asarray(SPECTROGRAM_FREQUENCIES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN stretches
        central = [
            np.nanmean(window[:, (frequencies >= lo) & (frequencies < hi), CENTRAL_FRAMES],
                       axis=(1, 2))
            for lo, hi in BANDS_HZ.values()
        ]  # fmt: skip
        whole = [
            np.nanmean(window[:, (frequencies >= lo) & (frequencies < hi), :], axis=(1, 2))
            for lo, hi in BANDS_HZ.values()
        ]
    central_log = np.log(np.stack(central) + 1e-6)  # (4 bands, 4 regions)
    whole_log = np.log(np.stack(whole) + 1e-6)
    ratios = central_log[1:] - central_log[:1]
    return np.concatenate([central_log.ravel(), whole_log.ravel(), ratios.ravel()])


def _fit_predict(train_x, train_y, test_x, c: float) -> np.ndarray:
    """Logistic regression on soft targets: every row once per class, weighted by its share."""
    n_classes = train_y.shape[1]
    x = np.repeat(train_x, n_classes, axis=0)
    labels = np.tile(np.arange(n_classes), len(train_x))
    weights = train_y.ravel()
    keep = weights > 0
    scaler = StandardScaler().fit(train_x)
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(scaler.transform(x[keep]), labels[keep], sample_weight=weights[keep])
    probabilities = np.full((len(test_x), n_classes), 1e-6)
    probabilities[:, model.classes_] = model.predict_proba(scaler.transform(test_x))
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def out_of_fold_scores(
    table: pd.DataFrame,
    features: np.ndarray,
    oracle: np.ndarray,
    folds: int = 5,
    c_values: tuple[float, ...] = (0.01, 0.1, 1.0),
) -> dict[str, float]:
    """KL of the class prior, the band-power model (best C, an optimistic choice) and the
    oracle, out of fold over patient-grouped folds, on all EEGs and on high-vote ones."""
    targets = table[list(TARGET_COLUMNS)].to_numpy(np.float64)
    features = np.where(np.isfinite(features), features, np.nanmedian(features, axis=0))
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=0)
    prior = np.empty_like(targets)
    predictions = {c: np.empty_like(targets) for c in c_values}
    for train_idx, test_idx in splitter.split(features, groups=table["patient_id"]):
        prior[test_idx] = targets[train_idx].mean(axis=0)
        for c in c_values:
            predictions[c][test_idx] = _fit_predict(
                features[train_idx], targets[train_idx], features[test_idx], c
            )
    high = table["high_vote"].to_numpy(bool)
    scores = {}
    for rows, suffix in ((slice(None), "all"), (high, "high_vote")):
        model = min(kl_divergence(targets[rows], p[rows]) for p in predictions.values())
        prior_kl = kl_divergence(targets[rows], prior[rows])
        oracle_kl = kl_divergence(targets[rows], oracle[rows])
        scores |= {
            f"prior_{suffix}": prior_kl,
            f"band_power_{suffix}": model,
            f"oracle_{suffix}": oracle_kl,
            f"gap_closed_{suffix}": (prior_kl - model) / (prior_kl - oracle_kl),
        }
    return scores
