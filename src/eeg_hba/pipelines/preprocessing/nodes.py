"""Thin glue between the catalog and ``eeg_hba.preprocessing.shards``: plan, compute shards
lazily (the one read of every raw file), then the tables that follow from what the pass
found."""

import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from eeg_hba.hms.contract import apply_bad_row_policy, recorded_violations
from eeg_hba.hms.labels import build_label_table
from eeg_hba.preprocessing.model_inputs import FeatureConfig
from eeg_hba.preprocessing.parallel import OrderedMap, lazy_partitions
from eeg_hba.preprocessing.shards import (
    ShardLoader,
    compute_shard,
    model_input_index,
    plan_rows,
    recorded_problems,
    shard_jobs,
    unfinished_jobs,
)
from eeg_hba.preprocessing.splits import HOLDOUT_SPLIT, assign_splits

logger = logging.getLogger(__name__)


def record_model_input_settings(params: dict, ingestion: dict) -> dict:
    """What turns raw files into model inputs (the image and signal knobs, shard size and
    the window rule's all-NaN channel limit), as the shards were made: the served model
    makes its inputs with these, not with whatever the parameters say later."""
    return {
        "features": dict(params["features"]),
        "shard_size": params["shard_size"],
        "max_all_nan_channels": ingestion["max_all_nan_channels"],
    }


def plan_model_inputs(rows: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Every label row with the shard that reads its files."""
    planned = plan_rows(rows, params["shard_size"], params["images_per_eeg"])
    logger.info("Planned %d label rows in %d shards", len(planned), planned["shard"].nunique())
    return planned


def make_model_inputs(
    plan: pd.DataFrame,
    existing_shards: dict[str, ShardLoader],
    spectrograms: dict[str, Callable],
    eegs: dict[str, Callable],
    params: dict,
    ingestion: dict,
) -> dict[str, Callable]:
    """Shards computed in worker processes (or a Spark job) as the catalog writes them,
    each file read once; shards already written for this plan are kept."""
    config = FeatureConfig(**params["features"])
    jobs = shard_jobs(
        plan, spectrograms, eegs, config, ingestion["max_all_nan_channels"],
        params["images_per_eeg"],
    )  # fmt: skip
    planned = {job.name: job for job in jobs}
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
    from eeg_hba.preprocessing.spark import spark_ordered_map, spark_session  # noqa: PLC0415 - optional

    return partial(spark_ordered_map, spark=spark_session(**params["spark"]))


def _planned(shards: dict[str, ShardLoader], plan: pd.DataFrame) -> dict[str, ShardLoader]:
    """The shards of this plan (a folder may still hold shards of an earlier one)."""
    return {name: shards[name] for name in plan["shard"].unique()}


def make_label_table(
    train_labels: pd.DataFrame,
    ingestion_rejected_rows: pd.DataFrame,
    plan: pd.DataFrame,
    shards: dict[str, ShardLoader],
    params: dict,
    raw_data_dir: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per EEG with summed votes and targets, split by patient, from the rows
    whose window data passed too; the rejected-rows report of ingestion and this pass.

    A row whose window data breaks a rule stops the run or, with ``on_bad_rows: skip``,
    is left out, as ingestion does with the rules it checks.
    """
    source = str(Path(raw_data_dir) / "train.csv")
    problems = recorded_problems(_planned(shards, plan))
    violations = recorded_violations(problems, source, raw_data_dir, "train")
    kept, rejected = apply_bad_row_policy(
        train_labels.set_index("row"), violations, params["on_bad_rows"]
    )
    rejected = pd.concat([ingestion_rejected_rows, rejected], ignore_index=True).sort_values(
        "row", kind="stable", ignore_index=True
    )
    if not rejected.empty:
        total = len(train_labels) + ingestion_rejected_rows["row"].nunique()
        logger.warning(
            "Left out %d of %d rows of %s that break the HMS contract (on_bad_rows: skip); "
            "each is listed with its reason in the rejected_rows report",
            rejected["row"].nunique(), total, source,
        )  # fmt: skip
    table = build_label_table(kept.reset_index(drop=True), params["high_vote_threshold"])
    table = assign_splits(table, params["holdout_fraction"], params["n_folds"], params["seed"])
    logger.info(
        "Label table: %d EEGs (%d high-vote), %d held out, %d folds",
        len(table), int(table["high_vote"].sum()), int((table["split"] == HOLDOUT_SPLIT).sum()),
        params["n_folds"],
    )  # fmt: skip
    return table, rejected


def check_test_windows(
    test_windows: pd.DataFrame,
    plan: pd.DataFrame,
    shards: dict[str, ShardLoader],
    raw_data_dir: str,
) -> pd.DataFrame:
    """The test windows, once the pass found their data good: a bad test row always
    stops the run (the submission needs every one)."""
    source = str(Path(raw_data_dir) / "test.csv")
    problems = recorded_problems(_planned(shards, plan))
    violations = recorded_violations(problems, source, raw_data_dir, "test")
    apply_bad_row_policy(test_windows.set_index("row"), violations, "error")
    return test_windows


def index_model_inputs(
    windows: pd.DataFrame, plan: pd.DataFrame, shards: dict[str, ShardLoader]
) -> pd.DataFrame:
    """The index of model inputs: every window with its shard and position in it."""
    return model_input_index(windows, _planned(shards, plan))
