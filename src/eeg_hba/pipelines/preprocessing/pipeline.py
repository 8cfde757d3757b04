"""preprocessing: one template (plan shards -> compute shards) for train and test windows."""

from kedro.pipeline import Node, Pipeline

from .nodes import make_model_inputs, plan_model_inputs

SHARED_PARAMETERS = {"params:preprocessing", "params:raw_data_dir"}


def model_input_template() -> Pipeline:
    """Windows + raw files -> index + shards; reused under a namespace per window set."""
    return Pipeline(
        [
            Node(
                plan_model_inputs,
                ["windows", "params:preprocessing"],
                "model_input_index",
                name="plan_model_inputs",
            ),
            Node(
                make_model_inputs,
                [
                    "model_input_index",
                    "existing_model_input_shards",
                    "spectrograms",
                    "eegs",
                    "params:preprocessing",
                    "params:raw_data_dir",
                ],
                "model_input_shards",
                name="make_model_inputs",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    train = Pipeline(
        model_input_template(),
        namespace="train_inputs",
        inputs={
            "windows": "label_table",
            "spectrograms": "raw_train_spectrograms",
            "eegs": "raw_train_eegs",
        },
        parameters=SHARED_PARAMETERS,
    )
    test = Pipeline(
        model_input_template(),
        namespace="test_inputs",
        inputs={
            "windows": "test_windows",
            "spectrograms": "raw_test_spectrograms",
            "eegs": "raw_test_eegs",
        },
        parameters=SHARED_PARAMETERS,
    )
    return train + test
