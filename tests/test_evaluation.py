"""Evaluation, baselines and ensemble against hand-computed answers."""

import math

import numpy as np
import pandas as pd
import pytest

from eeg_hba.evaluation import (
    as_prediction_table,
    blend,
    class_prior_baseline,
    confusion_table,
    evaluate,
    fit_ensemble_weights,
    oracle_baseline,
    uniform_baseline,
)
from eeg_hba.hms import CLASSES, TARGET_COLUMNS
from eeg_hba.synthetic import LATENT_COLUMNS


def _labels(targets: list[list[float]], high=None, split=None) -> pd.DataFrame:
    table = pd.DataFrame(targets, columns=list(TARGET_COLUMNS))
    table.insert(0, "eeg_id", np.arange(len(targets)) + 10)
    table["expert_consensus"] = np.asarray(CLASSES)[np.argmax(targets, axis=1)]
    table["high_vote"] = high if high is not None else [True] * len(targets)
    table["split"] = split if split is not None else ["test"] * len(targets)
    return table


ONE_HOT = [[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]]


def test_evaluate_known_answers():
    labels = _labels(ONE_HOT, high=[True, False])
    predictions = as_prediction_table(
        labels["eeg_id"], [[0.5, 0.5, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0]]
    )
    metrics = evaluate(labels, predictions.iloc[::-1])  # order of the predictions does not matter
    assert metrics["kl_all"] == pytest.approx(math.log(2))
    assert metrics["kl_high_vote"] == pytest.approx(math.log(2))
    assert metrics["accuracy"] == 0.5  # argmax ties go to the first class: Seizure
    assert metrics["kl_seizure"] + metrics["kl_lpd"] == pytest.approx(metrics["kl_all"])
    confusion = confusion_table(labels, predictions)
    assert confusion.loc["Seizure", "Seizure"] == 1 and confusion.loc["LPD", "Seizure"] == 1


def test_missing_predictions_are_an_error():
    labels = _labels(ONE_HOT)
    with pytest.raises(ValueError, match=r"missing \[11\]"):
        evaluate(labels, as_prediction_table([10], [[1.0, 0, 0, 0, 0, 0]]))


def test_baselines():
    labels = _labels(ONE_HOT + ONE_HOT, split=["train", "train", "test", "test"])
    test = labels[labels["split"] == "test"]
    assert evaluate(test, uniform_baseline(test["eeg_id"]))["kl_all"] == pytest.approx(math.log(6))
    prior = class_prior_baseline(labels, test["eeg_id"])  # training rows: half Seizure, half LPD
    assert evaluate(test, prior)["kl_all"] == pytest.approx(math.log(2))
    latent = pd.DataFrame(ONE_HOT * 2, columns=list(LATENT_COLUMNS)).assign(
        eeg_id=labels["eeg_id"], n_votes=3
    )
    assert evaluate(test, oracle_baseline(latent, test["eeg_id"]))["kl_all"] == pytest.approx(
        0, abs=1e-12
    )
    assert oracle_baseline(pd.DataFrame(), test["eeg_id"]) is None


def test_ensemble_weights_find_the_better_model_and_blend():
    labels = _labels(ONE_HOT)
    good = as_prediction_table(labels["eeg_id"], [[0.9, 0.1, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0, 0]])
    bad = as_prediction_table(labels["eeg_id"], [[0.1, 0.9, 0, 0, 0, 0], [0.9, 0.1, 0, 0, 0, 0]])
    weights = fit_ensemble_weights(labels, {"good": good, "bad": bad})
    assert weights["good"] == pytest.approx(1.0, abs=1e-3) and sum(
        weights.values()
    ) == pytest.approx(1)
    half = blend({"good": good, "bad": bad}, {"good": 0.5, "bad": 0.5})
    np.testing.assert_allclose(half.iloc[:, 1:3].to_numpy(), 0.5)
    np.testing.assert_allclose(half.iloc[:, 1:].sum(axis=1), 1.0)
