"""Thin glue: predict, score on the held-out split with intervals, log to MLflow, report."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import mlflow
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba import lazy_module
from eeg_hba.evaluation.ensemble import blend, fit_ensemble_weights
from eeg_hba.evaluation.oracle import oracle_baseline, oracle_by_eeg
from eeg_hba.evaluation.plots import comparison_figure, confusion_figure, reliability_figure
from eeg_hba.evaluation.report import (
    WITHOUT_SIGNALS,
    comparison_markdown,
    comparison_table,
    verdict,
)
from eeg_hba.evaluation.scores import (
    class_prior_baseline,
    confusion_table,
    mean_over_folds,
    mean_over_seeds,
    out_of_fold_scores,
    reliability_table,
    score_model,
    seed_summary,
    uniform_baseline,
)
from eeg_hba.preprocessing.splits import ModelRun, data_set_tag, fold_rows, holdout_rows
from eeg_hba.training.model_kinds import SIGNAL_NETWORKS

# TensorFlow loads when a model predicts (or Kedro reads these functions' type hints), not
# when the pipelines are listed or drawn.
keras = lazy_module("keras")
ensemble_model = lazy_module("eeg_hba.serving.ensemble_model")
prediction = lazy_module("eeg_hba.serving.prediction")
tracking = lazy_module("eeg_hba.training.tracking")

logger = logging.getLogger(__name__)
CLASSICAL = "classical"


def predict_backbone(
    model_runs: dict[str, Callable[[], keras.Model]],
    index: pd.DataFrame,
    shards: dict,
    batch_size: int,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Each model's predictions on its own validation fold (out-of-fold: what the ensemble
    is fitted on) and on the held-out split, averaged over the folds of each seed; and the
    held-out prediction throughput in windows per second."""
    validation, holdout, seconds = [], [], 0.0
    for name, load in sorted(model_runs.items()):
        run, model = ModelRun.from_name(name), load()
        _, fold = fold_rows(index, run.fold)
        labels = {"seed": run.seed, "fold": run.fold}
        predicted = prediction.predict_windows(model, shards, fold, batch_size)
        validation.append(predicted.assign(**labels))
        started = time.perf_counter()
        holdout.append(prediction.predict_windows(model, shards, holdout_rows(index), batch_size))
        seconds += time.perf_counter() - started
        holdout[-1] = holdout[-1].assign(**labels)
    holdout_predictions = pd.concat(holdout, ignore_index=True)
    throughput = len(holdout_predictions) / seconds
    validation_predictions = pd.concat(validation, ignore_index=True)
    return validation_predictions, mean_over_folds(holdout_predictions), throughput


#: The scores MLflow's Models view shows beside each model (the metrics linked to its
#: logged model), in a few columns that fit a screen: the held-out KL with its interval,
#: the high-vote KL, and the difference to the class prior (below 0: better than it).
#: Every score is a metric of the model's run.
MODEL_VIEW_SCORES = (
    "kl_all", "kl_all_ci_low", "kl_all_ci_high", "kl_high_vote", "kl_difference_vs_class_prior",
)  # fmt: skip


def _log_scores(
    run_id: str,
    scores: dict,
    figures: dict[str, Figure] | None = None,
    model_id: str | None = None,
) -> None:
    """Numbers as ``holdout_*`` metrics of a run (``MODEL_VIEW_SCORES`` also linked to its
    logged model, if any, so MLflow's Models view shows them), verdicts as tags, figures as
    artifacts."""
    metrics = {f"holdout_{k}": float(v) for k, v in scores.items() if isinstance(v, int | float)}
    linked = {f"holdout_{k}" for k in MODEL_VIEW_SCORES} if model_id else set()
    with mlflow.start_run(run_id=run_id, nested=True):
        tracking.log_run_metrics({k: v for k, v in metrics.items() if k not in linked})
        if model_id:
            mlflow.log_metrics({k: v for k, v in metrics.items() if k in linked}, model_id=model_id)
        mlflow.set_tags({k: v for k, v in scores.items() if isinstance(v, str)})
        for name, figure in (figures or {}).items():
            mlflow.log_figure(figure, name)


