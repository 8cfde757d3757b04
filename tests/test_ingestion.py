"""The label table through real Kedro runs of ingestion and preprocessing (which checks
the window data and builds it): a hand-written HMS folder, the embedded default.

Bad input has its own tests in test_bad_input.py.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eeg_hba.hms.layout import TARGET_COLUMNS, VOTE_COLUMNS

from .hand_folder import HAND_PATIENTS
from .projects import TINY_SYNTHETIC

pytestmark = pytest.mark.slow
SMALL_SPLITS = {"holdout_fraction": 0.2, "n_folds": 2}


def _label_table(project: Path) -> pd.DataFrame:
    return pd.read_parquet(project / "data/05_model_input/label_table.parquet").set_index("eeg_id")


def _ingest(run_pipeline, **params) -> None:
    small = {"preprocessing": {"features": {"image_height": 32, "image_width": 32}}}
    for name in ("ingestion", "preprocessing"):
        run_pipeline(name, **small, **params)


def test_label_table_from_a_hand_written_folder(run_pipeline, kedro_project, hand_folder):
    _ingest(run_pipeline, raw_data_dir=str(hand_folder), ingestion=SMALL_SPLITS)
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
    _ingest(run_pipeline, raw_data_dir=str(hand_folder), ingestion=SMALL_SPLITS)
    table = _label_table(kedro_project)
    assert set(table["split"]) == {"train", "holdout"}
    assert set(table.loc[table["split"] == "train", "fold"]) == {0, 1}
    assert (table.loc[table["split"] == "holdout", "fold"] == -1).all()
    groups = table["split"] + table["fold"].astype(str)
    assert (table.groupby("patient_id").apply(lambda g: groups[g.index].nunique()) == 1).all()


def test_a_fresh_clone_ingests_the_embedded_default_once_generated(run_pipeline, kedro_project):
    run_pipeline("synthetic", synthetic={"presets": {"default": TINY_SYNTHETIC}})
    _ingest(run_pipeline, synthetic={"presets": {"default": TINY_SYNTHETIC}})
    assert (kedro_project / "data/01_raw/synthetic_truth/manifest.json").exists()
    table = _label_table(kedro_project)
    assert len(table) == TINY_SYNTHETIC["n_eegs"]
    assert table["split"].eq("holdout").any()
