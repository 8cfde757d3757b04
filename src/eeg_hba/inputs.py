"""tf.data input pipelines streamed from model-input shards, with augmentations.

Shards are read whole, several in parallel (images are stored as float16 and given to the
model as float32), windows are selected by the index, shuffled within a bounded buffer,
augmented, batched and prefetched: the training set is never held in memory whole.
No Kedro imports.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import tensorflow as tf

from eeg_hba.hms import CLASSES, REGIONS

ShardLoader = Callable[[], Mapping[str, np.ndarray]]
_SWAPPED_PANELS = [REGIONS.index(r) for r in ("RL", "LL", "RP", "LP")]


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentations, each applied with its own probability."""

    hemisphere_swap: float = 0.5  # LL<->RL and LP<->RP: the class does not change
    time_shift: float = 0.5
    max_shift_fraction: float = 0.1
    time_mask: float = 0.3
    frequency_mask: float = 0.3
    max_mask_fraction: float = 0.15


def _selected_positions(index: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        shard: np.sort(rows["position"].to_numpy())
        for shard, rows in index.groupby("shard", sort=True)
    }


def prediction_order(index: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``index`` in the order an unshuffled dataset yields them."""
    return index.sort_values(["shard", "position"]).reset_index(drop=True)


def window_dataset(
    shards: dict[str, ShardLoader],
    index: pd.DataFrame,
    image_shape: tuple[int, int],
    batch_size: int,
    *,
    training: bool = False,
    seed: int = 0,
    augment: AugmentConfig | None = None,
    with_targets: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(image[H, W, 1], target[6])`` (or images alone) for the rows of ``index``.

    Unless ``training``, the order is that of ``prediction_order(index)``.
    """
    positions = _selected_positions(index)

    def read(shard: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The selected windows of one shard, read whole (a shard is small)."""
        arrays = shards[shard.decode()]()
        keep = positions[shard.decode()]
        if "targets" in arrays:
            targets = arrays["targets"][keep]
        else:  # unlabelled (test) windows
            targets = np.zeros((len(keep), len(CLASSES)), np.float32)
        return arrays["images"][keep].astype(np.float32)[..., None], targets  # stored float16

    def as_tensors(shard: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images, targets = tf.numpy_function(read, [shard], (tf.float32, tf.float32))
        images.set_shape((None, *image_shape, 1))
        targets.set_shape((None, len(CLASSES)))
        return images, targets

    names = tf.data.Dataset.from_tensor_slices(sorted(positions))
    if training:
        names = names.shuffle(len(positions), seed=seed, reshuffle_each_iteration=True)
    windows = sum(len(keep) for keep in positions.values())
    # The known length gives Keras the steps per epoch: a progress bar with an ETA.
    dataset = (
        names.map(as_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not training)
        .unbatch()
        .apply(tf.data.experimental.assert_cardinality(windows))
    )
    if not with_targets:
        dataset = dataset.map(lambda image, target: image)
    if training:
        dataset = dataset.shuffle(4 * batch_size, seed=seed, reshuffle_each_iteration=True)
        if augment is not None:
            dataset = dataset.map(
                lambda image, target: (augment_image(image, augment), target),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def swap_hemispheres(image: tf.Tensor) -> tf.Tensor:
    """Mirror left and right: panels LL, RL, LP, RP become RL, LL, RP, LP in both halves."""
    panels = tf.split(image, len(REGIONS), axis=0)
    return tf.concat([panels[i] for i in _SWAPPED_PANELS], axis=0)


def _band_mask(length: int, max_fraction: float) -> tf.Tensor:
    """1 everywhere but a random band of up to ``max_fraction`` of ``length``, which is 0."""
    width = tf.random.uniform((), 1, max(2, int(length * max_fraction) + 1), dtype=tf.int32)
    start = tf.random.uniform((), 0, length - width + 1, dtype=tf.int32)
    positions = tf.range(length)
    return tf.cast((positions < start) | (positions >= start + width), tf.float32)


def augment_image(image: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Random hemisphere swap, time shift and time/frequency masking of one image."""
    height, width = image.shape[0], image.shape[1]
    half, panel = width // 2, height // len(REGIONS)

    def chance(probability: float) -> tf.Tensor:
        return tf.random.uniform(()) < probability

    image = tf.cond(chance(config.hemisphere_swap), lambda: swap_hemispheres(image), lambda: image)
    max_shift = max(1, int(half * config.max_shift_fraction))
    shift = tf.random.uniform((), -max_shift, max_shift + 1, dtype=tf.int32)
    halves = tf.split(image, 2, axis=1)  # given spectrogram | EEG spectrogram
    halves = [
        tf.cond(chance(config.time_shift), lambda h=h: tf.roll(h, shift, axis=1), lambda h=h: h)
        for h in halves
    ]
    time_masks = [
        tf.cond(
            chance(config.time_mask),
            lambda: _band_mask(half, config.max_mask_fraction),
            lambda: tf.ones(half),
        )
        for _ in halves
    ]
    image = tf.concat(
        [h * m[None, :, None] for h, m in zip(halves, time_masks, strict=True)], axis=1
    )
    frequency_mask = tf.cond(
        chance(config.frequency_mask),
        lambda: _band_mask(panel, config.max_mask_fraction),
        lambda: tf.ones(panel),
    )
    return image * tf.tile(frequency_mask, [len(REGIONS)])[:, None, None]
