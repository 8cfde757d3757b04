"""training: one template (train a backbone) reused under a namespace per backbone."""

from kedro.pipeline import Node, Pipeline

from .nodes import train_backbone


def training_template() -> Pipeline:
    return Pipeline(
        [
            Node(
                train_backbone,
                [
                    "train_inputs.model_input_index",
                    "train_inputs.model_input_shards",
                    "params:training_defaults",
                    "params:training",
                ],
                ["model", "model_runs", "training_history", "training_curve", "training_summary"],
                name="train_backbone",
            )
        ]
    )


def create_pipeline(backbone: str, **kwargs) -> Pipeline:
    """The template under ``backbone``'s namespace: its params and outputs are prefixed."""
    return Pipeline(
        training_template(),
        namespace=backbone,
        inputs={"train_inputs.model_input_index", "train_inputs.model_input_shards"},
        parameters={"params:training_defaults"},
    )
