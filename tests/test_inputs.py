"""tf.data streaming from shards, and augmentations with known answers."""

import numpy as np
import pandas as pd
import tensorflow as tf

from eeg_hba.training.inputs import (
    augment_image,
    prediction_order,
    swap_hemispheres,
    window_dataset,
)

from .projects import augment_config


def _shards(n_shards: int = 3, per_shard: int = 5, size: int = 8) -> tuple[dict, pd.DataFrame]:
    shards, rows = {}, []
    for s in range(n_shards):
        name = f"shard-{s:05d}"
        ids = np.arange(per_shard) + 100 * s
        images = np.stack([np.full((size, size), i, dtype=np.float32) for i in ids])
        targets = np.tile(np.eye(6, dtype=np.float32)[s % 6], (per_shard, 1))
        shards[name] = lambda images=images, targets=targets, ids=ids: {
            "images": images,
            "targets": targets,
            "eeg_id": ids,
        }
        rows += [{"shard": name, "position": p, "eeg_id": int(i)} for p, i in enumerate(ids)]
    return shards, pd.DataFrame(rows)  # fmt: skip


def test_unshuffled_dataset_follows_prediction_order_and_selects_rows():
    shards, index = _shards()
    subset = index[index["eeg_id"] % 2 == 0].sample(frac=1, random_state=0)  # any row order
    batches = list(window_dataset(shards, subset, ("images", (8, 8, 1)), batch_size=4))
    images = np.concatenate([b[0].numpy() for b in batches])
    assert images.shape[1:] == (8, 8, 1)
    np.testing.assert_array_equal(images[:, 0, 0, 0], prediction_order(subset)["eeg_id"])


def test_training_dataset_covers_every_row_once_per_epoch():
    shards, index = _shards()
    dataset = window_dataset(
        shards, index, ("images", (8, 8, 1)), batch_size=4, training=True, seed=1
    )
    seen = np.concatenate([b[0].numpy()[:, 0, 0, 0] for b in dataset])
    assert sorted(seen.tolist()) == sorted(index["eeg_id"].tolist())


def test_hemisphere_swap_exchanges_left_and_right_panels():
    image = tf.constant(
        np.repeat(np.arange(4, dtype=np.float32), 2)[:, None, None] * np.ones((8, 6, 1))
    )
    swapped = swap_hemispheres(image).numpy()[:, 0, 0]  # panels LL, RL, LP, RP -> RL, LL, RP, LP
    np.testing.assert_array_equal(swapped, [1, 1, 0, 0, 3, 3, 2, 2])
    np.testing.assert_array_equal(swap_hemispheres(swap_hemispheres(image)), image)


SEED = tf.constant([3, 4], tf.int64)


def test_augmentations_keep_shape_and_masks_zero_bands():
    image = tf.ones((16, 16, 1))
    masks = augment_config(hemisphere_swap=0, time_shift=0, time_mask=1.0, frequency_mask=1.0)
    masked = augment_image(image, masks, SEED).numpy()
    assert masked.shape == (16, 16, 1)
    assert 0 < (masked == 0).mean() < 0.6  # some rows and columns zeroed, most kept
    untouched = augment_image(image, augment_config(hemisphere_swap=0, time_shift=0, time_mask=0, frequency_mask=0), SEED).numpy()
    np.testing.assert_array_equal(untouched, image.numpy())


def test_augmentations_follow_the_seed():
    image = tf.random.stateless_uniform((16, 16, 1), (1, 2))
    config = augment_config(hemisphere_swap=0.5, time_shift=0.5, max_shift_fraction=0.2, time_mask=0.5, frequency_mask=0.5)
    results = {
        seed: augment_image(image, config, tf.constant([seed, 0], tf.int64)).numpy()
        for seed in range(8)
    }
    np.testing.assert_array_equal(results[0], augment_image(image, config, tf.constant([0, 0], tf.int64)))
    assert len({r.tobytes() for r in results.values()}) > 1  # other seeds, other choices


def _epochs(seed: int, epochs: int = 2) -> list[np.ndarray]:
    shards, index = _shards(size=16)
    dataset = window_dataset(
        shards, index, ("images", (16, 16, 1)), batch_size=4, training=True, seed=seed,
        augment=augment_config(hemisphere_swap=0.5, time_shift=0.5, max_shift_fraction=0.2, time_mask=0.5, frequency_mask=0.5),
    )  # fmt: skip
    return [np.concatenate([b[0].numpy() for b in dataset]) for _ in range(epochs)]


def test_training_batches_are_the_same_for_the_same_seed_and_differ_between_epochs():
    first, again = _epochs(seed=5), _epochs(seed=5)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)  # order, shuffle and augmentation reproduced
    assert not np.array_equal(first[0], first[1])  # a new order and new draws each epoch
    assert not np.array_equal(first[0], _epochs(seed=6)[0])
