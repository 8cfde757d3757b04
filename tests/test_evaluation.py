"""Evaluation, intervals, baselines and ensemble against hand-computed answers."""

import math

import numpy as np
import pandas as pd
import pytest

from eeg_hba.evaluation.ensemble import blend, fit_ensemble_weights
from eeg_hba.evaluation.oracle import oracle_baseline
from eeg_hba.evaluation.report import comparison_markdown, comparison_table, verdict
from eeg_hba.evaluation.scores import (
    class_prior_baseline,
    confusion_table,
    evaluate,
    interval,
    out_of_fold_scores,
    paired_verdict,
    patient_bootstrap_means,
    prediction_spread,
    score_model,
    uniform_baseline,
)
from eeg_hba.hms.layout import CLASSES, TARGET_COLUMNS
from eeg_hba.hms.prediction_table import PREDICTION_COLUMNS, as_prediction_table


def _labels(targets: list[list[float]], high=None, split=None, patients=None) -> pd.DataFrame:
    table = pd.DataFrame(targets, columns=list(TARGET_COLUMNS))
    table.insert(0, "eeg_id", np.arange(len(targets)) + 10)
    table["patient_id"] = patients if patients is not None else np.arange(len(targets))
    table["expert_consensus"] = np.asarray(CLASSES)[np.argmax(targets, axis=1)]
    table["high_vote"] = high if high is not None else [True] * len(targets)
    table["split"] = split if split is not None else ["holdout"] * len(targets)
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
    labels = _labels(ONE_HOT + ONE_HOT, split=["train", "train", "holdout", "holdout"])
    holdout = labels[labels["split"] == "holdout"]
    assert evaluate(holdout, uniform_baseline(holdout["eeg_id"]))["kl_all"] == pytest.approx(
        math.log(6)
    )
    prior = class_prior_baseline(labels, holdout["eeg_id"])  # training rows: half Seizure, half LPD
    assert evaluate(holdout, prior)["kl_all"] == pytest.approx(math.log(2))
    oracle = pd.DataFrame(ONE_HOT * 2, columns=list(PREDICTION_COLUMNS), index=labels["eeg_id"])
    assert evaluate(holdout, oracle_baseline(oracle, holdout["eeg_id"]))["kl_all"] == (
        pytest.approx(0, abs=1e-12)
    )
    assert oracle_baseline(pd.DataFrame(), holdout["eeg_id"]) is None


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


def test_blend_keeps_each_seed_apart():
    eeg_ids = [10, 10, 11, 11]
    first = as_prediction_table(eeg_ids, [[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]] * 2)
    second = as_prediction_table(eeg_ids, [[0, 0, 1, 0, 0, 0]] * 4)
    first.insert(1, "seed", [1, 2, 1, 2])
    second.insert(1, "seed", [1, 2, 1, 2])
    blended = blend({"a": first, "b": second}, {"a": 0.5, "b": 0.5}).set_index(["eeg_id", "seed"])
    np.testing.assert_allclose(blended.loc[(10, 1)], [0.5, 0, 0.5, 0, 0, 0])
    np.testing.assert_allclose(blended.loc[(10, 2)], [0, 0.5, 0.5, 0, 0, 0])


def test_blend_refuses_members_trained_with_other_seeds():
    # Three seeds beside one: blending on the one seed would drop the others' predictions.
    eeg_ids = [10, 10, 10]
    three = as_prediction_table(eeg_ids, [[1, 0, 0, 0, 0, 0]] * 3)
    three.insert(1, "seed", [42, 43, 44])
    one = as_prediction_table([10], [[0, 1, 0, 0, 0, 0]])
    one.insert(1, "seed", [42])
    with pytest.raises(ValueError, match="same eeg_id and seed values"):
        blend({"a": one, "b": three}, {"a": 0.5, "b": 0.5})


