"""Backbones build, train a step, and handle weights offline with clear errors."""

import keras
import numpy as np
import pytest

from eeg_hba.training.models import BACKBONES, WeightsUnavailableError, build_model, compile_model

SIZE = 32  # the smallest input every keras.applications backbone accepts


def _moved_body_weights(backbone: str, learning_rate: float) -> tuple[float, bool]:
    """Train three steps; the share of the backbone body's trainable tensors that moved,
    and whether its BatchNorm moving statistics (not trainable) moved."""
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(backbone, SIZE, SIZE, weights=None, dropout=0.1),
                          learning_rate)  # fmt: skip
    body = _backbone(model)
    trainable = [w.numpy().copy() for w in body.trainable_weights]
    statistics = [w.numpy().copy() for w in body.non_trainable_weights]
    images = np.random.default_rng(0).normal(size=(4, SIZE, SIZE, 1)).astype("float32")
    targets = np.random.default_rng(1).dirichlet(np.ones(6), 4).astype("float32")
    # The head starts at zero, so the body gets no gradient before the head has moved:
    # the first step trains the head only.
    for _ in range(3):
        assert np.isfinite(model.train_on_batch(images, targets))
    moved = [not np.array_equal(a, w.numpy()) for a, w in zip(trainable, body.trainable_weights,
                                                              strict=True)]  # fmt: skip
    statistics_moved = any(
        not np.array_equal(a, w.numpy())
        for a, w in zip(statistics, body.non_trainable_weights, strict=True)
    )
    return float(np.mean(moved)), statistics_moved


@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_every_backbone_body_learns_and_outputs_distributions(backbone):
    share, _ = _moved_body_weights(backbone, 1e-3)
    assert share > 0.9  # the convolutions, not only the head or BatchNorm statistics


def test_the_body_check_tells_learning_from_batch_norm_statistics():
    """With a learning rate of 0 nothing trainable moves, though BatchNorm statistics do:
    a check on all weights would pass without any learning."""
    share, statistics_moved = _moved_body_weights("mobilenet_v3_large", 0.0)
    assert share == 0 and statistics_moved


def test_predictions_are_distributions():
    model = build_model("densenet121", SIZE, SIZE, weights=None, dropout=0.1)
    images = np.random.default_rng(0).normal(size=(4, SIZE, SIZE, 1)).astype("float32")
    model.get_layer("classes").set_weights(
        [np.random.default_rng(2).normal(size=w.shape) for w in model.get_layer("classes").get_weights()]
    )  # a trained head: not the uniform start
    predictions = model.predict(images, verbose=0)
    assert predictions.shape == (4, 6) and (predictions > 0).all()
    assert not np.allclose(predictions, 1 / 6)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_an_untrained_model_predicts_the_uniform_distribution():
    """Training starts from the uniform baseline, not from confident random guesses."""
    model = build_model("efficientnet_b2", SIZE, SIZE, weights=None, dropout=0.1)
    images = 5 * np.random.default_rng(0).normal(size=(3, SIZE, SIZE, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(images, verbose=0), 1 / 6, rtol=1e-6)


def _backbone(model: keras.Model) -> keras.Model:
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def test_local_weights_file_is_loaded(tmp_path):
    trained = _backbone(build_model("mobilenet_v3_large", SIZE, SIZE, weights=None, dropout=0.1))
    path = tmp_path / "notop.weights.h5"
    trained.save_weights(path)
    loaded = build_model("mobilenet_v3_large", SIZE, SIZE, weights=str(path), dropout=0.1)
    for expected, actual in zip(
        trained.get_weights(), _backbone(loaded).get_weights(), strict=True
    ):
        np.testing.assert_array_equal(expected, actual)


def test_missing_weights_file_names_the_path_and_the_choices(tmp_path):
    with pytest.raises(
        WeightsUnavailableError, match=r"weights file .*nope\.h5 for densenet121 does not exist"
    ):
        build_model("densenet121", SIZE, SIZE, weights=str(tmp_path / "nope.h5"), dropout=0.1)


def test_imagenet_offline_says_what_to_do(monkeypatch, tmp_path):
    # What keras.utils.get_file raises without a network, made deterministic here.
    def offline(*args, **kwargs):
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", offline)
    with pytest.raises(WeightsUnavailableError) as error:
        build_model("resnet50_v2", SIZE, SIZE, weights="imagenet", dropout=0.1)
    message = str(error.value)
    assert "could not download the ImageNet weights of resnet50_v2" in message
    assert "~/.keras/models/" in message and "null to train from scratch" in message


def test_unknown_backbone_is_rejected():
    with pytest.raises(ValueError, match="unknown backbone 'vgg16'"):
        build_model("vgg16", SIZE, SIZE, weights=None, dropout=0.1)
