"""Keras models trained across replicas and workers (``tf.distribute``). No Kedro imports.

Batch normalisation: by default each replica normalises with the statistics of its own
part of the batch and keeps its own moving averages, so the copies of a model drift
apart; ``synchronize_batch_norm`` makes every replica use the global batch's statistics.

``tf.distribute.MultiWorkerMirroredStrategy``: Keras 3 (3.15 pinned here) does not train
under it once there are two workers or more (keras-team/keras#20585, open; TensorFlow's
own multi-worker tutorial fails the same way). Two places in its TensorFlow trainer
reduce values across workers wrongly:

- before the first step it averages the first ``(images, targets)`` batch across replicas
  only to learn its shapes, and the strategy cannot reduce a tuple;
- after every step it averages each scalar log (loss, val_loss) across replicas along axis
  0, which a scalar does not have.

``multi_worker_strategy`` replaces those two functions with versions that take the shapes
from this worker's own part of the batch and average the logs across replicas (the same
value on every worker, so early stopping and the learning-rate schedule decide alike).
The two-worker test (``tests/test_multi_worker.py``) fails if a Keras upgrade breaks them.
"""

import hashlib
from collections.abc import Iterator
from functools import cache

import keras
import numpy as np
import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as keras_tf_trainer

_keras_reduce_per_replica = keras_tf_trainer.reduce_per_replica
_keras_maybe_symbolic_build = keras_tf_trainer.TensorFlowTrainer._maybe_symbolic_build


def _is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _reduce_per_replica(values, strategy: tf.distribute.Strategy, reduction: str):
    """Keras' reduction of step outputs, with logs averaged across workers as scalars."""
    if _is_multi_worker(strategy) and reduction in ("auto", "mean"):
        return tree.map_structure(lambda value: strategy.reduce("MEAN", value, None), values)
    return _keras_reduce_per_replica(values, strategy, reduction)


def _maybe_symbolic_build(self, iterator=None, data_batch=None) -> None:
    """Keras' build of the training state, from this worker's part of the first batch."""
    strategy = self.distribute_strategy
    if iterator is not None and _is_multi_worker(strategy):
        for _, _, batches in iterator:
            first = next(batches)
            data_batch = tree.map_structure(
                lambda value: strategy.experimental_local_results(value)[0], first
            )
            break
        iterator = None
    _keras_maybe_symbolic_build(self, iterator=iterator, data_batch=data_batch)


@cache
def multi_worker_strategy() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The strategy of this process's ``TF_CONFIG``, with Keras' ``fit`` able to use it.

    One per process: it joins the cluster, and every model this process trains (each
    backbone of ``train_all``) trains in that cluster."""
    keras_tf_trainer.reduce_per_replica = _reduce_per_replica
    keras_tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    return tf.distribute.MultiWorkerMirroredStrategy()


def _all_layers(layer: keras.layers.Layer) -> Iterator[keras.layers.Layer]:
    yield layer
    for inner in getattr(layer, "layers", []):  # a backbone is one layer of the model
        yield from _all_layers(inner)


def synchronize_batch_norm(model: keras.Model) -> None:
    """Every batch normalisation layer of ``model`` normalises with the statistics of the
    global batch, gathered from all replicas at each step: every replica then computes
    the same and keeps the same moving averages, as on one device."""
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def weights_digest(weights: list[np.ndarray]) -> str:
    """A short digest of a model's weights: equal on every worker of a training that kept
    them in step."""
    digest = hashlib.sha256()
    for array in weights:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]
