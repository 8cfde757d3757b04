"""ingestion: raw HMS tables and file footers -> validated rows (the data is checked as
preprocessing reads it)."""

from kedro.pipeline import Node, Pipeline

from .nodes import validate_test_windows, validate_train_labels


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                validate_train_labels,
                [
                    "raw_train_labels",
                    "raw_train_eeg_layouts",
                    "raw_train_spectrogram_layouts",
                    "params:raw_data_dir",
                    "params:ingestion",
                ],
                ["train_labels", "ingestion_rejected_rows"],
                name="validate_train_labels",
            ),
            Node(
                validate_test_windows,
                [
                    "raw_test_labels",
                    "raw_sample_submission",
                    "raw_test_eeg_layouts",
                    "raw_test_spectrogram_layouts",
                    "params:raw_data_dir",
                    "params:ingestion",
                ],
                "test_windows",
                name="validate_test_windows",
            ),
        ]
    )
