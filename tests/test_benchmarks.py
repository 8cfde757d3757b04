"""The benchmark's approaches and size subsets on a tiny hand-written folder (no timing)."""

import importlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from .projects import PROJECT_ROOT


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch):
    """``benchmarks/approaches.py`` and ``benchmarks/run.py``, imported as the command does."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    return importlib.import_module("approaches"), importlib.import_module("run")


def test_starter_loop_makes_one_image_per_label_row(benchmarks, hand_folder):
    approaches, _ = benchmarks
    result = approaches.naive_loop(hand_folder, 32)
    rows = len(pd.read_csv(hand_folder / "train.csv")) + len(pd.read_csv(hand_folder / "test.csv"))
    assert result["label_rows"] == rows
    images = np.load(hand_folder.parent / "naive_images.npy")
    assert images.shape == (rows, 32, 32) and np.isfinite(images).all()


def test_starter_loop_times_a_sample_of_label_rows(benchmarks, hand_folder):
    approaches, _ = benchmarks
    result = approaches.naive_loop(hand_folder, 32, sample_rows=5)
    assert result["timed_rows"] == 5 and result["label_rows"] == 25
    assert np.load(hand_folder.parent / "naive_images.npy").shape == (5, 32, 32)


def test_io_floor_reads_every_referenced_file_once(benchmarks, hand_folder):
    approaches, _ = benchmarks
    files = list(hand_folder.glob("*/*.parquet"))
    result = approaches.io_floor(hand_folder, workers=2)
    assert result["files"] == len(files)
    assert result["bytes"] == sum(pq.read_table(path).nbytes for path in files)


def test_a_smaller_size_keeps_whole_recordings(benchmarks, hand_folder, tmp_path):
    _, run = benchmarks
    half = run.subset_folder(hand_folder, tmp_path / "half", 0.5)
    train = pd.read_csv(hand_folder / "train.csv")
    kept = pd.read_csv(half / "train.csv")
    assert kept["spectrogram_id"].nunique() == train["spectrogram_id"].nunique() // 2
    kept_recordings = train[train["spectrogram_id"].isin(kept["spectrogram_id"])]
    pd.testing.assert_frame_equal(kept, kept_recordings.reset_index(drop=True))
    assert {p.stem for p in (half / "train_eegs").glob("*.parquet")} == {
        str(e) for e in kept["eeg_id"]
    }
    assert len(pd.read_csv(half / "sample_submission.csv")) == len(pd.read_csv(half / "test.csv"))


def test_default_run_report_reads_stage_times_and_epochs(monkeypatch, tmp_path):
    """A console and a training history written by hand: known node spans and shares."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    default_run = importlib.import_module("default_run")
    console = """\
[12/07/26 21:00:00] INFO     Running node: plan_synthetic_dataset: plan(...)
[12/07/26 21:00:05] INFO     Completed node: plan_synthetic_dataset
                    INFO     Running node: train_backbone:
                             train_backbone([...]) -> [...]
[12/07/26 21:01:45] INFO     Completed node: densenet121.train_backbone
                    INFO     Running node: fit_ensemble: fit_ensemble([...])
[12/07/26 21:01:47] INFO     Completed node: fit_ensemble
	Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5
	Maximum resident set size (kbytes): 2097152
"""
    nodes = default_run.node_seconds(console)
    assert nodes.to_dict("records") == [
        {"node": "plan_synthetic_dataset", "seconds": 5.0},
        {"node": "densenet121.train_backbone", "seconds": 100.0},
        {"node": "fit_ensemble", "seconds": 2.0},
    ]
    stages = default_run.stage_seconds(nodes).set_index("stage")["seconds"]
    assert stages.to_dict() == {"synthetic": 5.0, "training densenet121": 100.0, "ensemble": 2.0}
    assert default_run.resources(console) == {"wall_seconds": 3723.5, "peak_gb": 2.0}
    history = tmp_path / "data/08_reporting/densenet121/training_history.csv"
    history.parent.mkdir(parents=True)
    pd.DataFrame({"seed": [42, 42, 42, 43], "fold": 0, "epoch_seconds": [10.0, 4.0, 5.0, 10.0],
                  "train_step_seconds": [5.0, 4.0, 4.5, 6.0]}).to_csv(history)  # fmt: skip
    (row,) = default_run.outside_training_steps(tmp_path).to_dict("records")
    assert row["epochs"] == 4
    assert row["outside steps, first epoch"] == pytest.approx((0.5 + 0.4) / 2)
    assert row["outside steps, later epochs"] == pytest.approx((0.0 + 0.1) / 2)
