"""Thin glue: check the raw HMS folder against the contract, then build the label table."""

import logging
from pathlib import Path

import pandas as pd

from eeg_hba.contract import (
    HmsContractError,
    Violation,
    parse_submission_table,
    parse_test_table,
    parse_train_table,
)
from eeg_hba.labels import assign_splits, build_label_table

logger = logging.getLogger(__name__)


def check_files_exist(
    table: pd.DataFrame, source: str, raw_data_dir: str, split: str, eegs: dict, spectrograms: dict
) -> None:
    """Each row's ``<split>_eegs/<eeg_id>.parquet`` and spectrogram file must exist."""
    folders = {
        "eeg_id": (f"{split}_eegs", eegs),
        "spectrogram_id": (f"{split}_spectrograms", spectrograms),
    }
    violations = [
        Violation(
            source,
            f"referenced file {Path(raw_data_dir) / folder / f'{file_id}.parquet'} does not exist",
            int(row),
            column,
            int(file_id),
        )
        for column, (folder, files) in folders.items()
        for row, file_id in table[column].items()
        if str(file_id) not in files
    ]
    if violations:
        raise HmsContractError(violations)


def validate_train_labels(
    raw_train: pd.DataFrame, train_eegs: dict, train_spectrograms: dict, raw_data_dir: str
) -> pd.DataFrame:
    """train.csv checked cell by cell and typed; every referenced file must exist."""
    source = str(Path(raw_data_dir) / "train.csv")
    train = parse_train_table(raw_train, source)
    check_files_exist(train, source, raw_data_dir, "train", train_eegs, train_spectrograms)
    logger.info(
        "Read %s: %d rows, %d EEGs, %d spectrograms, %d patients",
        source, len(train), train["eeg_id"].nunique(), train["spectrogram_id"].nunique(),
        train["patient_id"].nunique(),
    )  # fmt: skip
    return train


def validate_test_windows(
    raw_test: pd.DataFrame,
    raw_sample_submission: pd.DataFrame,
    test_eegs: dict,
    test_spectrograms: dict,
    raw_data_dir: str,
) -> pd.DataFrame:
    """test.csv checked and typed, its files present, and sample_submission covering it."""
    source = str(Path(raw_data_dir) / "test.csv")
    test = parse_test_table(raw_test, source)
    check_files_exist(test, source, raw_data_dir, "test", test_eegs, test_spectrograms)
    submission_source = str(Path(raw_data_dir) / "sample_submission.csv")
    submission = parse_submission_table(raw_sample_submission, submission_source)
    unlisted = ~test["eeg_id"].isin(submission["eeg_id"])
    if unlisted.any():
        raise HmsContractError(
            [
                Violation(
                    source,
                    f"eeg_id has no row in {submission_source}",
                    int(r),
                    "eeg_id",
                    int(test.at[r, "eeg_id"]),
                )
                for r in test.index[unlisted]
            ]
        )
    logger.info("Read %s: %d test EEGs", source, len(test))
    # A test EEG is exactly 50 s and its spectrogram exactly 600 s: both windows start at 0.
    return test.assign(eeg_label_offset_seconds=0.0, spectrogram_label_offset_seconds=0.0)


def make_label_table(train: pd.DataFrame, params: dict, raw_data_dir: str) -> pd.DataFrame:
    """One row per EEG with summed votes and targets, split by patient."""
    table = build_label_table(
        train, params["high_vote_threshold"], str(Path(raw_data_dir) / "train.csv")
    )
    table = assign_splits(table, params["test_fraction"], params["n_folds"], params["seed"])
    logger.info(
        "Label table: %d EEGs (%d high-vote), %d held out for test, %d folds",
        len(table), int(table["high_vote"].sum()), int((table["split"] == "test").sum()),
        params["n_folds"],
    )  # fmt: skip
    return table
