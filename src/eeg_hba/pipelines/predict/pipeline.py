"""predict: test.csv of the raw folder -> the same preprocessing -> submission.csv."""

from kedro.pipeline import Node, Pipeline

from eeg_hba.pipelines.evaluation.nodes import BACKBONE_NAMES

from .nodes import make_submission


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                make_submission,
                [
                    "test_windows",
                    "test_inputs.model_input_index",
                    "test_inputs.model_input_shards",
                    "ensemble_weights",
                    "params:predict",
                    "params:preprocessing",
                    *[f"{name}.model" for name in BACKBONE_NAMES],
                ],
                "submission",
                name="make_submission",
            )
        ]
    )
