"""Two-stage training of one backbone, once per seed and validation fold. No Kedro imports.

A backbone trains one model per *model run*: a training seed and a patient-grouped
validation fold (``folds`` of them: 1 trains fold 0 only, K trains every fold, as the
strong HMS solutions did). Each model trains on the other folds' rows in two stages:
stage 1 on every row, stage 2 fine-tuning on the high-vote rows, which resemble the
hidden test set. Its validation fold is never trained on: predicted, it gives the
out-of-fold score and the rows the ensemble is fitted on. Held-out rows are never used.

Runs are reproducible on a CPU: every random choice follows from the seed (weights,
dropout, data order, augmentation) and TensorFlow's op determinism is on.

Training resumes after a crash: every epoch is backed up (Keras ``BackupAndRestore``)
and logged (``CSVLogger``) under ``backup_dir``, each finished stage keeps its weights
and each finished model run its model there, and the folder goes once training ends.
The early-stopping and plateau counters restart on resume.
"""

import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from eeg_hba.evaluation.metrics import kl_divergence
from eeg_hba.preprocessing.shards import gather
from eeg_hba.preprocessing.splits import ModelRun, fold_rows
from eeg_hba.training.config import typed_config
from eeg_hba.training.distributed import multi_worker_strategy, synchronize_batch_norm
from eeg_hba.training.inputs import (
    AugmentConfig,
    keras_verbosity,
    middle_images,
    model_input,
    window_dataset,
)
from eeg_hba.training.models import build_network, compile_model
from eeg_hba.training.multi_worker import is_chief

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageConfig:
    epochs: int
    learning_rate: float


@dataclass(frozen=True)
class TrainingConfig:
    """One backbone's knobs: ``training_defaults`` merged with its namespace's overrides.

    Values come from ``conf/base/parameters_training.yml``; this says their types.
    """

    backbone: str
    weights: str | None
    dropout: float
    batch_norm_momentum: float | None
    batch_size: int  # per replica
    seed: int  # the first training seed
    seeds: int  # train every fold once per seed: seed, seed + 1, ...
    folds: int  # validation folds to train: 1 (fold 0) up to ingestion.n_folds (all)
    early_stopping_patience: int | None  # None: train every epoch of each stage
    schedule: str  # plateau (ReduceLROnPlateau) | cosine (warm-up, then cosine decay)
    warmup_epochs: float  # cosine: epochs of linear warm-up at the start of each stage
    reduce_lr_patience: int | None  # plateau; None: keep each stage's learning rate
    reduce_lr_factor: float
    min_learning_rate: float
    mixed_precision: bool
    jit_compile: bool
    run_eagerly: bool
    distribution: str
    backup_dir: str | None  # "{backbone}" is filled in; None: no resume
    stage1: StageConfig
    stage2: StageConfig
    augment: AugmentConfig

    @classmethod
    def from_params(cls, defaults: dict, overrides: dict) -> "TrainingConfig":
        return typed_config(cls, defaults, overrides)

    @property
    def backup_path(self) -> Path | None:
        """Where this backbone's training state is backed up while it trains."""
        if self.backup_dir is None:
            return None
        return Path(self.backup_dir.format(backbone=self.backbone))

    def as_flat_dict(self) -> dict[str, object]:
        """Every knob as ``name`` or ``group.name``: the MLflow parameters of the run."""
        flat: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return flat


#: The ``distribution`` knob: which ``tf.distribute`` strategy trains the model.
DISTRIBUTION_STRATEGIES = {
    "default": tf.distribute.get_strategy,  # one device: the GPU if there is one, else the CPU
    "mirrored": tf.distribute.MirroredStrategy,  # every GPU of this machine
    # several machines, each told its role by the TF_CONFIG environment variable
    "multi_worker_mirrored": multi_worker_strategy,
}


def distribution_strategy(name: str) -> tf.distribute.Strategy:
    """The strategy to build the model under; ``fit_two_stages`` then trains with it."""
    if name not in DISTRIBUTION_STRATEGIES:
        raise ValueError(
            f"unknown distribution {name!r}; choose one of {sorted(DISTRIBUTION_STRATEGIES)}"
        )
    return DISTRIBUTION_STRATEGIES[name]()


