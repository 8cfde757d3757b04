"""Keras models: ImageNet-style backbones from keras.applications, and a 1-D network on
the raw bipolar signals, each with a 6-class head.

A backbone sees the one-channel model-input image repeated to three channels. The 1-D
network (``resnet1d_raw_eeg``) reads the 16 double-banana chains at full time
resolution, trained from scratch: no pretrained weights needed, as in the strong raw-EEG
solutions (SPaRCNet, the 1-D models of the top HMS solutions). Each model's input is
named after the shard array it reads (``images``, ``signals``). Output is a probability
distribution over the six classes, trained against the normalised expert votes with the
KL-divergence loss. No Kedro imports.
"""

from pathlib import Path

import keras
import tensorflow as tf

from eeg_hba.hms.layout import CLASSES
from eeg_hba.training.model_kinds import BACKBONE_APPLICATIONS, MODELS, SIGNAL_NETWORKS

BACKBONES = {name: getattr(keras.applications, cls) for name, cls in BACKBONE_APPLICATIONS.items()}
#: Backbones with their own input rescaling, switched off: our images are standardised.
_OWN_PREPROCESSING = {"mobilenet_v3_large": {"include_preprocessing": False}}
#: Backbones whose first layer always divides by 255: they get our images scaled back up,
#: or BatchNorm's epsilon swamps the tiny activations and the signal is lost.
_PIXEL_RANGE_INPUT = {"efficientnet_b2"}

_SIGNAL_KERNEL = 7  # samples: 0.14 s at 50 Hz, the stem's view; stages widen it


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
    image = keras.Input((image_height, image_width, 1), name="images")
    rgb = keras.layers.Concatenate(name="to_rgb")([image, image, image])
    if backbone in _PIXEL_RANGE_INPUT:
        rgb = keras.layers.Rescaling(255.0, name="to_pixel_range")(rgb)
    probabilities = _class_head(base(rgb), dropout)
    return keras.Model(image, probabilities, name=backbone)


def _class_head(features: keras.KerasTensor, dropout: float) -> keras.KerasTensor:
    """Dropout + Dense(6, softmax), float32 (stable softmax and loss under mixed
    precision). A zero kernel starts every model at the uniform prediction: a random one
    on large pooled features of a network trained from scratch (EfficientNet's above all)
    starts from confident guesses far worse than uniform, which a short run never unlearns.
    """
    features = keras.layers.Dropout(dropout, name="dropout")(features)
    return keras.layers.Dense(
        len(CLASSES), activation="softmax", dtype="float32", kernel_initializer="zeros",
        name="classes",
    )(features)  # fmt: skip


def _convolution(x, filters: int, strides: int, momentum: float, name: str, relu: bool = True):
    """Conv1D + BatchNorm (+ ReLU), the unit of the 1-D ResNet."""
    x = keras.layers.Conv1D(filters, _SIGNAL_KERNEL, strides=strides, padding="same",
                            use_bias=False, name=f"{name}_conv")(x)  # fmt: skip
    x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if relu else x


def build_signal_network(
    name: str,
    samples: int,
    chains: int,
    weights: str | None,
    dropout: float,
    batch_norm_momentum: float | None = None,
) -> keras.Model:
    """A 1-D ResNet on (samples, chains): a stem, then one residual block per stage of
    ``SIGNAL_NETWORKS[name]`` (two convolutions, the first halving the time axis, and a
    strided 1x1 shortcut), global average pooling and the class head. ``weights``: None
    (from scratch) or a ``.weights.h5`` file of the same network; there are no ImageNet
    weights for it."""
    if weights == "imagenet":
        raise WeightsUnavailableError(
            f"{name} has no ImageNet weights: it trains from scratch (weights: null), or "
            "give the path of a .weights.h5 file of the same network"
        )
    resolved = _resolve_weights(name, weights)
    momentum = 0.99 if batch_norm_momentum is None else batch_norm_momentum
    signals = keras.Input((samples, chains), name="signals")
    x = _convolution(signals, SIGNAL_NETWORKS[name][0], 1, momentum, "stem")
    for stage, filters in enumerate(SIGNAL_NETWORKS[name], start=1):
        block = f"stage{stage}"
        residual = _convolution(x, filters, 2, momentum, f"{block}_a")
        residual = _convolution(residual, filters, 1, momentum, f"{block}_b", relu=False)
        shortcut = keras.layers.Conv1D(
            filters, 1, strides=2, use_bias=False, name=f"{block}_shortcut_conv"
        )(x)
        shortcut = keras.layers.BatchNormalization(momentum=momentum, name=f"{block}_shortcut_bn")(
            shortcut
        )
        added = keras.layers.Add(name=f"{block}_add")([residual, shortcut])
        x = keras.layers.ReLU(name=f"{block}_out")(added)
    features = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    model = keras.Model(signals, _class_head(features, dropout), name=name)
    if resolved is not None:
        model.load_weights(resolved)
    return model


def build_network(
    name: str,
    input_shape: tuple[int, ...],
    weights: str | None,
    dropout: float,
    batch_norm_momentum: float | None = None,
) -> keras.Model:
    """Model ``name`` of ``MODELS`` for stored examples of ``input_shape``: (height,
    width) images for a backbone, (samples, chains) signals for a signal network."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    if name in SIGNAL_NETWORKS:
        return build_signal_network(name, *input_shape, weights, dropout, batch_norm_momentum)
    return build_model(name, *input_shape, weights, dropout, batch_norm_momentum)


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
    inputs = keras.Input(first.input_shape[1:], name=first.inputs[0].name)
    outputs = []
    for key, member in models.items():
        member.name = f"{name}_{key}"
        outputs.append(member(inputs))
    return keras.Model(inputs, keras.layers.Average(name="average")(outputs), name=name)
