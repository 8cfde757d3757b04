"""predict: test.csv of the raw folder -> the same preprocessing -> submission.csv."""

from kedro.pipeline import Node, Pipeline

from ..evaluation.pipeline import MEMBERS
from .nodes import make_submission


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                make_submission,
                {
                    "test_windows": "test_windows",
                    "index": "test_inputs.model_input_index",
                    "shards": "test_inputs.model_input_shards",
                    "ensemble_weights": "ensemble_weights",
                    "params": "params:predict",
                    **{name: f"{name}.model" for name in MEMBERS},
                },
                "submission",
                name="make_submission",
            )
        ]
    )
