"""Thin glue: check the raw HMS folder against the contract, from its tables and the
footers of its files; the data in the files is checked where it is read (preprocessing)."""

import logging
from pathlib import Path

import pandas as pd

from eeg_hba.hms.contract import (
    Violation,
    apply_bad_row_policy,
    parse_submission_table,
    parse_test_windows,
    referenced_file_violations,
    screen_train_table,
)

logger = logging.getLogger(__name__)


def validate_train_labels(
    raw_train: pd.DataFrame,
    train_eeg_layouts: dict,
    train_spectrogram_layouts: dict,
    raw_data_dir: str,
    params: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """train.csv checked cell by cell and typed, with the layout of the files it
    references; each row keeps its number in train.csv (``row``). Rows that break a rule
    stop the run or, with ``on_bad_rows: skip``, are left out and reported."""
    source = str(Path(raw_data_dir) / "train.csv")
    train, violations = screen_train_table(raw_train, source)
    violations += referenced_file_violations(
        train, source, raw_data_dir, "train", train_eeg_layouts, train_spectrogram_layouts,
        params["workers"],
    )  # fmt: skip
    train, rejected = apply_bad_row_policy(train, violations, params["on_bad_rows"])
    if not rejected.empty:
        logger.warning(
            "%d of %d rows of %s break the HMS contract (on_bad_rows: skip): left out, and "
            "listed with their reason in the rejected_rows report after preprocessing",
            rejected["row"].nunique(), len(raw_train), source,
        )  # fmt: skip
    logger.info(
        "Read %s: %d rows, %d EEGs, %d spectrograms, %d patients",
        source, len(train), train["eeg_id"].nunique(), train["spectrogram_id"].nunique(),
        train["patient_id"].nunique(),
    )  # fmt: skip
    return train.rename_axis("row").reset_index(), rejected


def validate_test_windows(
    raw_test: pd.DataFrame,
    raw_sample_submission: pd.DataFrame,
    test_eeg_layouts: dict,
    test_spectrogram_layouts: dict,
    raw_data_dir: str,
    params: dict,
) -> pd.DataFrame:
    """test.csv checked and typed (each row keeping its number, ``row``), its files'
    layout, and sample_submission covering it.

    A bad test row always stops the run: leaving it out would leave the submission short.
    """
    source = str(Path(raw_data_dir) / "test.csv")
    test = parse_test_windows(raw_test, source)
    violations = referenced_file_violations(
        test, source, raw_data_dir, "test", test_eeg_layouts, test_spectrogram_layouts,
        params["workers"],
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
    return test.rename_axis("row").reset_index()
