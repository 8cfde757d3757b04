"""synthetic: plan -> tables, realism profile -> EEG and spectrogram files -> manifest."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    plan_synthetic_dataset,
    synthetic_manifest,
    synthetic_profile,
    synthetic_signal_files,
    synthetic_tables,
)

SIGNAL_FILES = [
    "synthetic_train_eegs",
    "synthetic_train_spectrograms",
    "synthetic_test_eegs",
    "synthetic_test_spectrograms",
]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                plan_synthetic_dataset,
                "params:synthetic",
                "synthetic_plan",
                name="plan_synthetic_dataset",
            ),
            Node(
                synthetic_tables,
                "synthetic_plan",
                [
                    "synthetic_train_labels",
                    "synthetic_test_labels",
                    "synthetic_sample_submission",
                    "synthetic_train_latent",
                    "synthetic_test_latent",
                ],
                name="write_synthetic_tables",
            ),
            Node(
                synthetic_profile,
                "synthetic_plan",
                ["synthetic_profile_report", "synthetic_profile_figure"],
                name="write_synthetic_profile",
            ),
            Node(
                synthetic_signal_files,
                ["synthetic_plan", "params:synthetic"],
                SIGNAL_FILES,
                name="write_synthetic_signal_files",
            ),
            Node(
                synthetic_manifest,
                ["synthetic_plan", *SIGNAL_FILES],
                "synthetic_manifest",
                name="write_synthetic_manifest",
            ),
        ]
    )
