"""evaluation: per-model predictions and held-out scores (namespaced), baselines, ensemble,
report."""

from kedro.pipeline import Node, Pipeline

from eeg_hba.training.model_kinds import MODELS

from .nodes import (
    CLASSICAL,
    comparison_report,
    evaluate_baselines,
    evaluate_ensemble,
    evaluate_model,
    fit_ensemble,
    log_ensemble,
    predict_backbone,
)

#: Scores live in ``evaluation.<model>``, apart from the model's own namespace (training,
#: predictions): a namespace that also took the classical baseline's held-out predictions
#: would feed a model_output dataset into a models one, and kedro-viz hides circular layers.
SCORES = "evaluation"
#: What the ensemble blends: the Keras models (image backbones, signal network) and the
#: classical baseline.
MEMBERS = (*MODELS, CLASSICAL)
SHARED_PARAMETERS = {"params:evaluation", "params:raw_data_dir"}


def predicting_pipeline(name: str) -> Pipeline:
    """Predict the validation folds and the held-out split with backbone ``name``."""
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
            )
        ],
        namespace=name,
        inputs={"train_inputs.model_input_index", "train_inputs.model_input_shards"},
        parameters={"params:predict.batch_size"},
    )


def scoring_pipeline(name: str, against_classical: bool) -> Pipeline:
    """Score model ``name`` on the held-out split, against the classical baseline too
    unless it is the classical baseline."""
    reference = {"classical_predictions": "classical.holdout_predictions"}
    scoring = Node(
        evaluate_model,
        {
            "label_table": "label_table",
            "holdout_predictions": f"{name}.holdout_predictions",
            "validation_predictions": f"{name}.validation_predictions",
            "summary": f"{name}.training_summary",
            "throughput": f"{name}.prediction_throughput",
            "params": "params:evaluation",
            "raw_data_dir": "params:raw_data_dir",
            **(reference if against_classical else {}),
        },
        ["holdout_scores", "confusion_matrix", "reliability_plot"],
        name="evaluate_model",
    )
    return Pipeline(
        [scoring],
        namespace=f"{SCORES}.{name}",
        inputs={dataset for dataset in scoring.inputs if not dataset.startswith("params:")},
        parameters=SHARED_PARAMETERS,
    )


def create_pipeline(**kwargs) -> Pipeline:
    per_model = sum(
        (predicting_pipeline(name) + scoring_pipeline(name, against_classical=True)
         for name in MODELS),
        scoring_pipeline("classical", against_classical=False),
    )  # fmt: skip
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
                    **{name: f"{name}.validation_predictions" for name in MEMBERS},
                },
                ["ensemble_weights", "ensemble_weights_without_signal_networks"],
                name="fit_ensemble",
            ),
            Node(
                log_ensemble,
                {
                    "weights": "ensemble_weights",
                    "test_windows": "test_windows",
                    "model_input_settings": "model_input_settings",
                    "batch_size": "params:predict.batch_size",
                    "max_request_rows": "params:predict.max_request_rows",
                    "raw_data_dir": "params:raw_data_dir",
                    **{name: f"{name}.model" for name in MEMBERS},
                },
                "ensemble_summary",
                name="log_ensemble",
            ),
            Node(
                evaluate_ensemble,
                {
                    "label_table": "label_table",
                    "weights": "ensemble_weights",
                    "weights_without_signals": "ensemble_weights_without_signal_networks",
                    "summary": "ensemble_summary",
                    "params": "params:evaluation",
                    "raw_data_dir": "params:raw_data_dir",
                    **{name: f"{name}.holdout_predictions" for name in MEMBERS},
                },
                ["ensemble_holdout_predictions", "ensemble_scores"],
                name="evaluate_ensemble",
            ),
            Node(
                comparison_report,
                {
                    "baseline_scores": "baseline_scores",
                    "ensemble_weights": "ensemble_weights",
                    "label_table": "label_table",
                    "model_input_settings": "model_input_settings",
                    "raw_data_dir": "params:raw_data_dir",
                    "ensemble": "ensemble_scores",
                    "classical": f"{SCORES}.classical.holdout_scores",
                    **{name: f"{SCORES}.{name}.holdout_scores" for name in MODELS},
                },
                ["comparison_table", "comparison_report", "comparison_figure"],
                name="comparison_report",
            ),
        ]
    )
    return per_model + shared
