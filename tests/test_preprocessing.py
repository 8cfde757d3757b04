"""Preprocessing: shard planning, one read per file, the window data checked in that
read, determinism across runs and workers."""

import shutil
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.io import AbstractDataset
from kedro.runner import SequentialRunner

from eeg_hba.hms.contract import HmsContractError
from eeg_hba.hms.labels import image_windows
from eeg_hba.hms.layout import TARGET_COLUMNS, VOTE_COLUMNS
from eeg_hba.hms.prediction_table import mean_over_images
from eeg_hba.preprocessing.shards import compute_shard, plan_rows, plan_shards, shard_jobs
from eeg_hba.synthetic import (
    SyntheticConfig,
    eeg_file_frame,
    plan_dataset,
    spectrogram_file_frame,
)

from .hand_folder import hand_train_rows
from .projects import TINY_SYNTHETIC, feature_config


def test_shards_keep_each_spectrogram_whole():
    windows = pd.DataFrame(
        {"spectrogram_id": [5, 5, 5, 1, 2, 2, 9], "eeg_id": [50, 51, 52, 10, 20, 21, 90]}
    )
    planned = plan_shards(windows, shard_size=3)
    assert planned.groupby("spectrogram_id")["shard"].nunique().max() == 1
    # sorted by spectrogram: 1 | 2 2 | 5 5 5 | 9; a shard closes once it holds 3 windows
    assert planned["eeg_id"].tolist() == [10, 20, 21, 50, 51, 52, 90]
    assert planned["shard"].tolist() == ["shard-00000"] * 3 + ["shard-00001"] * 3 + ["shard-00002"]
    assert planned.groupby("shard")["position"].apply(list).tolist() == [[0, 1, 2], [0, 1, 2], [0]]


def _counted_synthetic_files(calls: Counter) -> tuple[pd.DataFrame, dict, dict]:
    """The tiny synthetic plan's label rows, and loaders of its files (pyarrow Tables,
    made in memory) that count their calls."""
    config = SyntheticConfig(**TINY_SYNTHETIC)
    plan = plan_dataset(config)

    def counted(key: str, frame: Callable[[], pd.DataFrame]) -> pa.Table:
        calls[key] += 1
        return pa.Table.from_pandas(frame(), preserve_index=False)

    episodes = [e for r in plan.train_recordings for e in r.episodes]
    eegs = {
        str(e.eeg_id): partial(counted, f"eeg {e.eeg_id}", partial(eeg_file_frame, e, config))
        for e in episodes
    }
    spectrograms = {
        str(r.spectrogram_id): partial(
            counted, f"spectrogram {r.spectrogram_id}", partial(spectrogram_file_frame, r, config)
        )
        for r in plan.train_recordings
    }
    rows = plan.train.rename_axis("row").reset_index()  # every sub-window, as after ingestion
    return rows, eegs, spectrograms


def test_every_raw_file_is_read_once():
    calls = Counter()
    rows, eegs, spectrograms = _counted_synthetic_files(calls)
    planned = plan_rows(rows, shard_size=4)
    features = feature_config("kaggle", image_height=32, image_width=32)
    shards = [compute_shard(job) for job in shard_jobs(planned, spectrograms, eegs, features, 1)]
    assert sum(len(arrays["images"]) for arrays in shards) == rows["eeg_id"].nunique()
    assert len(calls) == len(eegs) + len(spectrograms)
    assert set(calls.values()) == {1}


