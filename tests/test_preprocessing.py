"""Preprocessing: shard planning, one read per file, determinism across runs and workers."""

import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eeg_hba.features import FeatureConfig
from eeg_hba.shards import compute_shard, plan_shards, shard_jobs
from eeg_hba.synthetic import (
    SyntheticConfig,
    eeg_file_frame,
    plan_dataset,
    spectrogram_file_frame,
)

from .conftest import TINY_SYNTHETIC


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


def test_every_raw_file_is_read_once():
    config = SyntheticConfig(**TINY_SYNTHETIC)
    plan = plan_dataset(config)
    calls: dict[str, int] = {}

    def counted(key, make):
        calls[key] = calls.get(key, 0) + 1
        return make()

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
    windows = plan.train.drop_duplicates("eeg_id")  # one window per EEG, as after ingestion
    planned = plan_shards(windows, shard_size=4)
    features = FeatureConfig(image_height=32, image_width=32)
    shards = [compute_shard(job) for job in shard_jobs(planned, spectrograms, eegs, features, "x")]
    assert sum(len(arrays["images"]) for arrays in shards) == len(windows)
    assert len(calls) == len(eegs) + len(spectrograms)
    assert set(calls.values()) == {1}


def _shards(project: Path, namespace: str) -> dict[str, dict[str, np.ndarray]]:
    folder = project / "data/05_model_input" / namespace / "shards"
    return {p.stem: dict(np.load(p)) for p in sorted(folder.glob("*.npz"))}


@pytest.mark.slow
def test_output_is_identical_across_runs_and_worker_counts(run_pipeline, kedro_project):
    tiny = {"synthetic": {"presets": {"default": TINY_SYNTHETIC}}}
    small_images = {"shard_size": 4, "features": {"image_height": 32, "image_width": 32}}
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
    assert len(index) == TINY_SYNTHETIC["n_eegs"]
    for row in index.itertuples():
        assert first[row.shard]["eeg_id"][row.position] == row.eeg_id
    images = np.concatenate([s["images"] for s in first.values()])
    assert images.shape[1:] == (32, 32) and np.isfinite(images).all()

    test = _shards(kedro_project, "test_inputs")  # the test folder, through the same code
    assert sum(len(s["images"]) for s in test.values()) == TINY_SYNTHETIC["n_test_eegs"]
    assert all("targets" not in s for s in test.values())