def test_patient_bootstrap_resamples_whole_patients():
    # Two patients: one with four EEGs of KL 1, one with one EEG of KL 0. A resample of
    # patients has 0, 1 or 2 copies of the first, so the mean is 0, 0.8 or 1 - never
    # what resampling single EEGs would often give (e.g. 0.6).
    values = pd.Series([1.0, 1.0, 1.0, 1.0, 0.0])
    patients = pd.Series([7, 7, 7, 7, 8])
    means = patient_bootstrap_means(values, patients, resamples=500, seed=0)
    assert set(np.round(means, 6)) <= {0.0, 0.8, 1.0}
    assert {0.0, 0.8, 1.0} <= set(np.round(means, 6))  # all three happen in 500 draws
    np.testing.assert_array_equal(
        means, patient_bootstrap_means(values, patients, resamples=500, seed=0)
    )


def test_interval_and_paired_verdict():
    low, high = interval(np.arange(1001) / 1000)
    assert low == pytest.approx(0.025) and high == pytest.approx(0.975)
    assert paired_verdict(-0.3, -0.1) == "yes"
    assert paired_verdict(-0.1, 0.2) == "tie"
    assert paired_verdict(0.1, 0.2) == "no (worse)"


def _many_patients(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return _labels(rng.dirichlet(np.ones(6), n).tolist(), patients=np.arange(n) // 2)


def test_score_model_says_a_clearly_better_model_beats_the_reference_and_a_copy_ties():
    labels = _many_patients()
    targets = labels[list(TARGET_COLUMNS)].to_numpy()
    truth = as_prediction_table(labels["eeg_id"], 0.9 * targets + 0.1 / 6)
    uniform = uniform_baseline(labels["eeg_id"])
    scores = score_model(labels, truth, {"uniform": uniform, "itself": truth}, 1000, 0)
    assert scores["beats_uniform"] == "yes"
    assert scores["kl_difference_vs_uniform_ci_high"] < 0
    assert scores["beats_itself"] == "tie" and scores["kl_difference_vs_itself"] == 0
    assert scores["kl_all_ci_low"] < scores["kl_all"] < scores["kl_all_ci_high"]
    assert scores["seeds"] == 1 and scores["kl_all_sd"] == 0
    worse = score_model(labels, uniform, {"truth": truth}, 1000, 0)
    assert worse["beats_truth"] == "no (worse)"


def test_score_model_averages_seeds_and_reports_their_spread():
    labels = _many_patients(10)
    eeg_ids = labels["eeg_id"]
    uniform = uniform_baseline(eeg_ids)
    prior = as_prediction_table(eeg_ids, np.tile([0.5, 0.1, 0.1, 0.1, 0.1, 0.1], (10, 1)))
    seeds = pd.concat([uniform.assign(seed=1), prior.assign(seed=2)], ignore_index=True)
    scores = score_model(labels, seeds, {}, 200, 0)
    expected = [evaluate(labels, p)["kl_all"] for p in (uniform, prior)]
    assert scores["seeds"] == 2
    assert scores["kl_all"] == pytest.approx(np.mean(expected))
    assert scores["kl_all_sd"] == pytest.approx(np.std(expected, ddof=1))
    # the report shows the mean ± sd over seeds, then the patient interval
    markdown = comparison_markdown(comparison_table({"two seeds": {**scores, "kind": "backbone"}}))
    assert (f"| {scores['kl_all']:.3f} ± {scores['kl_all_sd']:.3f} "
            f"[{scores['kl_all_ci_low']:.3f}, {scores['kl_all_ci_high']:.3f}] |") in markdown  # fmt: skip


def test_out_of_fold_kl_scores_each_seed_on_its_validation_rows():
    labels = _labels(ONE_HOT + ONE_HOT, split=["train"] * 4)
    halves = as_prediction_table(labels["eeg_id"], [[0.5, 0.5, 0, 0, 0, 0]] * 4)
    perfect = as_prediction_table(labels["eeg_id"], ONE_HOT + ONE_HOT)
    validation = pd.concat(
        [halves.assign(seed=1, fold=[0, 0, 1, 1]), perfect.assign(seed=2, fold=[0, 0, 1, 1])]
    )
    scores = out_of_fold_scores(labels, validation, 200, 0)
    assert scores["validation_kl"] == pytest.approx(math.log(2) / 2)
    assert scores["validation_rows"] == 4
    assert scores["validation_kl_ci_low"] <= scores["validation_kl"] <= scores["validation_kl_ci_high"]


def test_prediction_spread_counts_the_predicted_classes_and_the_top_probability_range():
    predictions = as_prediction_table(
        np.array([1, 2, 3]),
        np.array([[0.5, 0.1, 0.1, 0.1, 0.1, 0.1], [0.06, 0.7, 0.06, 0.06, 0.06, 0.06],
                  [0.6, 0.08, 0.08, 0.08, 0.08, 0.08]]),
    )  # fmt: skip
    assert prediction_spread(predictions) == {
        "top_probability_min": pytest.approx(0.5), "top_probability_max": pytest.approx(0.7),
        "predicted_classes": "Seizure 2, LPD 1",
    }  # fmt: skip


def test_the_verdict_calls_learned_only_what_beats_the_prior_and_describes_the_rest():
    def row(model, kind, kl, beats, spread=(np.nan, np.nan, "")):
        return {"model": model, "kind": kind, "kl_all": kl, "kl_all_ci_low": kl - 0.1,
                "kl_all_ci_high": kl + 0.1, "beats_class_prior": beats, "seeds": 2,
                "rows": 40, "top_probability_min": spread[0],
                "top_probability_max": spread[1], "predicted_classes": spread[2]}  # fmt: skip

    table = pd.DataFrame([
        row("oracle (latent truth)", "baseline", 0.2, "yes"),
        row("good_net", "backbone", 0.6, "yes", (0.3, 0.9, "Seizure 30, GPD 10")),
        row("flat_net", "backbone", 1.3, "tie", (0.20, 0.25, "Seizure 40")),
        row("class prior", "baseline", 1.3, None),
        row("bad_net", "signal network", 1.6, "no (worse)", (0.4, 0.8, "LPD 39, GRDA 1")),
    ])  # fmt: skip
    context = {"data": "some folder: 100 labelled EEGs of 20 patients", "image_size": "96 x 64",
               "ensemble_weights": {"good_net": 0.9, "flat_net": 0.1}}  # fmt: skip
    text = verdict(table, context)
    assert text.startswith("**Verdict.** some folder: 100 labelled EEGs of 20 patients; "
                           "40 held-out EEGs; images 96 x 64; 2 training seeds.")  # fmt: skip
    assert "Learned (beat the class prior with 95% confidence): good_net 0.600." in text
    assert ("Did not learn: flat_net, ties the prior (near-constant, top probability "
            "0.20-0.25; always Seizure); bad_net, worse than the prior (top probability "
            "0.40-0.80; predicts LPD 39, GRDA 1).") in text  # fmt: skip
    assert ("Best model: good_net, held-out KL 0.600 [0.500, 0.700], 64% of the way from "
            "the class prior (1.300) to the oracle (0.200).") in text  # fmt: skip
    assert text.endswith("Ensemble weights: good_net 0.90, flat_net 0.10.")
    markdown = comparison_markdown(table.reindex(columns=[*table, "kl_high_vote",
                                                          "accuracy", "validation_kl",
                                                          "beats_classical"]), None, text)
    assert markdown.split("\n\n")[1] == text  # the report's first paragraph


def test_the_comparison_figure_draws_the_references_and_a_legend_outside_the_bars():
    from eeg_hba.evaluation.plots import comparison_figure  # noqa: PLC0415 - matplotlib

    table = pd.DataFrame({
        "model": ["good_net", "class prior", "classical"], "kl_all": [0.6, 1.3, 0.9],
        "kl_all_ci_low": [0.5, 1.2, 0.8], "kl_all_ci_high": [0.7, 1.4, 1.0],
        "kl_high_vote": [0.5, 1.2, 0.8], "kl_high_vote_ci_low": [0.4, 1.1, 0.7],
        "kl_high_vote_ci_high": [0.6, 1.3, 0.9],
    })  # fmt: skip
    figure = comparison_figure(table)
    (axis,) = figure.axes
    references = {line.get_label(): line.get_xdata()[0] for line in axis.get_lines()
                  if line.get_label().startswith(("class prior", "classical"))}  # fmt: skip
    assert references == {"class prior (1.300)": 1.3, "classical (0.900)": 0.9}
    # the legend lies below the bars, hiding none of them
    assert axis.get_legend().get_window_extent().y1 < axis.get_window_extent().y0