def test_each_file_is_read_once_when_several_windows_share_it():
    """One image per label row (``images_per_eeg`` None: several per EEG and per
    spectrogram file) reads each file once too: the pass loads a file once for all the
    windows cut from it, and each image carries its own sub-window's votes."""
    calls = Counter()
    rows, eegs, spectrograms = _counted_synthetic_files(calls)
    planned = plan_rows(rows, shard_size=16, per_eeg=None)
    features = feature_config("kaggle", image_height=32, image_width=32)
    jobs = shard_jobs(planned, spectrograms, eegs, features, 1, images_per_eeg=None)
    made = [compute_shard(job) for job in jobs]
    assert sum(len(arrays["images"]) for arrays in made) == len(rows) > rows["eeg_id"].nunique()
    assert len(calls) == len(eegs) + len(spectrograms)
    assert set(calls.values()) == {1}
    votes = rows[list(VOTE_COLUMNS)].to_numpy(float)
    expected = np.sort(votes / votes.sum(axis=1, keepdims=True), axis=0)
    targets = np.concatenate([arrays["targets"] for arrays in made])
    np.testing.assert_allclose(np.sort(targets, axis=0), expected, rtol=1e-6)


def _shards(project: Path, namespace: str) -> dict[str, dict[str, np.ndarray]]:
    folder = project / "data/05_model_input" / namespace / "shards"
    return {p.stem: dict(np.load(p)) for p in sorted(folder.glob("*.npz"))}


@pytest.mark.slow
def test_output_is_identical_across_runs_and_worker_counts(run_pipeline, kedro_project):
    tiny = {"synthetic": {"presets": {"default": TINY_SYNTHETIC}}}
    small_images = {"shard_size": 4, "features": {"image_height": 32, "image_width": 32}}
    run_pipeline("synthetic", **tiny)
    run_pipeline("ingestion", **tiny)
    run_pipeline("preprocessing", **tiny, preprocessing={**small_images, "workers": 1})
    first = _shards(kedro_project, "train_inputs")
    index = pd.read_parquet(kedro_project / "data/05_model_input/train_inputs/index.parquet")
    shutil.rmtree(kedro_project / "data/05_model_input")  # or the re-run resumes: no work
    run_pipeline("preprocessing", **tiny, preprocessing={**small_images, "workers": 2})
    second = _shards(kedro_project, "train_inputs")

    assert len(first) > 1 and first.keys() == second.keys()
    for name in first:
        for key in ("images", "eeg_id", "targets"):
            np.testing.assert_array_equal(first[name][key], second[name][key])
    # an image per labelled sub-window (images_per_eeg: null), every EEG among them
    assert len(index) == TINY_SYNTHETIC["n_rows"]
    assert index["eeg_id"].nunique() == TINY_SYNTHETIC["n_eegs"]
    for row in index.itertuples():
        assert first[row.shard]["eeg_id"][row.position] == row.eeg_id
    images = np.concatenate([s["images"] for s in first.values()])
    assert images.shape[1:] == (32, 32) and np.isfinite(images).all()

    test = _shards(kedro_project, "test_inputs")  # the test folder, through the same code
    assert sum(len(s["images"]) for s in test.values()) == TINY_SYNTHETIC["n_test_eegs"]
    assert all("targets" not in s for s in test.values())


SMALL = {
    "ingestion": {"holdout_fraction": 0.2, "n_folds": 2, "workers": 1},
    "preprocessing": {"shard_size": 4, "workers": 1,
                      "features": {"image_height": 32, "image_width": 32}},
}  # fmt: skip
RAW_FILES = ("eegs", "spectrograms")


class _CountedPartitions(AbstractDataset):
    """A raw partitioned dataset whose partition loaders count each call, then load."""

    def __init__(self, dataset: AbstractDataset, name: str, loads: Counter):
        self._dataset, self._name, self._loads = dataset, name, loads

    def load(self) -> dict[str, Callable[[], Any]]:
        return {
            partition: partial(self._counted, partition, loader)
            for partition, loader in self._dataset.load().items()
        }

    def _counted(self, partition: str, loader: Callable[[], Any]) -> Any:
        self._loads[self._name, partition] += 1
        return loader()

    def save(self, data: Any) -> None:
        raise NotImplementedError

    def _describe(self) -> dict[str, Any]:
        return {"counts": self._name}


