"""Thin glue between the catalog and ``eeg_hba.shards``: plan, then compute shards lazily."""

import logging
import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from eeg_hba.features import FeatureConfig
from eeg_hba.parallel import lazy_partitions
from eeg_hba.shards import compute_shard, plan_shards, shard_jobs

logger = logging.getLogger(__name__)
Shard = dict[str, np.ndarray]


def plan_model_inputs(windows: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The index of model inputs: every window with its shard and position in it."""
    planned = plan_shards(windows, params["shard_size"])
    logger.info("Planned %d windows in %d shards", len(planned), planned["shard"].nunique())
    return planned


def make_model_inputs(
    index: pd.DataFrame,
    spectrograms: dict[str, Callable[[], pd.DataFrame]],
    eegs: dict[str, Callable[[], pd.DataFrame]],
    params: dict,
    raw_data_dir: str,
) -> dict[str, Callable[[], Shard]]:
    """Shards computed in worker processes as the catalog writes them, one file read once."""
    config = FeatureConfig(**params["features"])
    workers = params["workers"] or os.cpu_count() or 1
    jobs = {job.name: job for job in shard_jobs(index, spectrograms, eegs, config, raw_data_dir)}
    logger.info("Computing %d shards with %d worker process(es)", len(jobs), workers)
    return lazy_partitions(compute_shard, jobs, workers, "model-input shards")