def _references(
    label_table: pd.DataFrame, classical_predictions: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """The models every other is tested against: the classical baseline and the prior."""
    eeg_ids = holdout_rows(label_table)["eeg_id"]
    references = {"class_prior": class_prior_baseline(label_table, eeg_ids)}
    if classical_predictions is not None:
        references[CLASSICAL] = classical_predictions
    return references


def _register(model_id: str, scores: dict, label_table: pd.DataFrame, raw_data_dir: str,
              registry: dict) -> None:  # fmt: skip
    """A new version of ``<prefix>-<name>`` in the model registry (unless switched off),
    each described."""
    if not registry["enabled"]:
        return
    tags = {
        "data_set": data_set_tag(raw_data_dir, label_table),
        "git_commit": tracking.source_commit(),
    }
    name, registered = scores["model"], f"{registry['prefix']}-{scores['model']}"
    descriptions = (
        f"{name} ({scores['kind']}): the probabilities of the six patterns (Seizure, LPD, GPD, "
        "LRDA, GRDA, Other) of an EEG in the public HMS layout. Each version carries its data "
        f"set, commit and held-out KL; '{registry['alias']}' is the version with the best "
        "held-out KL on the newest data set.",
        f"Held-out KL {scores['kl_all']:.3f} [{scores['kl_all_ci_low']:.3f}, "
        f"{scores['kl_all_ci_high']:.3f}] (95 % interval over patients; the class prior: "
        f"{scores['kl_all'] - scores['kl_difference_vs_class_prior']:.3f}) on "
        f"{tags['data_set']}, commit {tags['git_commit']}.",
    )
    version = tracking.register_model(
        model_id, registered, tags, scores["kl_all"], registry["alias"], descriptions
    )
    logger.info("Registered %s version %s (%s)", registered, version, tags["data_set"])


def evaluate_model(
    label_table: pd.DataFrame,
    holdout_predictions: pd.DataFrame,
    validation_predictions: pd.DataFrame,
    summary: dict,
    throughput: float,
    params: dict,
    raw_data_dir: str,
    classical_predictions: pd.DataFrame | None = None,
) -> tuple[dict, Figure, Figure]:
    """Held-out scores with intervals (and verdicts against the classical baseline, when
    this is not it, and the class prior), the out-of-fold KL and figures; logged into the
    model's MLflow run and linked to its logged model, which is registered."""
    name = summary["model"]
    scores = {
        "kind": summary["kind"],
        **score_model(
            label_table, holdout_predictions, _references(label_table, classical_predictions),
            params["bootstrap_resamples"], params["bootstrap_seed"],
        ),
        **out_of_fold_scores(label_table, validation_predictions,
                             params["bootstrap_resamples"], params["bootstrap_seed"]),
        "windows_per_second": throughput,
        "parameters": summary["parameter_count"],
        "training_seconds": summary["training_seconds"],
    }  # fmt: skip
    holdout, seed_mean = holdout_rows(label_table), mean_over_seeds(holdout_predictions)
    confusion = confusion_figure(confusion_table(holdout, seed_mean), f"{name}: held-out split")
    reliability = reliability_figure(reliability_table(holdout, seed_mean), f"{name}: calibration")
    model_id = summary.get("mlflow_model_id")
    _log_scores(
        summary["mlflow_run_id"], scores,
        {"confusion_matrix.png": confusion, "reliability.png": reliability}, model_id,
    )  # fmt: skip
    if model_id is not None:
        _register(model_id, {"model": name, **scores}, label_table, raw_data_dir,
                  params["registry"])  # fmt: skip
    logger.info(
        "%s: held-out KL %.3f [%.3f, %.3f]", name, scores["kl_all"], scores["kl_all_ci_low"],
        scores["kl_all_ci_high"],
    )  # fmt: skip
    return scores, confusion, reliability


def evaluate_baselines(
    label_table: pd.DataFrame,
    latent: pd.DataFrame,
    classical_predictions: pd.DataFrame,
    params: dict,
) -> dict[str, dict]:
    """Uniform 1/6, the training class prior and, on synthetic data, the oracle (the
    generator's expected votes, ``latent``: empty for real data), each scored as the
    models are and logged as a nested MLflow run of its own."""
    eeg_ids = holdout_rows(label_table)["eeg_id"]
    prior = class_prior_baseline(label_table, eeg_ids)
    candidates = {
        "uniform (1/6)": uniform_baseline(eeg_ids),
        "class prior": prior,
        "oracle (latent truth)": oracle_baseline(
            oracle_by_eeg(latent) if not latent.empty else latent, eeg_ids
        ),
    }
    references = {"class_prior": prior, "classical": classical_predictions}
    scores = {}
    for name, predictions in candidates.items():
        if predictions is None:
            continue
        against = {k: v for k, v in references.items() if v is not predictions}
        scores[name] = {
            "kind": "baseline",
            **score_model(label_table, predictions, against, params["bootstrap_resamples"],
                          params["bootstrap_seed"]),
        }  # fmt: skip
        with mlflow.start_run(run_name=name, nested=True) as run:
            mlflow.set_tag("kind", "baseline")
        _log_scores(run.info.run_id, scores[name])
    return scores


def fit_ensemble(
    label_table: pd.DataFrame, **validation_predictions: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """Weights on the members' out-of-fold predictions (the Keras models' and the
    classical baseline's, each the mean over seeds) minimising KL; and the weights refitted
    without the signal networks, the ensemble they are tested against."""
    without = {k: v for k, v in validation_predictions.items() if k not in SIGNAL_NETWORKS}
    return _ensemble_weights(label_table, validation_predictions), _ensemble_weights(
        label_table, without
    )


def _ensemble_weights(
    label_table: pd.DataFrame, validation_predictions: dict[str, pd.DataFrame]
) -> dict[str, float]:
    out_of_fold = {
        name: mean_over_seeds(predictions.drop(columns="fold"))
        for name, predictions in validation_predictions.items()
    }
    common = set.intersection(*(set(p["eeg_id"]) for p in out_of_fold.values()))
    rows = label_table[label_table["eeg_id"].isin(common)]
    weights = fit_ensemble_weights(
        rows, {name: p[p["eeg_id"].isin(common)] for name, p in out_of_fold.items()}
    )
    logger.info(
        "Ensemble weights from %d out-of-fold EEGs: %s",
        len(rows), {k: round(v, 3) for k, v in weights.items()},
    )  # fmt: skip
    return weights


def log_ensemble(
    weights: dict[str, float],
    test_windows: pd.DataFrame,
    model_input_settings: dict,
    batch_size: int,
    max_request_rows: int,
    raw_data_dir: str,
    **models: prediction.Member,
) -> dict:
    """The ensemble as an MLflow model (its members, the weights and the settings that
    turn raw test files into a submission: those the model inputs were made with, checked
    against what each member takes; this run's HMS folder as the data root it serves by
    default) in an MLflow run of its own; its card."""
    ensemble_model.check_members_take(models, model_input_settings["features"])
    settings = {
        **model_input_settings,
        "batch_size": batch_size,
        "max_request_rows": max_request_rows,
        "data_root": os.path.abspath(raw_data_dir),
    }
    with mlflow.start_run(run_name="ensemble", nested=True) as run:
        mlflow.set_tag("kind", "ensemble")
        mlflow.log_params({f"weight.{k}": v for k, v in weights.items()})
        model_id = ensemble_model.log_ensemble_model(models, weights, settings, test_windows)
    return {"model": "ensemble", "kind": "ensemble", "mlflow_run_id": run.info.run_id,
            "mlflow_model_id": model_id}  # fmt: skip


def evaluate_ensemble(
    label_table: pd.DataFrame,
    weights: dict[str, float],
    weights_without_signals: dict[str, float],
    summary: dict,
    params: dict,
    raw_data_dir: str,
    **holdout_predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, dict]:
    """The blended held-out predictions (per seed) of the members (the Keras models and the
    classical baseline) and their scores, tested against the best member and against the
    ensemble without the signal networks too, logged into the ensemble's run and linked to
    its logged model, which is registered."""
    blended = blend(holdout_predictions, weights)
    holdout = holdout_rows(label_table)
    members = {
        name: seed_summary(holdout, predictions)["kl_all"]
        for name, predictions in holdout_predictions.items()
    }
    best = min(members, key=members.get)
    references = {
        **_references(label_table, holdout_predictions[CLASSICAL]),
        "best_member": holdout_predictions[best],
        WITHOUT_SIGNALS: blend(holdout_predictions, weights_without_signals),
    }
    scores = {
        "kind": "ensemble",
        **score_model(label_table, blended, references, params["bootstrap_resamples"],
                      params["bootstrap_seed"]),
        "best_member": best,
    }  # fmt: skip
    model_id = summary["mlflow_model_id"]
    _log_scores(summary["mlflow_run_id"], scores, model_id=model_id)
    _register(model_id, {"model": "ensemble", **scores}, label_table, raw_data_dir,
              params["registry"])  # fmt: skip
    return blended, scores


def comparison_report(
    baseline_scores: dict[str, dict],
    ensemble_weights: dict[str, float],
    label_table: pd.DataFrame,
    model_input_settings: dict,
    raw_data_dir: str,
    **model_scores: dict,
) -> tuple[pd.DataFrame, str, Figure]:
    """One table of every model and baseline with intervals and verdicts, after a verdict
    paragraph (also the description of the ``kedro run``'s MLflow run); Markdown and a
    figure too, logged into that run."""
    table = comparison_table({**model_scores, **baseline_scores})
    features = model_input_settings["features"]
    context = {
        "data": f"{raw_data_dir}: {label_table['eeg_id'].nunique()} labelled EEGs of "
        f"{label_table['patient_id'].nunique()} patients",
        "image_size": f"{features['image_height']} x {features['image_width']}",
        "ensemble_weights": ensemble_weights,
    }
    paragraph = verdict(table, context, model_scores.get("ensemble"))
    markdown = comparison_markdown(table, model_scores.get("ensemble"), paragraph)
    figure = comparison_figure(table)
    mlflow.set_tag("mlflow.note.content", paragraph)
    logger.info(
        "The models side by side in the MLflow UI (`mlflow ui --backend-store-uri %s "
        "--workers 1`): /#/experiments/%s/models?workflowType=machine_learning",
        mlflow.get_tracking_uri(), mlflow.active_run().info.experiment_id,
    )  # fmt: skip
    mlflow.log_text(markdown, "comparison_report.md")
    mlflow.log_figure(figure, "comparison_report.png")
    return table, markdown, figure
