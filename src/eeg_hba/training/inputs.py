"""tf.data input pipelines streamed from model-input shards, with augmentations.

A model reads the shard array its input is named after (``model_input``): ``images``
for the image backbones, ``signals`` for the 1-D model. Shards are read whole, several
in parallel (inputs are stored as float16 and given to the model as float32), windows
are selected by the index, shuffled within a bounded buffer, augmented, batched and
prefetched: the training set is never held in memory whole.
Every random choice (shard order, shuffle, augmentation) follows from the ``seed``: the
same seed gives the same batches, run after run.
No Kedro imports.
"""

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from eeg_hba.hms.layout import BIPOLAR_CHAINS, CLASSES, REGIONS

ShardLoader = Callable[[], Mapping[str, np.ndarray]]
_SWAPPED_REGIONS = [REGIONS.index(r) for r in ("RL", "LL", "RP", "LP")]


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentations, each applied with its own probability; values come
    from ``parameters_training.yml``, their only home. Images take the swap, shift and
    masks; signals the swap, shift, chain dropout and amplitude scaling."""

    hemisphere_swap: float  # LL<->RL and LP<->RP: the class does not change
    time_shift: float
    max_shift_fraction: float
    time_mask: float
    frequency_mask: float
    max_mask_fraction: float
    chain_dropout: float  # signals: each chain zeroed with this probability
    amplitude_scale: float  # signals: this probability of a gain from 1/1.25 to 1.25


def _selected_positions(index: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        shard: np.sort(rows["position"].to_numpy())
        for shard, rows in index.groupby("shard", sort=True)
    }


#: The most a window's amplitude is scaled up or down by ``amplitude_scale``.
MAX_GAIN = 1.25


def model_input(model: keras.Model) -> tuple[str, tuple[int, ...]]:
    """The shard array ``model`` reads (its input's name: ``images`` or ``signals``) and
    the shape of one example as it takes it, e.g. (96, 64, 1) or (1000, 16)."""
    return model.inputs[0].name, tuple(model.input_shape[1:])


def stored_shape(shards: dict[str, ShardLoader], key: str) -> tuple[int, ...]:
    """The shape of one stored example of shard array ``key``: what preprocessing wrote,
    e.g. (height, width) of the images, (samples, chains) of the signals."""
    return tuple(shards[min(shards)]()[key].shape[1:])


def example_inputs(
    shards: dict[str, ShardLoader], model: keras.Model, count: int = 2
) -> np.ndarray:
    """The first ``count`` stored examples of what ``model`` reads, as a batch it takes."""
    key, shape = model_input(model)
    values = shards[min(shards)]()[key][:count]
    return values.astype(np.float32).reshape(len(values), *shape)


def keras_verbosity() -> int:
    """Keras' ``verbose`` for fit and predict: a progress bar with an ETA in a terminal, one
    line per epoch in a log (a bar's escape codes would fill it)."""
    return 1 if sys.stdout.isatty() else 2


def prediction_order(index: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``index`` in the order an unshuffled dataset yields them."""
    return index.sort_values(["shard", "position"]).reset_index(drop=True)


def middle_images(index: pd.DataFrame) -> pd.DataFrame:
    """One row per EEG of ``index``: its middle image (an EEG's images lie in time order
    in one shard). What training validates on after every epoch, at a fraction of the
    cost of every image; the out-of-fold scores predict them all."""
    ordered = prediction_order(index)
    eeg = ordered.groupby("eeg_id", sort=False)
    return ordered[eeg.cumcount() == eeg["eeg_id"].transform("size") // 2]


def window_dataset(
    shards: dict[str, ShardLoader],
    index: pd.DataFrame,
    reads: tuple[str, tuple[int, ...]],
    batch_size: int,
    *,
    training: bool = False,
    seed: int = 0,
    augment: AugmentConfig | None = None,
    with_targets: bool = True,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of ``(input, target[6])`` (or inputs alone) for the rows of ``index``:
    ``reads`` says which shard array, in which shape (a model's ``model_input``).

    Unless ``training``, the order is that of ``prediction_order(index)``. With
    ``drop_remainder``, whole batches only: a last partial batch is left out.
    """
    positions = _selected_positions(index)
    key, shape = reads

    def read(shard: bytes) -> tuple[np.ndarray, np.ndarray]:
        """The selected windows of one shard, read whole (a shard is small)."""
        arrays = shards[shard.decode()]()
        keep = positions[shard.decode()]
        if "targets" in arrays:
            targets = arrays["targets"][keep]
        else:  # unlabelled (test) windows
            targets = np.zeros((len(keep), len(CLASSES)), np.float32)
        inputs = arrays[key][keep].astype(np.float32)  # stored float16
        return inputs.reshape(len(keep), *shape), targets

    def as_tensors(shard: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        inputs, targets = tf.numpy_function(read, [shard], (tf.float32, tf.float32))
        inputs.set_shape((None, *shape))
        targets.set_shape((None, len(CLASSES)))
        return inputs, targets

    names = tf.data.Dataset.from_tensor_slices(sorted(positions))
    if training:
        names = names.shuffle(len(positions), seed=seed, reshuffle_each_iteration=True)
    windows = sum(len(keep) for keep in positions.values())
    # The known length gives Keras the steps per epoch: a progress bar with an ETA.
    # Shards are read in parallel but yielded in order: the run is reproducible, and every
    # worker of a multi-worker training sees the same sequence, of which it keeps its share.
    dataset = (
        names.map(as_tensors, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .unbatch()
        .apply(tf.data.experimental.assert_cardinality(windows))
    )
    if not with_targets:
        dataset = dataset.map(lambda inputs, target: inputs)
    if training:
        dataset = dataset.shuffle(4 * batch_size, seed=seed, reshuffle_each_iteration=True)
        if augment is not None:
            # One stateless seed per window, new each epoch: augmentations in parallel
            # calls stay reproducible, which stateful random ops in a map are not.
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            augment_window = AUGMENTATIONS[key]
            dataset = tf.data.Dataset.zip(dataset, seeds).map(
                lambda window, window_seed: (
                    augment_window(window[0], augment, window_seed),
                    window[1],
                ),
                num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True,
            )
    batches = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return _by_data(batches.prefetch(tf.data.AUTOTUNE))


def _by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Shared between the workers of a multi-worker strategy by element (DATA): each reads
    every shard and keeps its own share of the windows, the same number of batches each.
    Sharding by FILE would need a file-reading source; ours reads shards by name through
    ``tf.numpy_function``, and unequal shard files would give workers unequal steps."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def swap_hemispheres(image: tf.Tensor) -> tf.Tensor:
    """Mirror left and right: panels LL, RL, LP, RP become RL, LL, RP, LP in both halves."""
    panels = tf.split(image, len(REGIONS), axis=0)
    return tf.concat([panels[i] for i in _SWAPPED_REGIONS], axis=0)


def _band_mask(length: int, max_fraction: float, seed: tf.Tensor) -> tf.Tensor:
    """1 everywhere but a random band of up to ``max_fraction`` of ``length``, which is 0."""
    width_seed, start_seed = tf.unstack(tf.random.split(seed, 2))
    max_width = max(2, int(length * max_fraction) + 1)
    width = tf.random.stateless_uniform((), width_seed, 1, max_width, dtype=tf.int32)
    start = tf.random.stateless_uniform((), start_seed, 0, length - width + 1, dtype=tf.int32)
    positions = tf.range(length)
    return tf.cast((positions < start) | (positions >= start + width), tf.float32)


def augment_image(image: tf.Tensor, config: AugmentConfig, seed: tf.Tensor) -> tf.Tensor:
    """Random hemisphere swap, time shift and time/frequency masking of one image.

    ``seed`` (two integers) decides every random choice: the same seed, the same result.
    """
    height, width = image.shape[0], image.shape[1]
    half, panel = width // 2, height // len(REGIONS)
    draws = iter(tf.unstack(tf.random.split(tf.cast(seed, tf.int64), 10)))

    def chance(probability: float) -> tf.Tensor:
        return tf.random.stateless_uniform((), next(draws)) < probability

    def mask_or_ones(probability: float, length: int) -> tf.Tensor:
        mask_seed = next(draws)
        return tf.cond(
            chance(probability),
            lambda: _band_mask(length, config.max_mask_fraction, mask_seed),
            lambda: tf.ones(length),
        )

    image = tf.cond(chance(config.hemisphere_swap), lambda: swap_hemispheres(image), lambda: image)
    max_shift = max(1, int(half * config.max_shift_fraction))
    shift = tf.random.stateless_uniform((), next(draws), -max_shift, max_shift + 1, tf.int32)
    halves = tf.split(image, 2, axis=1)  # given spectrogram | EEG spectrogram
    halves = [
        tf.cond(chance(config.time_shift), lambda h=h: tf.roll(h, shift, axis=1), lambda h=h: h)
        for h in halves
    ]
    time_masks = [mask_or_ones(config.time_mask, half) for _ in halves]
    image = tf.concat(
        [h * m[None, :, None] for h, m in zip(halves, time_masks, strict=True)], axis=1
    )
    frequency_mask = mask_or_ones(config.frequency_mask, panel)
    return image * tf.tile(frequency_mask, [len(REGIONS)])[:, None, None]


def swap_chains(signals: tf.Tensor) -> tf.Tensor:
    """Mirror left and right: chains of LL, RL, LP, RP become those of RL, LL, RP, LP."""
    regions = tf.split(signals, len(REGIONS), axis=-1)
    return tf.concat([regions[i] for i in _SWAPPED_REGIONS], axis=-1)


def augment_signals(signals: tf.Tensor, config: AugmentConfig, seed: tf.Tensor) -> tf.Tensor:
    """Random hemisphere swap, time shift (up to ``max_shift_fraction`` of the window,
    wrapping round as the image's does), chain dropout and amplitude scaling of one
    (samples, 16 chains) window. ``seed`` (two integers) decides every random choice."""
    draws = iter(tf.unstack(tf.random.split(tf.cast(seed, tf.int64), 7)))

    def chance(probability: float) -> tf.Tensor:
        return tf.random.stateless_uniform((), next(draws)) < probability

    signals = tf.cond(chance(config.hemisphere_swap), lambda: swap_chains(signals),
                      lambda: signals)  # fmt: skip
    max_shift = max(1, int(signals.shape[0] * config.max_shift_fraction))
    shift = tf.random.stateless_uniform((), next(draws), -max_shift, max_shift + 1, tf.int32)
    signals = tf.cond(chance(config.time_shift), lambda: tf.roll(signals, shift, axis=0),
                      lambda: signals)  # fmt: skip
    kept = tf.random.stateless_uniform((len(BIPOLAR_CHAINS),), next(draws)) >= config.chain_dropout
    log_gain = tf.random.stateless_uniform((), next(draws), -1.0, 1.0) * np.log(MAX_GAIN)
    gain = tf.where(chance(config.amplitude_scale), tf.exp(log_gain), 1.0)
    return signals * tf.cast(kept, tf.float32)[None, :] * gain


#: How each kind of model input is augmented, by shard array.
AUGMENTATIONS = {"images": augment_image, "signals": augment_signals}
