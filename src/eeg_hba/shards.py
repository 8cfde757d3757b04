"""Model inputs as shards: windows grouped so that every raw file is read once per run.

Windows that share a spectrogram file go into the same shard (an EEG file is used by
one window once sub-windows are collapsed), so each file is loaded by exactly one
shard. Shards are computed one at a time per worker; memory does not grow with the
number of windows. No Kedro imports.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from eeg_hba.classical import FEATURE_NAMES, window_features
from eeg_hba.features import (
    FeatureConfig,
    WindowError,
    eeg_window,
    model_input_image,
    spectrogram_window,
)
from eeg_hba.hms import TARGET_COLUMNS

Loader = Callable[[], pd.DataFrame]
WINDOW_COLUMNS = (
    "eeg_id",
    "spectrogram_id",
    "eeg_label_offset_seconds",
    "spectrogram_label_offset_seconds",
)


def plan_shards(windows: pd.DataFrame, shard_size: int) -> pd.DataFrame:
    """Add ``shard`` and ``position``: whole spectrogram groups, about ``shard_size`` each."""
    ordered = windows.sort_values(["spectrogram_id", "eeg_id"], kind="stable").reset_index(
        drop=True
    )
    group_sizes = ordered.groupby("spectrogram_id", sort=False).size()
    shard_of_group = (group_sizes.cumsum().shift(fill_value=0) // shard_size).to_numpy()
    shard_numbers = np.repeat(shard_of_group, group_sizes.to_numpy())
    _, dense = np.unique(shard_numbers, return_inverse=True)  # no empty shard numbers
    ordered["shard"] = [f"shard-{n:05d}" for n in dense]
    ordered["position"] = ordered.groupby("shard").cumcount()
    return ordered


@dataclass(frozen=True)
class ShardJob:
    """Everything one worker needs for one shard: rows and the loaders of their files."""

    name: str
    rows: pd.DataFrame
    spectrograms: dict[str, Loader]
    eegs: dict[str, Loader]
    config: FeatureConfig
    source: str


def shard_jobs(
    planned: pd.DataFrame,
    spectrograms: dict[str, Loader],
    eegs: dict[str, Loader],
    config: FeatureConfig,
    source: str,
) -> Iterator[ShardJob]:
    """One job per shard, carrying only the loaders its rows need."""
    for name, rows in planned.groupby("shard", sort=True):
        yield ShardJob(
            name,
            rows,
            {str(s): spectrograms[str(s)] for s in rows["spectrogram_id"].unique()},
            {str(e): eegs[str(e)] for e in rows["eeg_id"]},
            config,
            source,
        )


def shard_fingerprint(job: ShardJob) -> np.ndarray:
    """What a shard's content follows from: its windows in order, their targets, and the
    feature knobs. A shard on disk with the same fingerprint need not be computed again."""
    columns = [c for c in (*WINDOW_COLUMNS, *TARGET_COLUMNS) if c in job.rows.columns]
    digest = hashlib.sha256(repr((job.config, FEATURE_NAMES)).encode())
    digest.update(pd.util.hash_pandas_object(job.rows[columns], index=False).to_numpy().tobytes())
    return np.array(digest.hexdigest())


def compute_shard(job: ShardJob) -> dict[str, np.ndarray]:
    """Images and classical-baseline features (and targets, for labelled windows) of one
    shard, each file loaded once, and the shard's fingerprint."""
    images, features = [], []
    for spectrogram_id, rows in job.rows.groupby("spectrogram_id", sort=False):
        spectrogram = job.spectrograms[str(spectrogram_id)]()
        for row in rows.itertuples():
            eeg = job.eegs[str(row.eeg_id)]()
            offsets = (row.spectrogram_label_offset_seconds, row.eeg_label_offset_seconds)
            try:
                images.append(model_input_image(spectrogram, offsets[0], eeg, offsets[1],
                                                 job.config))  # fmt: skip
                features.append(
                    window_features(
                        spectrogram_window(spectrogram, offsets[0]), eeg_window(eeg, offsets[1])
                    )
                )
            except WindowError as error:
                raise WindowError(
                    f"{job.source}, eeg_id {row.eeg_id} / spectrogram_id {spectrogram_id}: {error}"
                ) from error
    arrays = {
        "images": np.stack(images),
        "features": np.stack(features).astype(np.float32),
        "eeg_id": job.rows["eeg_id"].to_numpy(np.int64),
        "fingerprint": shard_fingerprint(job),
    }
    if set(TARGET_COLUMNS) <= set(job.rows.columns):
        arrays["targets"] = job.rows[list(TARGET_COLUMNS)].to_numpy(np.float32)
    return arrays


def unfinished_jobs(
    jobs: dict[str, ShardJob], written: dict[str, Callable[[], dict[str, np.ndarray]]]
) -> dict[str, ShardJob]:
    """The jobs whose shard is not yet written with the same fingerprint.

    ``written`` loads each shard on disk (its fingerprint at least). Shards are saved
    atomically, so one on disk is complete; an unreadable one is computed again.
    """

    def is_done(name: str, job: ShardJob) -> bool:
        if name not in written:
            return False
        try:
            fingerprint = written[name]()["fingerprint"]
        except Exception:  # unreadable or written without a fingerprint: compute again
            return False
        return bool(fingerprint == shard_fingerprint(job))

    return {name: job for name, job in jobs.items() if not is_done(name, job)}


def gather(index: pd.DataFrame, shards: dict[str, Callable[[], dict]], key: str) -> np.ndarray:
    """One array of the shards (e.g. ``features``), its row ``i`` for row ``i`` of ``index``."""
    gathered = None
    for name, rows in index.groupby("shard", sort=True):
        values = shards[name]()[key][rows["position"].to_numpy()]
        if gathered is None:
            gathered = np.empty((len(index), *values.shape[1:]), values.dtype)
        gathered[index.index.get_indexer(rows.index)] = values
    return gathered
