"""Thin glue: check the raw HMS folder against the contract, then build the label table."""

import logging
from pathlib import Path

import pandas as pd

from eeg_hba.contract import (
    Violation,
    apply_bad_row_policy,
    parse_submission_table,
    parse_test_windows,
    referenced_file_violations,
    screen_train_table,
)
from eeg_hba.labels import HOLDOUT_SPLIT, assign_splits, build_label_table

logger = logging.getLogger(__name__)


def validate_train_labels(
    raw_train: pd.DataFrame,
    train_eegs: dict,
    train_spectrograms: dict,
    raw_data_dir: str,
    params: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """train.csv checked cell by cell and typed, with the files it references; rows that
    break a rule stop the run or, with ``on_bad_rows: skip``, are left out and reported."""
    source = str(Path(raw_data_dir) / "train.csv")
    train, violations = screen_train_table(raw_train, source)
    violations += referenced_file_violations(
        train, source, raw_data_dir, "train", train_eegs, train_spectrograms,
        params["max_all_nan_channels"], params["workers"],
    )  # fmt: skip
    train, rejected = apply_bad_row_policy(train, violations, params["on_bad_rows"])
    if not rejected.empty:
        logger.warning(
            "Left out %d of %d rows of %s that break the HMS contract (on_bad_rows: skip); "
            "each is listed with its reason in the rejected_rows report",
            rejected["row"].nunique(), len(raw_train), source,
        )  # fmt: skip
    logger.info(
        "Read %s: %d rows, %d EEGs, %d spectrograms, %d patients",
        source, len(train), train["eeg_id"].nunique(), train["spectrogram_id"].nunique(),
        train["patient_id"].nunique(),
    )  # fmt: skip
    return train.reset_index(drop=True), rejected


def validate_test_windows(
    raw_test: pd.DataFrame,
    raw_sample_submission: pd.DataFrame,
    test_eegs: dict,
    test_spectrograms: dict,
    raw_data_dir: str,
    params: dict,
) -> pd.DataFrame:
    """test.csv checked and typed, its files present, and sample_submission covering it.

    A bad test row always stops the run: leaving it out would leave the submission short.
    """
    source = str(Path(raw_data_dir) / "test.csv")
    test = parse_test_windows(raw_test, source)
    violations = referenced_file_violations(
        test, source, raw_data_dir, "test", test_eegs, test_spectrograms,
        params["max_all_nan_channels"], params["workers"],
    )  # fmt: skip
    submission_source = str(Path(raw_data_dir) / "sample_submission.csv")
    submission = parse_submission_table(raw_sample_submission, submission_source)
    violations += [
        Violation(
            source, f"eeg_id has no row in {submission_source}", int(r), "eeg_id",
            int(test.at[r, "eeg_id"]),
        )
        for r in test.index[~test["eeg_id"].isin(submission["eeg_id"])]
    ]  # fmt: skip
    apply_bad_row_policy(test, violations, "error")
    logger.info("Read %s: %d test EEGs", source, len(test))
    return test


def make_label_table(train: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per EEG with summed votes and targets, split by patient."""
    table = build_label_table(train, params["high_vote_threshold"])
    table = assign_splits(table, params["holdout_fraction"], params["n_folds"], params["seed"])
    logger.info(
        "Label table: %d EEGs (%d high-vote), %d held out, %d folds",
        len(table), int(table["high_vote"].sum()), int((table["split"] == HOLDOUT_SPLIT).sum()),
        params["n_folds"],
    )  # fmt: skip
    return table
