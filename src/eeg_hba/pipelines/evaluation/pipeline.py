"""evaluation: per-backbone test scores (namespaced), baselines, ensemble, comparison report."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    BACKBONE_NAMES,
    comparison_report,
    evaluate_backbone,
    evaluate_baselines,
    evaluate_ensemble,
    fit_ensemble,
    predict_validation_and_test,
)

SHARED_INPUTS = {"label_table", "train_inputs.model_input_index", "train_inputs.model_input_shards"}
SHARED_PARAMETERS = {"params:preprocessing", "params:training_defaults"}


def evaluation_template() -> Pipeline:
    """Predict the validation fold and test split with one backbone, then score it."""
    return Pipeline(
        [
            Node(
                predict_validation_and_test,
                [
                    "model",
                    "train_inputs.model_input_index",
                    "train_inputs.model_input_shards",
                    "params:preprocessing",
                    "params:training_defaults",
                    "params:training",
                ],
                ["validation_predictions", "test_predictions", "prediction_throughput"],
                name="predict_validation_and_test",
            ),
            Node(
                evaluate_backbone,
                ["label_table", "test_predictions", "training_summary", "prediction_throughput"],
                ["test_metrics", "confusion_matrix", "reliability_plot"],
                name="evaluate_backbone",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    per_backbone = sum(
        (
            Pipeline(
                evaluation_template(),
                namespace=name,
                inputs=SHARED_INPUTS,
                parameters=SHARED_PARAMETERS,
            )
            for name in BACKBONE_NAMES
        ),
        Pipeline([]),
    )
    shared = Pipeline(
        [
            Node(
                evaluate_baselines,
                ["label_table", "raw_train_latent"],
                "baseline_metrics",
                name="evaluate_baselines",
            ),
            Node(
                fit_ensemble,
                ["label_table", *[f"{n}.validation_predictions" for n in BACKBONE_NAMES]],
                "ensemble_weights",
                name="fit_ensemble",
            ),
            Node(
                evaluate_ensemble,
                [
                    "label_table",
                    "ensemble_weights",
                    *[f"{n}.test_predictions" for n in BACKBONE_NAMES],
                ],
                ["ensemble_test_predictions", "ensemble_metrics"],
                name="evaluate_ensemble",
            ),
            Node(
                comparison_report,
                [
                    "baseline_metrics",
                    "ensemble_metrics",
                    *[f"{n}.test_metrics" for n in BACKBONE_NAMES],
                    *[f"{n}.training_summary" for n in BACKBONE_NAMES],
                ],
                ["comparison_table", "comparison_report", "comparison_figure"],
                name="comparison_report",
            ),
        ]
    )
    return per_backbone + shared
