"""preprocessing: one template (plan shards -> compute shards, the one read of every raw
file -> index) for train and test windows, and the tables that depend on what that pass
found in the data: the label table and the rejected-rows report, the checked test windows."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    check_test_windows,
    index_model_inputs,
    make_label_table,
    make_model_inputs,
    plan_model_inputs,
    record_model_input_settings,
)

SHARED_PARAMETERS = {"params:preprocessing", "params:ingestion", "params:raw_data_dir"}


def model_input_template() -> Pipeline:
    """Label rows + raw files -> shards -> index of the checked windows; reused under a
    namespace per window set."""
    return Pipeline(
        [
            Node(
                plan_model_inputs,
                ["rows", "params:preprocessing"],
                "model_input_plan",
                name="plan_model_inputs",
            ),
            Node(
                make_model_inputs,
                [
                    "model_input_plan",
                    "existing_model_input_shards",
                    "spectrograms",
                    "eegs",
                    "params:preprocessing",
                    "params:ingestion",
                ],
                "model_input_shards",
                name="make_model_inputs",
            ),
            Node(
                index_model_inputs,
                ["checked_windows", "model_input_plan", "model_input_shards"],
                "model_input_index",
                name="index_model_inputs",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    label_table = Pipeline(
        [
            Node(
                make_label_table,
                [
                    "rows",
                    "ingestion_rejected_rows",
                    "model_input_plan",
                    "model_input_shards",
                    "params:ingestion",
                    "params:raw_data_dir",
                ],
                ["checked_windows", "rejected_rows"],
                name="make_label_table",
            )
        ]
    )
    train = Pipeline(
        model_input_template() + label_table,
        namespace="train_inputs",
        inputs={
            "rows": "train_labels",
            "ingestion_rejected_rows": "ingestion_rejected_rows",
            "spectrograms": "raw_train_spectrograms",
            "eegs": "raw_train_eegs",
        },
        outputs={"checked_windows": "label_table", "rejected_rows": "rejected_rows"},
        parameters=SHARED_PARAMETERS,
    )
    test_check = Pipeline(
        [
            Node(
                check_test_windows,
                ["rows", "model_input_plan", "model_input_shards", "params:raw_data_dir"],
                "checked_windows",
                name="check_test_windows",
            )
        ]
    )
    test = Pipeline(
        model_input_template() + test_check,
        namespace="test_inputs",
        inputs={
            "rows": "test_windows",
            "spectrograms": "raw_test_spectrograms",
            "eegs": "raw_test_eegs",
        },
        parameters=SHARED_PARAMETERS,
    )
    settings = Pipeline(
        [
            Node(
                record_model_input_settings,
                ["params:preprocessing", "params:ingestion"],
                "model_input_settings",
                name="record_model_input_settings",
            )
        ]
    )
    return train + test + settings