class _LearningRateRecorder(keras.callbacks.Callback):
    """Puts the optimiser's learning rate into each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


class _EpochTimer(keras.callbacks.Callback):
    """Puts each epoch's wall time and the part of it spent in training steps into its
    logs (``epoch_seconds``, ``train_step_seconds``): the rest is validation, backups and
    logging, which should stay a few percent. An epoch's time runs from the end of the
    one before (so it holds that one's backup) to its own end."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.mark = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.in_steps = 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.step_started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.in_steps += time.perf_counter() - self.step_started

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        if logs is not None:
            logs["epoch_seconds"], logs["train_step_seconds"] = now - self.mark, self.in_steps
        self.mark = now


def _backs_up(backup: Path, plan: dict) -> bool:
    """Whether ``backup`` holds a crashed run of the training ``plan`` describes."""
    try:
        return json.loads((backup / "plan.json").read_text()) == plan
    except (OSError, ValueError):  # none, or being written by the chief right now
        return False


@contextmanager
def training_backup(config: TrainingConfig, rows: int) -> Iterator[Path]:
    """The backup folder of this backbone's training: kept if it is a crashed run of the
    same training (same knobs, same number of rows), otherwise started afresh; removed
    once training ends. Without ``backup_dir``, a temporary folder.

    In a multi-worker training only the chief writes there; every other worker resumes
    from the chief's backup as the chief does, in a scratch copy of it.
    """
    backup, plan = config.backup_path, {**config.as_flat_dict(), "rows": rows}
    if backup is None or not is_chief():
        with tempfile.TemporaryDirectory(prefix="training-backup-") as scratch:
            if backup is not None and _backs_up(backup, plan):
                shutil.copytree(backup, scratch, dirs_exist_ok=True)
            yield Path(scratch)
        return
    if backup.exists():
        if _backs_up(backup, plan):
            logger.warning("Resuming %s from the backup in %s", config.backbone, backup)
        else:
            logger.warning("Discarding %s: it backs up another training", backup)
            shutil.rmtree(backup)
    if not backup.exists():  # the plan is written once: other workers may be reading it
        backup.mkdir(parents=True)
        (backup / "plan.json").write_text(json.dumps(plan))
    yield backup
    shutil.rmtree(backup)


def _save_atomically(save, path: Path) -> None:
    """``save(partial)`` then rename onto ``path``: a crash leaves no half file there."""
    partial = path.with_name(f"partial-{path.name}")
    save(partial)
    os.replace(partial, path)


SCHEDULES = ("plateau", "cosine")


def cosine_learning_rate(
    epochs_done: float, stage: StageConfig, warmup_epochs: float, min_learning_rate: float
) -> float:
    """The rate after ``epochs_done`` (fractional) epochs of a stage: a linear warm-up over
    ``warmup_epochs``, then a cosine decay from the stage's rate to ``min_learning_rate``
    at the stage's end."""
    if epochs_done < warmup_epochs:
        return stage.learning_rate * max(epochs_done, 1e-3) / warmup_epochs
    progress = (epochs_done - warmup_epochs) / max(1e-9, stage.epochs - warmup_epochs)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return min_learning_rate + (stage.learning_rate - min_learning_rate) * cosine


class _CosineSchedule(keras.callbacks.Callback):
    """Sets ``cosine_learning_rate`` before every training step of one stage. It follows
    the epoch and step numbers, so a run resumed after a crash continues the curve."""

    def __init__(self, stage: StageConfig, first_epoch: int, config: TrainingConfig) -> None:
        super().__init__()
        self.stage, self.first_epoch, self.config = stage, first_epoch, config
        self.epoch = first_epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        steps = self.params.get("steps") or 1
        done = self.epoch - self.first_epoch + batch / steps
        rate = cosine_learning_rate(
            done, self.stage, self.config.warmup_epochs, self.config.min_learning_rate
        )
        self.model.optimizer.learning_rate.assign(rate)


def _stage_callbacks(
    config: TrainingConfig, stage: StageConfig, first_epoch: int, log: Path, backup: Path
) -> list:
    callbacks = [_LearningRateRecorder(), _EpochTimer()]
    if config.schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {config.schedule!r}")
    if config.schedule == "cosine":
        callbacks.append(_CosineSchedule(stage, first_epoch, config))
    elif config.reduce_lr_patience is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                factor=config.reduce_lr_factor, patience=config.reduce_lr_patience,
                min_lr=config.min_learning_rate,
            )
        )  # fmt: skip
    if config.early_stopping_patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                patience=config.early_stopping_patience, restore_best_weights=True
            )
        )
    return [
        *callbacks,
        # logged before it is backed up: a crash in between re-does the epoch
        keras.callbacks.CSVLogger(str(log), append=True),
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
    ]


