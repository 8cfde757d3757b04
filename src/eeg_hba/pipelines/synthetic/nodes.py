"""Thin glue between the catalog and ``eeg_hba.synthetic``."""

import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from functools import partial

import pandas as pd
from matplotlib.figure import Figure

from eeg_hba.preprocessing.parallel import lazy_partitions
from eeg_hba.synthetic import (
    SyntheticConfig,
    SyntheticPlan,
    eeg_file_frame,
    eeg_files,
    plan_dataset,
    sample_submission,
    spectrogram_file_frame,
    spectrogram_files,
)
from eeg_hba.synthetic.profile import label_statistics, profile_figure, profile_report

logger = logging.getLogger(__name__)
LazyFiles = dict[str, Callable[[], pd.DataFrame]]


def synthetic_config(params: dict) -> SyntheticConfig:
    """The chosen preset's sizes, the seed and the realism knobs as one config."""
    preset = params["preset"]
    if preset not in params["presets"]:
        raise ValueError(
            f"unknown synthetic preset {preset!r}; choose one of {list(params['presets'])}"
        )
    return SyntheticConfig.from_params(
        {"seed": params["seed"], **params["presets"][preset], **params["realism"]}
    )


def plan_synthetic_dataset(params: dict) -> SyntheticPlan:
    config = synthetic_config(params)
    plan = plan_dataset(config)
    logger.info(
        "Planned synthetic HMS data (preset %s): %d rows, %d EEGs, %d spectrograms, %d patients",
        params["preset"], len(plan.train), plan.train["eeg_id"].nunique(),
        plan.train["spectrogram_id"].nunique(), plan.train["patient_id"].nunique(),
    )  # fmt: skip
    return plan


def synthetic_tables(
    plan: SyntheticPlan,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """train.csv, test.csv, sample_submission.csv and the two latent sidecars."""
    return (
        plan.train,
        plan.test,
        sample_submission(plan.test),
        plan.train_latent,
        plan.test_latent,
    )


def synthetic_signal_files(
    plan: SyntheticPlan, params: dict
) -> tuple[LazyFiles, LazyFiles, LazyFiles, LazyFiles]:
    """EEG and spectrogram parquet files, made in worker processes as the catalog writes them."""
    workers = params["workers"] or os.cpu_count() or 1
    eeg = partial(eeg_file_frame, config=plan.config)
    spectrogram = partial(spectrogram_file_frame, config=plan.config)
    return (
        lazy_partitions(eeg, eeg_files(plan.train_recordings), workers, "train EEG files"),
        lazy_partitions(
            spectrogram, spectrogram_files(plan.train_recordings), workers, "train spectrograms"
        ),
        lazy_partitions(eeg, eeg_files(plan.test_recordings), workers, "test EEG files"),
        lazy_partitions(
            spectrogram, spectrogram_files(plan.test_recordings), workers, "test spectrograms"
        ),
    )


def synthetic_manifest(
    plan: SyntheticPlan,
    train_eegs: dict,
    train_spectrograms: dict,
    test_eegs: dict,
    test_spectrograms: dict,
) -> dict:
    """Written last, after every file: its presence means the folder is complete."""
    return {
        "config": asdict(plan.config),
        "files": {
            "train_eegs": len(train_eegs),
            "train_spectrograms": len(train_spectrograms),
            "test_eegs": len(test_eegs),
            "test_spectrograms": len(test_spectrograms),
        },
        "rows": {"train": len(plan.train), "test": len(plan.test)},
    }


def synthetic_profile(plan: SyntheticPlan) -> tuple[str, Figure]:
    """The realism profile: label statistics next to the public figures, and per class an
    example EEG (bipolar) and 10-minute spectrogram."""
    statistics = label_statistics(plan)
    agreement = statistics["agreement"]
    logger.info(
        "Synthetic labels: %.1f %% of rows with 1-7 experts; high-vote EEGs %s",
        100 * statistics["summary"]["share of rows with 1-7 votes"],
        ", ".join(f"{k} {100 * v:.0f} %" for k, v in agreement.items()),
    )
    return profile_report(plan, statistics), profile_figure(plan, statistics)
