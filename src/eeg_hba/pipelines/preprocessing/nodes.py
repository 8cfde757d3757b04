"""Thin glue between the catalog and ``eeg_hba.shards``: plan, then compute shards lazily."""

import logging
import os
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from eeg_hba.features import FeatureConfig
from eeg_hba.parallel import OrderedMap, lazy_partitions
from eeg_hba.shards import compute_shard, plan_shards, shard_jobs, unfinished_jobs

logger = logging.getLogger(__name__)
Shard = dict[str, np.ndarray]


def plan_model_inputs(windows: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The index of model inputs: every window with its shard and position in it."""
    planned = plan_shards(windows, params["shard_size"])
    logger.info("Planned %d windows in %d shards", len(planned), planned["shard"].nunique())
    return planned


def make_model_inputs(
    index: pd.DataFrame,
    existing_shards: dict[str, Callable[[], Shard]],
    spectrograms: dict[str, Callable[[], pd.DataFrame]],
    eegs: dict[str, Callable[[], pd.DataFrame]],
    params: dict,
    raw_data_dir: str,
) -> dict[str, Callable[[], Shard]]:
    """Shards computed in worker processes (or a Spark job) as the catalog writes them,
    one file read once; shards already written for this plan are kept."""
    config = FeatureConfig(**params["features"])
    planned = {job.name: job for job in shard_jobs(index, spectrograms, eegs, config, raw_data_dir)}
    jobs = unfinished_jobs(planned, existing_shards)  # a re-run after a crash resumes
    if len(jobs) < len(planned):
        logger.info(
            "%d of %d shards are already written: resuming", len(planned) - len(jobs), len(planned)
        )
    # no more processes than shards: a single shard is computed here, starting none
    workers = min(params["workers"] or os.cpu_count() or 1, max(1, len(jobs)))
    engine = params["engine"]
    if engine not in ("local", "spark"):
        raise ValueError(f"preprocessing.engine must be 'local' or 'spark', got {engine!r}")
    spark_map = _spark_map(params) if engine == "spark" else None
    logger.info(
        "Computing %d shards with %s", len(jobs), "Spark" if spark_map else f"{workers} processes"
    )
    return lazy_partitions(compute_shard, jobs, workers, "model-input shards", spark_map)


def _spark_map(params: dict) -> OrderedMap:
    """The Spark job of ``preprocessing.spark`` (the optional ``spark`` extra)."""
    from eeg_hba.spark import spark_ordered_map, spark_session  # noqa: PLC0415 - optional

    return partial(spark_ordered_map, spark=spark_session(**params["spark"]))
