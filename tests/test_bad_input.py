"""Every kind of bad input, through real runs of ingestion and the preprocessing pass that
checks each window's data as it reads the files: a clear error naming the file, the row
and the rule, or (``on_bad_rows: skip``) the row left out, counted and reported."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.runner import SequentialRunner

from eeg_hba.hms.layout import EEG_CHANNELS, VOTE_COLUMNS

from .hand_folder import hand_train_rows

pytestmark = pytest.mark.slow
SMALL_RUN = {
    "ingestion": {"holdout_fraction": 0.2, "n_folds": 2, "workers": 1},
    "preprocessing": {"workers": 1, "features": {"image_height": 32, "image_width": 32}},
}
# Rows 4, 5 and 6 of the hand folder are the three windows of EEG 1020 (patient 102).
EEG_1020_ROWS = (4, 5, 6)


def _edit_rows(change: Callable[[list[dict]], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        rows = hand_train_rows()
        change(rows)
        pd.DataFrame(rows).to_csv(folder / "train.csv", index=False)

    return edit


def _edit_parquet(
    relative: str, change: Callable[[pd.DataFrame], pd.DataFrame]
) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / relative
        change(pd.read_parquet(path)).to_parquet(path)

    return edit


def _edit_eeg(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    return _edit_parquet("train_eegs/1020.parquet", change)


def _write_bytes(relative: str, cut: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / relative
        path.write_bytes(cut(path.read_bytes()))

    return edit


def _with_nan(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame[columns] = np.nan
    return frame


def _with_infinity(frame: pd.DataFrame, row: int, column: str, sign: float) -> pd.DataFrame:
    frame.loc[frame.index[row], column] = sign * np.inf
    return frame


def _eeg_rule(rule: str, rows=EEG_1020_ROWS) -> list[str]:
    return [
        f"train.csv, row {r} (line {r + 2}): column 'eeg_id' value 1020 breaks rule: "
        f"referenced file {{folder}}/train_eegs/1020.parquet {rule}"
        for r in rows
    ]


BAD_INPUTS = {
    "missing column": (
        _edit_rows(lambda rows: [r.pop("lpd_vote") for r in rows]),
        ["train.csv, header: breaks rule: required column 'lpd_vote' is missing"],
    ),
    "renamed column": (
        _edit_rows(lambda rows: [r.update(lpd_votes=r.pop("lpd_vote")) for r in rows]),
        [
            "train.csv, header: breaks rule: required column 'lpd_vote' is missing",
            "train.csv, header: breaks rule: column 'lpd_votes' is not in the HMS layout",
        ],
    ),
    "wrong dtype in the table": (
        _edit_rows(lambda rows: rows[6].update(lpd_vote="two")),
        [
            "train.csv, row 6 (line 8): column 'lpd_vote' value 'two' breaks rule: "
            "lpd_vote must be a non-negative integer vote count"
        ],
    ),
    "wrong dtype in an EEG file": (
        _edit_eeg(lambda eeg: eeg.astype({"Cz": str})),
        _eeg_rule("must follow the HMS EEG layout: must be a float column"),
    ),
    "unknown class": (
        _edit_rows(lambda rows: rows[4].update(expert_consensus="Seizures")),
        [
            "train.csv, row 4 (line 6): column 'expert_consensus' value 'Seizures' breaks "
            "rule: expert_consensus must be one of ['Seizure', 'LPD', 'GPD', 'LRDA', 'GRDA', 'Other']"
        ],
    ),
    "votes summing to 0": (
        _edit_rows(lambda rows: rows[2].update(dict.fromkeys(VOTE_COLUMNS, 0))),
        ["train.csv, row 2 (line 4): breaks rule: the six votes must not sum to 0"],
    ),
    "negative offset": (
        _edit_rows(lambda rows: rows[5].update(eeg_label_offset_seconds=-2.0)),
        [
            "train.csv, row 5 (line 7): column 'eeg_label_offset_seconds' value '-2.0' breaks "
            "rule: eeg_label_offset_seconds must be a non-negative number of seconds"
        ],
    ),
    "window past the end of its file": (
        _edit_rows(lambda rows: rows[6].update(eeg_label_offset_seconds=20.0)),
        _eeg_rule(
            "must hold the window: the 50 s EEG window at offset 20.0 s needs rows "
            "4000-13999, the file has 12000 rows",
            rows=[6],
        ),
    ),
    "referenced file missing": (
        lambda folder: (folder / "train_eegs/1020.parquet").unlink(),
        _eeg_rule("does not exist"),
    ),
    "truncated parquet": (
        _write_bytes("train_eegs/1020.parquet", lambda data: data[: len(data) // 2]),
        _eeg_rule("must be a readable parquet file ("),
    ),
    "corrupt parquet": (
        _write_bytes("train_eegs/1020.parquet", lambda data: b"\x00garbage" * 100),
        _eeg_rule("must be a readable parquet file ("),
    ),
    "empty parquet file": (
        _write_bytes("train_eegs/1020.parquet", lambda data: b""),
        _eeg_rule("must be a readable parquet file ("),
    ),
    "parquet with no rows": (
        _edit_eeg(lambda eeg: eeg.iloc[:0]),
        _eeg_rule("must have at least one row"),
    ),
    "empty train.csv": (
        _write_bytes("train.csv", lambda data: b""),
        ["train.csv, header: breaks rule: the file must be a CSV table with a header row"],
    ),
    "train.csv with a header only": (
        _write_bytes("train.csv", lambda data: data.splitlines(keepends=True)[0]),
        ["train.csv, header: breaks rule: the file must have at least one data row"],
    ),
    "wrong EEG channel name": (
        _edit_eeg(lambda eeg: eeg.rename(columns={"Cz": "CZ"})),
        _eeg_rule(
            "must follow the HMS EEG layout: required column 'Cz' is missing; "
            "column 'CZ' is not in the HMS layout"
        ),
    ),
    "missing EEG channel": (
        _edit_eeg(lambda eeg: eeg.drop(columns=["EKG"])),
        _eeg_rule("must follow the HMS EEG layout: required column 'EKG' is missing"),
    ),
    "all-NaN channels": (
        _edit_eeg(lambda eeg: _with_nan(eeg, ["Fp1", "F3"])),
        _eeg_rule(
            "may have at most 1 all-NaN channel(s) in the window at offset 0.0 s, "
            "has 2: ['Fp1', 'F3']",
            rows=[4],
        ),
    ),
    "all-NaN window": (
        _edit_eeg(lambda eeg: _with_nan(eeg, list(EEG_CHANNELS))),
        _eeg_rule("has only NaN in the window at offset 10.0 s", rows=[6]),
    ),
    # sample 100 (0.5 s) lies only in the window at offset 0 s (row 4); offsets 4 and 10 s
    # follow
    "+inf in an EEG window": (
        _edit_eeg(lambda eeg: _with_infinity(eeg, 100, "T3", +1)),
        _eeg_rule(
            "must hold only finite values or NaN in the window at offset 0.0 s, has +inf or "
            "-inf in 1 column(s): ['T3']",
            rows=[4],
        ),
    ),
    # file row 150, the frame at 301 s: only in the 600 s window at offset 300 s (row 4),
    # not in those at 304 or 310 s
    "-inf in a spectrogram window": (
        _edit_parquet(
            "train_spectrograms/10200.parquet",
            lambda frame: _with_infinity(frame, 150, "LL_0.59", -1),
        ),
        [
            "train.csv, row 4 (line 6): column 'spectrogram_id' value 10200 breaks rule: "
            "referenced file {folder}/train_spectrograms/10200.parquet must hold only finite "
            "values or NaN in the window at offset 300.0 s, has +inf or -inf in 1 column(s): "
            "['LL_0.59']"
        ],
    ),
    "duplicate label_id": (
        _edit_rows(lambda rows: rows[3].update(label_id=1)),
        [
            "train.csv, row 3 (line 5): column 'label_id' value 1 breaks rule: "
            "label_id must be unique: it repeats an earlier row"
        ],
    ),
    "id that is not a plain integer": (
        _edit_rows(lambda rows: rows[1].update(eeg_id="../../etc/passwd")),
        [
            "train.csv, row 1 (line 3): column 'eeg_id' value '../../etc/passwd' breaks "
            "rule: eeg_id must be a plain non-negative integer"
        ],
    ),
    "non-HMS CSV as train.csv": (
        lambda folder: (folder / "train.csv").write_text("id,price\n1,3.5\n"),
        ["train.csv, header: breaks rule: required column 'eeg_id' is missing"],
    ),
}


def _run_checks(project: Path, folder: Path) -> None:
    """Ingestion and preprocessing over the project's catalog, without the session's hooks
    (the MLflow run they start is half of a short run's time and not under test here)."""
    with KedroSession.create(
        project_path=project, runtime_params={"raw_data_dir": str(folder), **SMALL_RUN}
    ) as session:
        SequentialRunner().run(
            pipelines["ingestion"] + pipelines["preprocessing"], session.load_context().catalog
        )


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_stops_the_run_naming_file_row_and_rule(name, kedro_project, hand_folder):
    edit, expected = BAD_INPUTS[name]
    edit(hand_folder)
    with pytest.raises(Exception) as error:
        _run_checks(kedro_project, hand_folder)
    message = str(error.value)
    for line in expected:
        assert line.format(folder=hand_folder) in message
    assert not Path("data/05_model_input/label_table.parquet").exists()


def _kedro_cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=ingestion,preprocessing", *args],
        cwd=project, capture_output=True, text=True, check=False,
        env={**os.environ, "COLUMNS": "400", "KEDRO_DISABLE_TELEMETRY": "true"},
    )  # fmt: skip


