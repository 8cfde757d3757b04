"""Two-stage training of one backbone on the patient-grouped folds. No Kedro imports.

Stage 1 trains on every training row; stage 2 fine-tunes on the high-vote rows, which
resemble the hidden test set (what the strong HMS solutions did). Both stages stop
early on the validation fold's loss with the best weights restored and reduce the
learning rate on plateaus. Held-out test rows are never used.

Training resumes after a crash: every epoch is backed up (Keras ``BackupAndRestore``)
and logged (``CSVLogger``) under ``backup_dir``, each finished stage keeps its weights
there, and the folder goes once training ends. The early-stopping and plateau
counters restart on resume.
"""

import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import pandas as pd
import tensorflow as tf

from eeg_hba.distributed import multi_worker_strategy, synchronize_batch_norm
from eeg_hba.inputs import AugmentConfig, window_dataset
from eeg_hba.labels import TRAIN_SPLIT
from eeg_hba.models import compile_model
from eeg_hba.multi_worker import is_chief

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageConfig:
    epochs: int
    learning_rate: float


@dataclass(frozen=True)
class TrainingConfig:
    """One backbone's knobs: ``training_defaults`` merged with its namespace's overrides.

    The image size is the one preprocessing wrote.
    """

    backbone: str
    image_height: int
    image_width: int
    weights: str | None = None
    dropout: float = 0.2
    batch_norm_momentum: float | None = 0.9
    batch_size: int = 16
    seed: int = 42
    validation_fold: int = 0
    early_stopping_patience: int = 6
    reduce_lr_patience: int = 3
    reduce_lr_factor: float = 0.5
    min_learning_rate: float = 1e-6
    mixed_precision: bool = True
    jit_compile: bool = False
    distribution: str = "default"
    backup_dir: str | None = None  # "{backbone}" is filled in; None: no resume
    stage1: StageConfig = field(default_factory=lambda: StageConfig(10, 1e-3))
    stage2: StageConfig = field(default_factory=lambda: StageConfig(4, 1e-4))
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def from_params(cls, defaults: dict, overrides: dict) -> "TrainingConfig":
        merged = {**defaults, **overrides}
        for nested in ("stage1", "stage2", "augment"):
            merged[nested] = {**defaults.get(nested, {}), **overrides.get(nested, {})}
        return cls(
            **{k: v for k, v in merged.items() if k not in ("stage1", "stage2", "augment")},
            stage1=StageConfig(**merged["stage1"]),
            stage2=StageConfig(**merged["stage2"]),
            augment=AugmentConfig(**merged["augment"]),
        )

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


def training_rows(index: pd.DataFrame, validation_fold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation) rows: the validation fold out of the training split; test untouched."""
    train_split = index[index["split"] == TRAIN_SPLIT]
    in_fold = train_split["fold"] == validation_fold
    return train_split[~in_fold], train_split[in_fold]


class _LearningRateRecorder(keras.callbacks.Callback):
    """Puts the optimiser's learning rate into each epoch's logs."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            )


def _backs_up(backup: Path, plan: dict) -> bool:
    """Whether ``backup`` holds a crashed run of the training ``plan`` describes."""
    try:
        return json.loads((backup / "plan.json").read_text()) == plan
    except (OSError, ValueError):  # none, or being written by the chief right now
        return False


@contextmanager
def training_backup(config: TrainingConfig, rows: int) -> Iterator[Path]:
    """The backup folder of this training: kept if it is a crashed run of the same
    training (same knobs, same number of rows), otherwise started afresh; removed once
    training ends. Without ``backup_dir``, a temporary folder.

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


def _save_weights_atomically(model: keras.Model, path: Path) -> None:
    partial = path.with_name(f"partial-{path.name}")
    model.save_weights(partial)
    os.replace(partial, path)


def fit_two_stages(
    model: keras.Model,
    shards: dict,
    index: pd.DataFrame,
    config: TrainingConfig,
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
    train, validation = training_rows(index, config.validation_fold)
    if len(train) < least_rows or validation.empty:
        raise ValueError(
            f"validation fold {config.validation_fold} leaves {len(train)} training and "
            f"{len(validation)} validation rows; at least {least_rows} and 1 are needed"
        )
    stages = [("all rows", config.stage1, train, validation)]
    high_train, high_validation = train[train["high_vote"]], validation[validation["high_vote"]]
    if config.stage2.epochs > 0 and len(high_train) >= least_rows:
        stages.append(
            ("high-vote rows", config.stage2, high_train,
             high_validation if not high_validation.empty else validation)
        )  # fmt: skip
    shape = (config.image_height, config.image_width)
    if replicas > 1:
        synchronize_batch_norm(model)
    history = pd.DataFrame()
    # Compiled once: stage 2 only lowers the learning rate, so the traced train and test
    # functions (tens of seconds each for a deep backbone on a CPU) are reused.
    with strategy.scope():
        compile_model(model, config.stage1.learning_rate, config.jit_compile)
    with training_backup(config, len(index)) as backup:
        for number, (name, stage, rows, validation_rows) in enumerate(stages, start=1):
            finished, log = backup / f"stage{number}.weights.h5", backup / f"stage{number}.csv"
            if finished.exists():  # this stage ended before a crash
                model.load_weights(finished)
            else:
                model.optimizer.learning_rate.assign(stage.learning_rate)
                model.fit(
                    window_dataset(shards, rows, shape, batch_size, training=True,
                                   seed=config.seed + number, augment=config.augment,
                                   drop_remainder=whole_batches),
                    validation_data=window_dataset(shards, validation_rows, shape, batch_size),
                    shuffle=False,  # window_dataset shuffles the training rows itself
                    initial_epoch=len(history),
                    epochs=len(history) + stage.epochs,
                    callbacks=[
                        _LearningRateRecorder(),
                        keras.callbacks.ReduceLROnPlateau(
                            factor=config.reduce_lr_factor, patience=config.reduce_lr_patience,
                            min_lr=config.min_learning_rate,
                        ),
                        keras.callbacks.EarlyStopping(
                            patience=config.early_stopping_patience, restore_best_weights=True
                        ),
                        # logged before it is backed up: a crash in between re-does the epoch
                        keras.callbacks.CSVLogger(str(log), append=True),
                        keras.callbacks.BackupAndRestore(
                            str(backup / f"stage{number}"), double_checkpoint=True
                        ),
                        *(callbacks or []),
                    ],
                    # a progress bar with an ETA in a terminal, one line per epoch in a log
                    verbose=1 if sys.stdout.isatty() else 2,
                )  # fmt: skip
                model._initial_epoch = None  # Keras would start the next fit where this resumed
                _save_weights_atomically(model, finished)
            epochs = pd.read_csv(log).drop_duplicates("epoch", keep="last")
            history = pd.concat([history, epochs.assign(stage=name)], ignore_index=True)
    return history[["epoch", "stage", *(c for c in history if c not in ("epoch", "stage"))]]
