"""Thin glue: predict, score with the leaderboard metric, log to MLflow, report."""

import logging
import time

import keras
import mlflow
import pandas as pd
from matplotlib.figure import Figure

from eeg_hba.evaluation import (
    as_prediction_table,
    blend,
    class_prior_baseline,
    confusion_table,
    evaluate,
    fit_ensemble_weights,
    oracle_baseline,
    reliability_table,
    test_rows,
    uniform_baseline,
)
from eeg_hba.inputs import prediction_order, window_dataset
from eeg_hba.models import BACKBONES
from eeg_hba.plots import comparison_figure, confusion_figure, reliability_figure
from eeg_hba.training import TrainingConfig, training_rows

logger = logging.getLogger(__name__)
BACKBONE_NAMES = sorted(BACKBONES)


def predict_rows(
    model: keras.Model,
    shards: dict,
    rows: pd.DataFrame,
    image_shape: tuple[int, int],
    batch_size: int,
) -> pd.DataFrame:
    """Predictions for ``rows`` of a model-input index, streamed from the shards.

    Keras shows a progress bar with an ETA: the dataset knows its number of batches.
    """
    ordered = prediction_order(rows)
    dataset = window_dataset(shards, ordered, image_shape, batch_size, with_targets=False)
    logger.info(
        "Predicting %d windows in %d batches with %s",
        len(ordered), int(dataset.cardinality()), model.name,
    )  # fmt: skip
    probabilities = model.predict(dataset, verbose=1)
    return as_prediction_table(ordered["eeg_id"].to_numpy(), probabilities)


def predict_validation_and_test(
    model: keras.Model,
    index: pd.DataFrame,
    shards: dict,
    preprocessing: dict,
    defaults: dict,
    overrides: dict,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Validation-fold predictions (to fit the ensemble), test-split predictions, and the
    test prediction throughput in windows per second."""
    image = {k: preprocessing["features"][k] for k in ("image_height", "image_width")}
    config = TrainingConfig.from_params({**defaults, **image}, overrides)
    shape = (config.image_height, config.image_width)
    _, validation = training_rows(index, config.validation_fold)
    validation_predictions = predict_rows(model, shards, validation, shape, config.batch_size)
    started = time.perf_counter()
    test_predictions = predict_rows(model, shards, test_rows(index), shape, config.batch_size)
    throughput = len(test_predictions) / (time.perf_counter() - started)
    return validation_predictions, test_predictions, throughput


def evaluate_backbone(
    label_table: pd.DataFrame, test_predictions: pd.DataFrame, summary: dict, throughput: float
) -> tuple[dict, Figure, Figure]:
    """Test metrics and figures, also logged into the backbone's own MLflow run."""
    test = test_rows(label_table)
    metrics = {**evaluate(test, test_predictions), "windows_per_second": throughput}
    name = summary["backbone"]
    confusion = confusion_figure(confusion_table(test, test_predictions), f"{name}: test split")
    reliability = reliability_figure(
        reliability_table(test, test_predictions), f"{name}: calibration"
    )
    with mlflow.start_run(run_id=summary["mlflow_run_id"], nested=True):
        mlflow.log_metrics({f"test_{k}": float(v) for k, v in metrics.items()})
        mlflow.log_figure(confusion, "confusion_matrix.png")
        mlflow.log_figure(reliability, "reliability.png")
    logger.info(
        "%s: test KL %.3f (high-vote %.3f)", name, metrics["kl_all"], metrics["kl_high_vote"]
    )
    return metrics, confusion, reliability


def evaluate_baselines(label_table: pd.DataFrame, latent: pd.DataFrame) -> dict[str, dict]:
    """Uniform 1/6, the training class prior and, on synthetic data, the oracle."""
    test = test_rows(label_table)
    candidates = {
        "uniform (1/6)": uniform_baseline(test["eeg_id"]),
        "class prior": class_prior_baseline(label_table, test["eeg_id"]),
        "oracle (latent truth)": oracle_baseline(latent, test["eeg_id"]),
    }
    return {name: evaluate(test, p) for name, p in candidates.items() if p is not None}


def fit_ensemble(
    label_table: pd.DataFrame, *validation_predictions: pd.DataFrame
) -> dict[str, float]:
    """Weights on the backbones' validation-fold predictions minimising KL."""
    validation = (
        label_table.set_index("eeg_id").loc[validation_predictions[0]["eeg_id"]].reset_index()
    )
    weights = fit_ensemble_weights(
        validation, dict(zip(BACKBONE_NAMES, validation_predictions, strict=True))
    )
    logger.info("Ensemble weights: %s", {k: round(v, 3) for k, v in weights.items()})
    return weights


def evaluate_ensemble(
    label_table: pd.DataFrame, weights: dict[str, float], *test_predictions: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """The blended test predictions and their metrics, in an MLflow run of its own."""
    blended = blend(dict(zip(BACKBONE_NAMES, test_predictions, strict=True)), weights)
    metrics = evaluate(test_rows(label_table), blended)
    with mlflow.start_run(run_name="ensemble", nested=True):
        mlflow.set_tag("backbone", "ensemble")
        mlflow.log_params({f"weight.{k}": v for k, v in weights.items()})
        mlflow.log_metrics({f"test_{k}": float(v) for k, v in metrics.items()})
    return blended, metrics


def comparison_report(
    baselines: dict[str, dict], ensemble: dict, *per_backbone: dict
) -> tuple[pd.DataFrame, str, Figure]:
    """One table ranking backbones, ensemble and baselines; Markdown and a figure too.

    ``per_backbone`` is each backbone's test metrics then each one's training summary.
    """
    metrics, summaries = per_backbone[: len(BACKBONE_NAMES)], per_backbone[len(BACKBONE_NAMES) :]
    rows = [
        {"model": s["backbone"], "kind": "backbone", **m, "parameters": s["parameter_count"],
         "training_seconds": s["training_seconds"]}
        for m, s in zip(metrics, summaries, strict=True)
    ]  # fmt: skip
    rows.append({"model": "ensemble", "kind": "ensemble", **ensemble})
    rows += [{"model": name, "kind": "baseline", **m} for name, m in baselines.items()]
    columns = ["model", "kind", "kl_all", "kl_high_vote", "accuracy", "parameters",
               "training_seconds", "windows_per_second", "rows"]  # fmt: skip
    report = (
        pd.DataFrame(rows).reindex(columns=columns).sort_values("kl_all").reset_index(drop=True)
    )
    markdown = "\n".join([
        "# Model comparison on the held-out test split",
        "",
        "KL divergence as the leaderboard computed it (lower is better); accuracy against",
        "the expert consensus; throughput is test windows predicted per second.",
        "",
        report.to_markdown(index=False, floatfmt=".4g"),
        "",
    ])  # fmt: skip
    figure = comparison_figure(report)
    mlflow.log_text(markdown, "comparison_report.md")
    mlflow.log_figure(figure, "comparison_report.png")
    return report, markdown, figure
