"""ingestion: raw HMS folder -> validated tables -> label table with patient-grouped splits."""

from kedro.pipeline import Node, Pipeline

from .nodes import make_label_table, validate_test_windows, validate_train_labels


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                validate_train_labels,
                [
                    "raw_train_labels",
                    "raw_train_eegs",
                    "raw_train_spectrograms",
                    "params:raw_data_dir",
                    "params:ingestion",
                ],
                ["train_labels", "rejected_rows"],
                name="validate_train_labels",
            ),
            Node(
                validate_test_windows,
                [
                    "raw_test_labels",
                    "raw_sample_submission",
                    "raw_test_eegs",
                    "raw_test_spectrograms",
                    "params:raw_data_dir",
                    "params:ingestion",
                ],
                "test_windows",
                name="validate_test_windows",
            ),
            Node(
                make_label_table,
                ["train_labels", "params:ingestion"],
                "label_table",
                name="make_label_table",
            ),
        ]
    )
