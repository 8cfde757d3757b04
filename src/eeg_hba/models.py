"""Keras models: an ImageNet-style backbone from keras.applications with a 6-class head.

The backbone sees the one-channel model-input image repeated to three channels. Output
is a probability distribution over the six classes, trained against the normalised
expert votes with the KL-divergence loss. No Kedro imports.
"""

from pathlib import Path

import keras
import tensorflow as tf

from eeg_hba.hms import CLASSES

BACKBONES = {
    "efficientnet_b2": keras.applications.EfficientNetB2,
    "mobilenet_v3_large": keras.applications.MobileNetV3Large,
    "resnet50_v2": keras.applications.ResNet50V2,
    "densenet121": keras.applications.DenseNet121,
}
#: Backbones with their own input rescaling, switched off: our images are standardised.
_OWN_PREPROCESSING = {"mobilenet_v3_large": {"include_preprocessing": False}}
#: Backbones whose first layer always divides by 255: they get our images scaled back up,
#: or BatchNorm's epsilon swamps the tiny activations and the signal is lost.
_PIXEL_RANGE_INPUT = {"efficientnet_b2"}


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights were asked for but cannot be had."""


def _resolve_weights(backbone: str, weights: str | None) -> str | None:
    if weights in (None, "imagenet"):
        return weights
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(
            f"weights file {path} for {backbone} does not exist; give the path of a local "
            "no-top weights file (.h5 / .weights.h5), 'imagenet', or null to train from scratch"
        )
    return str(path)


def build_model(
    backbone: str,
    image_height: int,
    image_width: int,
    weights: str | None,
    dropout: float,
    batch_norm_momentum: float | None = None,
) -> keras.Model:
    """Backbone (``include_top=False``, average pooling) + dropout + Dense(6, softmax).

    ``batch_norm_momentum`` replaces the backbone's (0.99): on small data trained from
    scratch there are too few steps for slow moving averages to settle.
    """
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose one of {sorted(BACKBONES)}")
    resolved = _resolve_weights(backbone, weights)
    try:
        base = BACKBONES[backbone](
            include_top=False,
            weights=resolved,
            input_shape=(image_height, image_width, 3),
            pooling="avg",
            **_OWN_PREPROCESSING.get(backbone, {}),
        )
    except Exception as error:
        if resolved != "imagenet":
            raise
        raise WeightsUnavailableError(
            f"could not download the ImageNet weights of {backbone} ({error}). This machine "
            "may be offline: download the no-top weights file on a connected machine into "
            "~/.keras/models/ here, or set `weights:` in parameters_training.yml to the path "
            "of a local weights file, or to null to train from scratch."
        ) from error
    if batch_norm_momentum is not None:
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = batch_norm_momentum
    image = keras.Input((image_height, image_width, 1), name="image")
    rgb = keras.layers.Concatenate(name="to_rgb")([image, image, image])
    if backbone in _PIXEL_RANGE_INPUT:
        rgb = keras.layers.Rescaling(255.0, name="to_pixel_range")(rgb)
    features = base(rgb)
    features = keras.layers.Dropout(dropout, name="dropout")(features)
    # float32 output keeps the softmax and the loss stable under mixed precision. A zero
    # kernel starts every backbone at the uniform prediction: a random one on the large
    # pooled features of a backbone trained from scratch (EfficientNet's above all) starts
    # from confident guesses far worse than uniform, which a short run never unlearns.
    probabilities = keras.layers.Dense(
        len(CLASSES), activation="softmax", dtype="float32", kernel_initializer="zeros",
        name="classes",
    )(features)  # fmt: skip
    return keras.Model(image, probabilities, name=backbone)


def compile_model(
    model: keras.Model, learning_rate: float, jit_compile: bool = False, run_eagerly: bool = False
) -> keras.Model:
    """Adam with the KL-divergence loss, as in the study.

    XLA compilation (``jit_compile``) pays off on a GPU; on a CPU it costs about a
    minute per backbone and stage, more than short runs gain. ``run_eagerly`` skips
    tracing the train and test steps altogether: slower per step, but quicker for a run of
    a few tiny batches (tests, debugging).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.KLDivergence(),
        jit_compile=jit_compile and not run_eagerly,
        run_eagerly=run_eagerly,
    )
    return model


def use_mixed_precision_if_gpu(enabled: bool) -> str:
    """Mixed float16 on a GPU (when enabled), float32 otherwise; returns the policy name."""
    policy = "mixed_float16" if enabled and tf.config.list_physical_devices("GPU") else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def average_models(models: dict[str, keras.Model], name: str) -> keras.Model:
    """One model whose output is the mean of ``models``' outputs (e.g. a backbone's fold
    models): what gets served and logged. Each member is renamed ``<name>_<key>``, as
    layer names in one model must differ."""
    first = next(iter(models.values()))
    if len(models) == 1:
        return first
    image = keras.Input(first.input_shape[1:], name="image")
    outputs = []
    for key, member in models.items():
        member.name = f"{name}_{key}"
        outputs.append(member(image))
    return keras.Model(image, keras.layers.Average(name="average")(outputs), name=name)

