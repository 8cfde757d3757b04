"""tf.data streaming from shards, and augmentations with known answers."""

import numpy as np
import pandas as pd
import tensorflow as tf

from eeg_hba.inputs import (
    AugmentConfig,
    augment_image,
    prediction_order,
    swap_hemispheres,
    window_dataset,
)


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
    batches = list(window_dataset(shards, subset, (8, 8), batch_size=4))
    images = np.concatenate([b[0].numpy() for b in batches])
    assert images.shape[1:] == (8, 8, 1)
    np.testing.assert_array_equal(images[:, 0, 0, 0], prediction_order(subset)["eeg_id"])


def test_training_dataset_covers_every_row_once_per_epoch():
    shards, index = _shards()
    dataset = window_dataset(shards, index, (8, 8), batch_size=4, training=True, seed=1)
    seen = np.concatenate([b[0].numpy()[:, 0, 0, 0] for b in dataset])
    assert sorted(seen.tolist()) == sorted(index["eeg_id"].tolist())


def test_hemisphere_swap_exchanges_left_and_right_panels():
    image = tf.constant(
        np.repeat(np.arange(4, dtype=np.float32), 2)[:, None, None] * np.ones((8, 6, 1))
    )
    swapped = swap_hemispheres(image).numpy()[:, 0, 0]  # panels LL, RL, LP, RP -> RL, LL, RP, LP
    np.testing.assert_array_equal(swapped, [1, 1, 0, 0, 3, 3, 2, 2])
    np.testing.assert_array_equal(swap_hemispheres(swap_hemispheres(image)), image)


def test_augmentations_keep_shape_and_masks_zero_bands():
    image = tf.ones((16, 16, 1))
    masked = augment_image(
        image, AugmentConfig(0, 0, 0.1, time_mask=1.0, frequency_mask=1.0)
    ).numpy()
    assert masked.shape == (16, 16, 1)
    assert 0 < (masked == 0).mean() < 0.6  # some rows and columns zeroed, most kept
    untouched = augment_image(image, AugmentConfig(0, 0, 0.1, 0, 0)).numpy()
    np.testing.assert_array_equal(untouched, image.numpy())
