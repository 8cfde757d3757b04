"""A small HMS folder written by hand, independent of the synthetic generator."""

from pathlib import Path

import numpy as np
import pandas as pd

from eeg_hba.hms.layout import (
    CLASSES,
    EEG_CHANNELS,
    EEG_SAMPLING_HZ,
    SPECTROGRAM_COLUMNS,
    VOTE_COLUMNS,
)

HAND_PATIENTS = (101, 102, 103, 104, 105, 106)


def hand_train_rows() -> list[dict]:
    """Two EEGs per patient; EEG ``p*10`` has three sub-windows, ``p*10+1`` one.

    Votes are chosen so that the summed totals are known: EEG p*10 sums to
    seizure 3+3+4=10, other 1+1+0=2 (12 experts at most 5 per window).
    """
    rows = []
    label = 1
    for patient in HAND_PATIENTS:
        spectrogram = patient * 100
        for sub, (offset, votes) in enumerate(
            [(0.0, (3, 0, 0, 0, 0, 1)), (4.0, (3, 0, 0, 0, 0, 1)), (10.0, (4, 0, 0, 0, 0, 0))]
        ):
            rows.append(
                _row(
                    patient * 10,
                    sub,
                    offset,
                    spectrogram,
                    300.0,
                    label=label,
                    patient=patient,
                    votes=votes,
                )
            )
            label += 1
        rows.append(
            _row(
                patient * 10 + 1,
                0,
                0.0,
                spectrogram,
                700.0,
                label=label,
                patient=patient,
                votes=(0, 1, 11, 0, 0, 2),
            )
        )
        label += 1
    return rows


def _row(eeg, sub, offset, spectrogram, spectrogram_start, *, label, patient, votes) -> dict:
    return {
        "eeg_id": eeg,
        "eeg_sub_id": sub,
        "eeg_label_offset_seconds": offset,
        "spectrogram_id": spectrogram,
        "spectrogram_sub_id": sub,
        "spectrogram_label_offset_seconds": spectrogram_start + offset,
        "label_id": label,
        "patient_id": patient,
        "expert_consensus": CLASSES[int(np.argmax(votes))],
        **dict(zip(VOTE_COLUMNS, votes, strict=True)),
    }


def write_hand_folder(folder: Path, train_rows: list[dict] | None = None) -> Path:
    """Write train/test tables and small parquet files for every id they reference."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame(train_rows or hand_train_rows())  # columns as given, even if broken
    test = pd.DataFrame({"spectrogram_id": [9001], "eeg_id": [9002], "patient_id": [999]})
    submission = pd.DataFrame({"eeg_id": [9002], **{c: [1 / 6] for c in VOTE_COLUMNS}})
    for sub in ("train_eegs", "train_spectrograms", "test_eegs", "test_spectrograms"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    submission.to_csv(folder / "sample_submission.csv", index=False)
    for eeg_id in {*train["eeg_id"], *test["eeg_id"]} - {
        i for i in train["eeg_id"] if not str(i).isdigit()
    }:
        kind = "test_eegs" if eeg_id in set(test["eeg_id"]) else "train_eegs"
        eeg = rng.normal(0, 20, (60 * EEG_SAMPLING_HZ, len(EEG_CHANNELS))).astype(np.float32)
        pd.DataFrame(eeg, columns=list(EEG_CHANNELS)).to_parquet(
            folder / kind / f"{eeg_id}.parquet"
        )
    for spectrogram_id in {*train["spectrogram_id"], *test["spectrogram_id"]}:
        kind = (
            "test_spectrograms"
            if spectrogram_id in set(test["spectrogram_id"])
            else "train_spectrograms"
        )
        frame = pd.DataFrame(
            rng.gamma(1.0, 2.0, (700, len(SPECTROGRAM_COLUMNS) - 1)).astype(np.float32),
            columns=list(SPECTROGRAM_COLUMNS[1:]),
        )
        frame.insert(0, "time", np.arange(1, 1400, 2, dtype=np.int64))
        frame.to_parquet(folder / kind / f"{spectrogram_id}.parquet")
    return folder
