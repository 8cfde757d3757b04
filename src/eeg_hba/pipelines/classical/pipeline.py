"""classical: fit the classical baseline on the backbones' rows, folds and seeds."""

from kedro.pipeline import Node, Pipeline

from .nodes import NAME, train_classical


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_classical,
                {
                    "index": "train_inputs.model_input_index",
                    "shards": "train_inputs.model_input_shards",
                    "training": "params:training_defaults",
                    "params": "params:classical",
                },
                [
                    "validation_predictions",
                    "holdout_predictions",
                    "prediction_throughput",
                    "training_summary",
                    "model",
                ],
                name="train_classical",
            ),
        ],
        namespace=NAME,
        inputs={"train_inputs.model_input_index", "train_inputs.model_input_shards"},
        parameters={"params:training_defaults", "params:classical"},
    )