@pytest.mark.slow
def test_ingestion_and_preprocessing_read_each_raw_file_once(kedro_project, hand_folder):
    """Ingestion reads only each file's footer (and a spectrogram's time column); the
    preprocessing pass reads each file's data once, checks and cuts every window from it."""
    files = {
        (f"raw_{split}_{kind}", path.stem)
        for split in ("train", "test")
        for kind in RAW_FILES
        for path in (hand_folder / f"{split}_{kind}").glob("*.parquet")
    }
    data, layouts = Counter(), Counter()
    with KedroSession.create(
        project_path=kedro_project, runtime_params={"raw_data_dir": str(hand_folder), **SMALL}
    ) as session:
        catalog = session.load_context().catalog
        for split in ("train", "test"):
            for kind in RAW_FILES:
                name = f"raw_{split}_{kind}"
                catalog[name] = _CountedPartitions(catalog[name], name, data)
                layout = f"raw_{split}_{kind[:-1]}_layouts"
                catalog[layout] = _CountedPartitions(catalog[layout], name, layouts)
        SequentialRunner().run(pipelines["ingestion"], catalog)
        assert not data  # ingestion reads no data
        assert layouts == dict.fromkeys(files, 1)
        SequentialRunner().run(pipelines["preprocessing"], catalog)
    assert data == dict.fromkeys(files, 1)
    assert layouts == dict.fromkeys(files, 1)
    index = pd.read_parquet(kedro_project / "data/05_model_input/train_inputs/index.parquet")
    # every sub-window of every EEG of the hand folder, from one read of its files
    assert len(index) == len(hand_train_rows()) == 24 and index["eeg_id"].nunique() == 12


def _nan_from_10_seconds(folder: Path) -> None:
    """EEG 1020 (rows 4, 5, 6: windows at 0, 4 and 10 s of its 60 s) loses Fp1 and F3
    from 10 s on: only the window at 10 s has two all-NaN channels."""
    path = folder / "train_eegs/1020.parquet"
    eeg = pd.read_parquet(path)
    eeg.loc[10 * 200 :, ["Fp1", "F3"]] = np.nan
    eeg.to_parquet(path)


def _run(project: Path, folder: Path, on_bad_rows: str) -> None:
    params = {**SMALL, "ingestion": {**SMALL["ingestion"], "on_bad_rows": on_bad_rows}}
    with KedroSession.create(
        project_path=project, runtime_params={"raw_data_dir": str(folder), **params}
    ) as session:
        catalog = session.load_context().catalog
        SequentialRunner().run(pipelines["ingestion"] + pipelines["preprocessing"], catalog)


@pytest.mark.slow
def test_window_data_broken_in_one_sub_window_stops_the_run_naming_its_row(
    kedro_project, hand_folder
):
    _nan_from_10_seconds(hand_folder)
    with pytest.raises(HmsContractError) as error:
        _run(kedro_project, hand_folder, "error")
    assert [(v.row, v.column, v.value) for v in error.value.violations] == [(6, "eeg_id", 1020)]
    assert (
        f"train.csv, row 6 (line 8): column 'eeg_id' value 1020 breaks rule: referenced file "
        f"{hand_folder}/train_eegs/1020.parquet may have at most 1 all-NaN channel(s) in the "
        "window at offset 10.0 s, has 2: ['Fp1', 'F3']"
    ) in str(error.value)
    assert not (kedro_project / "data/05_model_input/label_table.parquet").exists()