def test_cli_exits_non_zero_naming_file_row_and_rule(kedro_project, hand_folder):
    BAD_INPUTS["truncated parquet"][0](hand_folder)
    result = _kedro_cli(kedro_project, f"--params=raw_data_dir={hand_folder}")
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    expected = _eeg_rule("must be a readable parquet file")[0].format(folder=hand_folder)
    assert expected in output


def test_skip_leaves_bad_rows_out_counts_and_reports_them(kedro_project, hand_folder):
    BAD_INPUTS["corrupt parquet"][0](hand_folder)  # rows 4-6: EEG 1020 unreadable
    rows = hand_train_rows()
    rows[9].update(expert_consensus="Seizures")  # row 9: the middle window of EEG 1030
    rows[13]["eeg_id"] = "1040/../../x"  # row 13, a window of EEG 1040: a path, not an id
    pd.DataFrame(rows).to_csv(hand_folder / "train.csv", index=False)
    result = _kedro_cli(
        kedro_project, f"--params=raw_data_dir={hand_folder},ingestion.on_bad_rows=skip"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = " ".join((result.stdout + result.stderr).split())
    assert f"Left out 5 of 24 rows of {hand_folder / 'train.csv'}" in output

    rejected = pd.read_csv(kedro_project / "data/08_reporting/rejected_rows.csv")
    assert rejected["row"].tolist() == [4, 5, 6, 9, 13]
    assert rejected["line"].tolist() == [6, 7, 8, 11, 15]
    assert (rejected["file"] == str(hand_folder / "train.csv")).all()
    assert rejected["rule"][0].startswith(
        f"referenced file {hand_folder / 'train_eegs/1020.parquet'} must be a readable parquet"
    )
    assert rejected.loc[3, "rule"].startswith("expert_consensus must be one of")
    assert rejected.loc[4, "rule"] == "eeg_id must be a plain non-negative integer"

    table = pd.read_parquet(kedro_project / "data/05_model_input/label_table.parquet")
    assert 1020 not in set(table["eeg_id"])  # every window of the unreadable file is out
    by_eeg = table.set_index("eeg_id")
    assert by_eeg.loc[1040, "n_sub_windows"] == 2  # rows 12 and 14 remain
    assert by_eeg.loc[1040, "seizure_vote"] == 3 + 4
    assert by_eeg.loc[1030, "n_sub_windows"] == 2 and len(table) == 12 - 1
    kept = pd.read_parquet(kedro_project / "data/02_intermediate/train_labels.parquet")
    assert len(kept) == 24 - 5