def fit_two_stages(
    model: keras.Model,
    shards: dict,
    index: pd.DataFrame,
    config: TrainingConfig,
    run: ModelRun,
    backup: Path,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> pd.DataFrame:
    """Train in two stages; returns one row per epoch (stage, loss, val_loss, learning_rate).

    The model trains under the strategy it was built under; ``batch_size`` is per replica,
    so the global batch grows with the number of replicas.
    """
    strategy = model.distribute_strategy
    replicas = strategy.num_replicas_in_sync
    batch_size = config.batch_size * replicas
    logger.info(
        "Global batch %d: %d per replica x %d replicas", batch_size, config.batch_size, replicas
    )
    # With several replicas, training takes whole global batches only: a last partial batch
    # split over them can leave a replica without windows, which multi-worker training
    # does not survive (the workers' collective operations stop matching).
    whole_batches = replicas > 1
    least_rows = batch_size if whole_batches else 1
    train, validation = fold_rows(index, run.fold)
    if len(train) < least_rows or validation.empty:
        raise ValueError(
            f"validation fold {run.fold} leaves {len(train)} training and "
            f"{len(validation)} validation rows; at least {least_rows} and 1 are needed"
        )
    stages = [("all rows", config.stage1, train, validation)]
    high_train, high_validation = train[train["high_vote"]], validation[validation["high_vote"]]
    if config.stage2.epochs > 0 and len(high_train) >= least_rows:
        stages.append(
            ("high-vote rows", config.stage2, high_train,
             high_validation if not high_validation.empty else validation)
        )  # fmt: skip
    reads = model_input(model)
    if replicas > 1:
        synchronize_batch_norm(model)
    history = pd.DataFrame()
    # Compiled once: stage 2 only lowers the learning rate, so the traced train and test
    # functions (tens of seconds each for a deep backbone on a CPU) are reused.
    with strategy.scope():
        compile_model(
            model, config.stage1.learning_rate, config.jit_compile, config.run_eagerly
        )
    for number, (name, stage, rows, validation_rows) in enumerate(stages, start=1):
        finished, log = backup / f"stage{number}.weights.h5", backup / f"stage{number}.csv"
        if finished.exists():  # this stage ended before a crash
            model.load_weights(finished)
        else:
            model.optimizer.learning_rate.assign(stage.learning_rate)
            model.fit(
                window_dataset(shards, rows, reads, batch_size, training=True,
                               seed=run.seed * 100 + number, augment=config.augment,
                               drop_remainder=whole_batches),
                validation_data=window_dataset(
                    shards, middle_images(validation_rows), reads, batch_size
                ),
                shuffle=False,  # window_dataset shuffles the training rows itself
                initial_epoch=len(history),
                epochs=len(history) + stage.epochs,
                callbacks=[*_stage_callbacks(config, stage, len(history), log,
                                             backup / f"stage{number}"),
                           *(callbacks or [])],
                verbose=keras_verbosity(),
            )  # fmt: skip
            model._initial_epoch = None  # Keras would start the next fit where this resumed
            _save_atomically(model.save_weights, finished)
        epochs = pd.read_csv(log).drop_duplicates("epoch", keep="last")
        history = pd.concat([history, epochs.assign(stage=name)], ignore_index=True)
    return history[["epoch", "stage", *(c for c in history if c not in ("epoch", "stage"))]]


def class_prior_validation_kl(shards: dict, index: pd.DataFrame, fold: int) -> float:
    """The validation KL, as training reports it (the middle image of each validation EEG
    of ``fold``), of the class prior of that fold's training windows: where a model that
    learned nothing stays. The training curve draws it."""
    train, validation = fold_rows(index, fold)
    prior = gather(train.reset_index(drop=True), shards, "targets").mean(axis=0)
    targets = gather(middle_images(validation).reset_index(drop=True), shards, "targets")
    return kl_divergence(targets, np.tile(prior, (len(targets), 1)))


def train_model_run(
    run: ModelRun,
    shards: dict,
    index: pd.DataFrame,
    input_shape: tuple[int, ...],
    config: TrainingConfig,
    strategy: tf.distribute.Strategy,
    backup: Path,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, pd.DataFrame]:
    """One model of the backbone, built from the run's seed for stored examples of
    ``input_shape`` (``eeg_hba.training.inputs.stored_shape``) and trained on its folds.

    A model run that finished before a crash is loaded from the backup, not trained again.
    """
    folder = backup / run.name
    finished, history_file = folder / "model.keras", folder / "history.csv"
    if finished.exists():
        logger.info("%s %s finished before the crash: loaded", config.backbone, run.name)
        return keras.saving.load_model(finished, safe_mode=True), pd.read_csv(history_file)
    folder.mkdir(parents=True, exist_ok=True)
    tf.config.experimental.enable_op_determinism()  # the same seed, the same numbers
    keras.utils.set_random_seed(run.seed)  # weights, dropout and Keras' own draws
    with strategy.scope():  # the model's variables live on the strategy's devices
        model = build_network(
            config.backbone, input_shape, config.weights, config.dropout,
            config.batch_norm_momentum,
        )  # fmt: skip
    history = fit_two_stages(model, shards, index, config, run, folder, callbacks)
    history = history.assign(seed=run.seed, fold=run.fold)
    _save_atomically(lambda path: history.to_csv(path, index=False), history_file)
    _save_atomically(model.save, finished)
    return model, history