@pytest.mark.slow
def test_skip_leaves_out_the_sub_window_whose_data_breaks_a_rule(kedro_project, hand_folder):
    _nan_from_10_seconds(hand_folder)
    _run(kedro_project, hand_folder, "skip")
    rejected = pd.read_csv(kedro_project / "data/08_reporting/rejected_rows.csv")
    assert rejected["row"].tolist() == [6] and rejected["line"].tolist() == [8]
    assert "may have at most 1 all-NaN channel(s)" in rejected.loc[0, "rule"]
    table = pd.read_parquet(kedro_project / "data/05_model_input/label_table.parquet")
    eeg_1020 = table.set_index("eeg_id").loc[1020]
    votes = hand_train_rows()[4:6]  # rows 4 and 5 remain: windows at 0 and 4 s
    assert eeg_1020["n_sub_windows"] == 2
    assert eeg_1020["seizure_vote"] == sum(r["seizure_vote"] for r in votes) == 6
    assert eeg_1020["eeg_label_offset_seconds"] == 4.0  # the middle of the two remaining
    index = pd.read_parquet(kedro_project / "data/05_model_input/train_inputs/index.parquet")
    images = index[index["eeg_id"] == 1020]  # one per remaining sub-window, its own votes
    assert len(images) == 2
    for image in images.itertuples():
        shard = _shards(kedro_project, "train_inputs")[image.shard]
        assert shard["eeg_id"][image.position] == 1020
        np.testing.assert_allclose(shard["targets"][image.position], [3 / 4, 0, 0, 0, 0, 1 / 4])


@pytest.mark.slow
def test_shards_of_an_earlier_plan_in_the_folder_are_ignored(kedro_project, hand_folder):
    """A shard left from an earlier, larger plan (same eeg_ids, a broken rule) changes
    neither the label table nor the index."""
    _run(kedro_project, hand_folder, "error")
    folder = kedro_project / "data/05_model_input/train_inputs"
    index = pd.read_parquet(folder / "index.parquet")
    stale = dict(np.load(folder / "shards/shard-00000.npz"))
    stale.update(problem_row=np.array([0]), problem_column=np.array(["eeg_id"]),
                 problem_file_id=np.array([1010]), problem=np.array(["has only NaN"]))  # fmt: skip
    np.savez(folder / "shards/shard-09999.npz", **stale)
    _run(kedro_project, hand_folder, "error")
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "index.parquet"), index)


def test_image_windows_split_an_eegs_sub_windows_into_runs_with_their_own_votes():
    """EEG 1010 of the hand folder has sub-windows at 0, 4 and 10 s voting (3, .., 1),
    (3, .., 1) and (4, .., 0): one image is the middle one with all the votes (the label
    table's row), two are runs {0 s, 4 s} and {10 s}, None is one per sub-window."""
    rows = pd.DataFrame(hand_train_rows())
    rows = rows[rows["eeg_id"] == 1010]
    one = image_windows(rows, 1)
    assert one["eeg_label_offset_seconds"].tolist() == [4.0]
    assert one[list(VOTE_COLUMNS)].to_numpy().tolist() == [[10, 0, 0, 0, 0, 2]]
    two = image_windows(rows, 2)
    assert two["eeg_label_offset_seconds"].tolist() == [4.0, 10.0]
    assert two[list(VOTE_COLUMNS)].to_numpy().tolist() == [[6, 0, 0, 0, 0, 2], [4, 0, 0, 0, 0, 0]]
    np.testing.assert_allclose(two[list(TARGET_COLUMNS)].iloc[1], [1, 0, 0, 0, 0, 0])
    every = image_windows(rows, None)
    assert every["eeg_label_offset_seconds"].tolist() == [0.0, 4.0, 10.0]
    assert (every["n_sub_windows"] == 3).all() and image_windows(rows, 5).equals(every)


def test_an_eegs_prediction_is_the_mean_over_its_images():
    table = mean_over_images(np.array([7, 5, 7]), np.array([[1, 0, 0, 0, 0, 1],
                                                            [0, 1, 0, 0, 0, 0],
                                                            [0, 0, 1, 0, 0, 1]]))  # fmt: skip
    assert table["eeg_id"].tolist() == [7, 5]
    np.testing.assert_allclose(table.iloc[0, 1:], [0.25, 0, 0.25, 0, 0, 0.5])
    np.testing.assert_allclose(table.iloc[1, 1:], [0, 1, 0, 0, 0, 0])
