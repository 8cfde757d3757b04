"""evaluation: per-backbone held-out scores (namespaced), baselines, ensemble, report."""

from kedro.pipeline import Node, Pipeline

from eeg_hba.models import BACKBONES

from .nodes import (
    comparison_report,
    evaluate_baselines,
    evaluate_ensemble,
    evaluate_model,
    fit_ensemble,
    log_ensemble,
    predict_backbone,
)

SHARED_INPUTS = {
    "label_table",
    "train_inputs.model_input_index",
    "train_inputs.model_input_shards",
    "classical.holdout_predictions",
}
SHARED_PARAMETERS = {"params:evaluation", "params:predict.batch_size", "params:raw_data_dir"}


def scoring_node(against_classical: bool) -> Node:
    """Score one model (namespaced) on the held-out split, against the classical baseline
    too unless it is the classical baseline."""
    reference = {"classical_predictions": "classical.holdout_predictions"}
    return Node(
        evaluate_model,
        {
            "label_table": "label_table",
            "holdout_predictions": "holdout_predictions",
            "validation_predictions": "validation_predictions",
            "summary": "training_summary",
            "throughput": "prediction_throughput",
            "params": "params:evaluation",
            "raw_data_dir": "params:raw_data_dir",
            **(reference if against_classical else {}),
        },
        ["holdout_scores", "confusion_matrix", "reliability_plot"],
        name="evaluate_model",
    )


def backbone_template() -> Pipeline:
    """Predict the validation folds and the held-out split with one backbone, score it."""
    return Pipeline(
        [
            Node(
                predict_backbone,
                {
                    "model_runs": "model_runs",
                    "index": "train_inputs.model_input_index",
                    "shards": "train_inputs.model_input_shards",
                    "batch_size": "params:predict.batch_size",
                },
                ["validation_predictions", "holdout_predictions", "prediction_throughput"],
                name="predict_backbone",
            ),
            scoring_node(against_classical=True),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    per_backbone = sum(
        (
            Pipeline(
                backbone_template(),
                namespace=name,
                inputs=SHARED_INPUTS,
                parameters=SHARED_PARAMETERS,
            )
            for name in BACKBONES
        ),
        Pipeline([]),
    )
    classical = Pipeline(
        [scoring_node(against_classical=False)],
        namespace="classical",
        inputs={"label_table"},
        parameters={"params:evaluation", "params:raw_data_dir"},
    )
    shared = Pipeline(
        [
            Node(
                evaluate_baselines,
                {
                    "label_table": "label_table",
                    "latent": "raw_train_latent",
                    "classical_predictions": "classical.holdout_predictions",
                    "params": "params:evaluation",
                },
                "baseline_scores",
                name="evaluate_baselines",
            ),
            Node(
                fit_ensemble,
                {
                    "label_table": "label_table",
                    **{name: f"{name}.validation_predictions" for name in BACKBONES},
                },
                "ensemble_weights",
                name="fit_ensemble",
            ),
            Node(
                log_ensemble,
                {
                    "weights": "ensemble_weights",
                    "test_windows": "test_windows",
                    "preprocessing": "params:preprocessing",
                    "batch_size": "params:predict.batch_size",
                    "max_all_nan_channels": "params:ingestion.max_all_nan_channels",
                    "raw_data_dir": "params:raw_data_dir",
                    **{name: f"{name}.model" for name in BACKBONES},
                },
                "ensemble_summary",
                name="log_ensemble",
            ),
            Node(
                evaluate_ensemble,
                {
                    "label_table": "label_table",
                    "weights": "ensemble_weights",
                    "summary": "ensemble_summary",
                    "classical_predictions": "classical.holdout_predictions",
                    "params": "params:evaluation",
                    "raw_data_dir": "params:raw_data_dir",
                    **{name: f"{name}.holdout_predictions" for name in BACKBONES},
                },
                ["ensemble_holdout_predictions", "ensemble_scores"],
                name="evaluate_ensemble",
            ),
            Node(
                comparison_report,
                {
                    "baseline_scores": "baseline_scores",
                    "ensemble": "ensemble_scores",
                    "classical": "classical.holdout_scores",
                    **{name: f"{name}.holdout_scores" for name in BACKBONES},
                },
                ["comparison_table", "comparison_report", "comparison_figure"],
                name="comparison_report",
            ),
        ]
    )
    return per_backbone + classical + shared
