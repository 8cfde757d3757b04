"""Ingestion through real Kedro runs: a hand-written HMS folder, bad input, the embedded default."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eeg_hba.contract import HmsContractError
from eeg_hba.hms import TARGET_COLUMNS, VOTE_COLUMNS

from .conftest import TINY_SYNTHETIC
from .hand_folder import HAND_PATIENTS, hand_train_rows, write_hand_folder

pytestmark = pytest.mark.slow
SMALL_SPLITS = {"test_fraction": 0.2, "n_folds": 2}


def _label_table(project: Path) -> pd.DataFrame:
    return pd.read_parquet(project / "data/03_primary/label_table.parquet").set_index("eeg_id")


def test_label_table_from_a_hand_written_folder(run_pipeline, kedro_project, hand_folder):
    run_pipeline("ingestion", raw_data_dir=str(hand_folder), ingestion=SMALL_SPLITS)
    table = _label_table(kedro_project)
    assert len(table) == 2 * len(HAND_PATIENTS)  # one row per eeg_id

    three_windows = table.loc[1010]  # sub-windows at 0, 4 and 10 s; votes summed
    assert three_windows["n_sub_windows"] == 3
    assert three_windows["seizure_vote"] == 10 and three_windows["other_vote"] == 2
    assert three_windows["vote_total"] == 12 and three_windows["n_experts"] == 4
    assert three_windows["seizure_target"] == pytest.approx(10 / 12)
    assert three_windows["eeg_label_offset_seconds"] == 4.0  # the middle sub-window
    assert three_windows["spectrogram_label_offset_seconds"] == 304.0
    assert not three_windows["high_vote"]
    one_window = table.loc[1011]
    assert one_window["gpd_target"] == pytest.approx(11 / 14) and one_window["high_vote"]
    assert one_window["expert_consensus"] == "GPD"

    np.testing.assert_allclose(table[list(TARGET_COLUMNS)].sum(axis=1), 1.0)
    assert (table[list(VOTE_COLUMNS)].sum(axis=1) == table["vote_total"]).all()


def test_no_patient_is_in_two_splits_or_folds(run_pipeline, kedro_project, hand_folder):
    run_pipeline("ingestion", raw_data_dir=str(hand_folder), ingestion=SMALL_SPLITS)
    table = _label_table(kedro_project)
    assert set(table["split"]) == {"train", "test"}
    assert set(table.loc[table["split"] == "train", "fold"]) == {0, 1}
    assert (table.loc[table["split"] == "test", "fold"] == -1).all()
    groups = table["split"] + table["fold"].astype(str)
    assert (table.groupby("patient_id").apply(lambda g: groups[g.index].nunique()) == 1).all()


def _write_bad_folder(folder: Path, change) -> Path:
    rows = hand_train_rows()
    change(rows)
    return write_hand_folder(folder, rows)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda rows: [r.pop("lpd_vote") for r in rows],
            r"train\.csv, header: breaks rule: required column 'lpd_vote' is missing",
        ),
        (
            lambda rows: rows[4].update(expert_consensus="Seizures"),
            r"train\.csv, row 4 \(line 6\): column 'expert_consensus' value 'Seizures' "
            r"breaks rule: expert_consensus must be one of",
        ),
        (
            lambda rows: rows[2].update(dict.fromkeys(VOTE_COLUMNS, 0)),
            r"train\.csv, row 2 \(line 4\): breaks rule: the six votes must not sum to 0",
        ),
    ],
)
def test_malformed_train_table_stops_ingestion(run_pipeline, tmp_path, change, expected):
    folder = _write_bad_folder(tmp_path / "bad", change)
    with pytest.raises(HmsContractError, match=expected):
        run_pipeline("ingestion", raw_data_dir=str(folder), ingestion=SMALL_SPLITS)
    assert not Path("data/03_primary/label_table.parquet").exists()


def test_missing_referenced_file_names_file_row_and_path(run_pipeline, hand_folder):
    (hand_folder / "train_eegs/1020.parquet").unlink()
    with pytest.raises(HmsContractError) as error:
        run_pipeline("ingestion", raw_data_dir=str(hand_folder), ingestion=SMALL_SPLITS)
    message = str(error.value)
    assert f"{hand_folder / 'train.csv'}, row 4 (line 6): column 'eeg_id' value 1020" in message
    assert f"referenced file {hand_folder / 'train_eegs/1020.parquet'} does not exist" in message
    assert "row 6 (line 8)" in message  # every row of that EEG is listed


def test_cli_exits_non_zero_with_the_message(kedro_project, tmp_path):
    folder = _write_bad_folder(tmp_path / "bad", lambda rows: rows[1].update(eeg_id="1010/../x"))
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=ingestion",
         f"--params=raw_data_dir={folder}"],
        cwd=kedro_project, capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"},
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert (
        "row 1 (line 3): column 'eeg_id' value '1010/../x' breaks rule: "
        "eeg_id must be a plain non-negative integer" in output
    )


def test_fresh_clone_ingestion_generates_the_embedded_default(run_pipeline, kedro_project):
    run_pipeline("ingestion", synthetic={"presets": {"default": TINY_SYNTHETIC}})
    assert (kedro_project / "data/01_raw/synthetic_truth/manifest.json").exists()
    table = _label_table(kedro_project)
    assert len(table) == TINY_SYNTHETIC["n_eegs"]
    assert table["split"].eq("test").any()
