"""Two-stage training of one backbone on the patient-grouped folds. No Kedro imports.

Stage 1 trains on every training row; stage 2 fine-tunes on the high-vote rows, which
resemble the hidden test set (what the strong HMS solutions did). Both stages stop
early on the validation fold's loss with the best weights restored and reduce the
learning rate on plateaus. Held-out test rows are never used.
"""

from dataclasses import asdict, dataclass, field

import keras
import pandas as pd

from eeg_hba.inputs import AugmentConfig, window_dataset
from eeg_hba.labels import TRAIN_SPLIT
from eeg_hba.models import compile_model


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
    early_stopping_patience: int = 4
    reduce_lr_patience: int = 2
    reduce_lr_factor: float = 0.5
    min_learning_rate: float = 1e-6
    mixed_precision: bool = True
    jit_compile: bool = False
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

    def as_flat_dict(self) -> dict[str, object]:
        """Every knob as ``name`` or ``group.name``: the MLflow parameters of the run."""
        flat: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return flat


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


def fit_two_stages(
    model: keras.Model,
    shards: dict,
    index: pd.DataFrame,
    config: TrainingConfig,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> pd.DataFrame:
    """Train in two stages; returns one row per epoch (stage, loss, val_loss, learning_rate)."""
    train, validation = training_rows(index, config.validation_fold)
    if train.empty or validation.empty:
        raise ValueError(
            f"validation fold {config.validation_fold} leaves {len(train)} training and "
            f"{len(validation)} validation rows; both must be non-empty"
        )
    stages = [("all rows", config.stage1, train, validation)]
    high_train, high_validation = train[train["high_vote"]], validation[validation["high_vote"]]
    if config.stage2.epochs > 0 and not high_train.empty:
        stages.append(
            ("high-vote rows", config.stage2, high_train,
             high_validation if not high_validation.empty else validation)
        )  # fmt: skip
    shape = (config.image_height, config.image_width)
    history: list[dict] = []
    # Compiled once: stage 2 only lowers the learning rate, so the traced train and test
    # functions (tens of seconds each for a deep backbone on a CPU) are reused.
    compile_model(model, config.stage1.learning_rate, config.jit_compile)
    for number, (name, stage, rows, validation_rows) in enumerate(stages, start=1):
        model.optimizer.learning_rate.assign(stage.learning_rate)
        fitted = model.fit(
            window_dataset(shards, rows, shape, config.batch_size, training=True,
                           seed=config.seed + number, augment=config.augment),
            validation_data=window_dataset(shards, validation_rows, shape, config.batch_size),
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
                *(callbacks or []),
            ],
            verbose=2,
        )  # fmt: skip
        for epoch, values in enumerate(zip(*fitted.history.values(), strict=True)):
            history.append(
                {
                    "epoch": fitted.epoch[epoch],
                    "stage": name,
                    **dict(zip(fitted.history, values, strict=True)),
                }
            )
    return pd.DataFrame(history)
