"""The metric against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest

from eeg_hba.evaluation.metrics import kl_divergence, kl_per_row, kl_terms


def test_perfect_prediction_scores_zero():
    targets = np.array([[0.5, 0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]])
    assert kl_divergence(targets, targets) == pytest.approx(0.0, abs=1e-12)


def test_one_hot_target_scores_minus_log_of_its_prediction():
    targets = np.array([[1.0, 0, 0, 0, 0, 0]])
    uniform = np.full((1, 6), 1 / 6)
    assert kl_divergence(targets, uniform) == pytest.approx(math.log(6))


def test_zero_target_terms_contribute_nothing():
    targets = np.array([[0.25, 0.75, 0, 0, 0, 0]])
    predictions = np.array([[0.5, 0.25, 0.25, 0, 0, 0]])  # zeros where targets are zero too
    expected = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.25)
    assert kl_divergence(targets, predictions) == pytest.approx(expected)


def test_exact_zero_and_one_predictions_are_clipped_not_renormalised():
    targets = np.array([[0.5, 0.5, 0, 0, 0, 0]])
    predictions = np.array([[1.0, 0.0, 0, 0, 0, 0]])
    # p = (1 - 1e-15, 1e-15, ...): the second term is 0.5 * log(0.5 / 1e-15)
    expected = 0.5 * math.log(0.5 / (1 - 1e-15)) + 0.5 * math.log(0.5 / 1e-15)
    assert kl_divergence(targets, predictions) == pytest.approx(expected, rel=1e-12)


def test_mean_over_rows_and_dataframes_accepted():
    targets = pd.DataFrame([[1.0, 0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]])
    predictions = pd.DataFrame([[0.5, 0.5, 0, 0, 0, 0], [0, 1.0, 0, 0, 0, 0]])
    np.testing.assert_allclose(kl_per_row(targets, predictions), [math.log(2), 0.0], atol=1e-12)
    assert kl_divergence(targets, predictions) == pytest.approx(math.log(2) / 2)


@pytest.mark.parametrize(
    ("targets", "predictions", "message"),
    [
        ([[3, 1, 0, 0, 0, 0]], [[1 / 6] * 6], r"targets rows \[0\] have values outside|targets rows \[0\] do not sum to 1"),
        ([[0.5, 0.4, 0, 0, 0, 0]], [[1 / 6] * 6], r"targets rows \[0\] do not sum to 1 \(e.g. row 0 sums to 0.9\)"),
        ([[1, 0, 0, 0, 0, 0]], [[0.5, 0.2, 0, 0, 0, 0]], r"predictions rows \[0\] do not sum to 1"),
        ([[1, 0, 0, 0, 0, 0]], [[1, 0, 0, 0, 0]], r"predictions must have shape \(n, 6\)"),
        ([[1, 0, 0, 0, 0, 0]], [[np.nan, 1, 0, 0, 0, 0]], "predictions contains NaN"),
    ],
)  # fmt: skip
def test_invalid_tables_are_rejected(targets, predictions, message):
    with pytest.raises(ValueError, match=message):
        kl_divergence(np.array(targets, dtype=float), np.array(predictions, dtype=float))


def test_rows_within_the_leaderboards_allclose_tolerance_are_accepted():
    targets = np.array([[0.5, 0.5, 0, 0, 0, 0]])
    almost = np.array([[0.5 + 5e-6, 0.5, 0, 0, 0, 0]])  # sums to 1 + 5e-6: np.allclose says 1
    assert kl_divergence(targets, almost) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match=r"predictions rows \[0\] do not sum to 1"):
        kl_divergence(targets, np.array([[0.5 + 1e-4, 0.5, 0, 0, 0, 0]]))


def test_empty_tables_are_rejected():
    with pytest.raises(ValueError, match="targets has no rows"):
        kl_divergence(np.empty((0, 6)), np.empty((0, 6)))


def test_terms_are_the_per_class_shares_of_each_rows_kl():
    targets = np.array([[0.25, 0.75, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]])
    predictions = np.array([[0.5, 0.25, 0.25, 0, 0, 0], [0.5, 0, 0, 0, 0, 0.5]])
    terms = kl_terms(targets, predictions)
    expected_first = [0.25 * math.log(0.25 / 0.5), 0.75 * math.log(0.75 / 0.25), 0, 0, 0, 0]
    np.testing.assert_allclose(terms[0], expected_first, atol=1e-12)
    np.testing.assert_allclose(terms[1], [0, 0, 0, 0, 0, math.log(2)], atol=1e-12)
    np.testing.assert_allclose(terms.sum(axis=1), kl_per_row(targets, predictions))
