"""Every trainable model by name, and the shard array each reads.

Plain data, no TensorFlow: the pipeline registry reads it, and listing or drawing the
pipelines (``kedro registry list``, ``kedro viz``) should not load TensorFlow.
``eeg_hba.training.models`` builds them.
"""

#: Image backbones: name -> the ``keras.applications`` class.
BACKBONE_APPLICATIONS = {
    "efficientnet_b2": "EfficientNetB2",
    "mobilenet_v3_large": "MobileNetV3Large",
    "resnet50_v2": "ResNet50V2",
    "densenet121": "DenseNet121",
}
#: 1-D networks on the model-input signals (samples, 16 chains): residual stages, each
#: halving the time axis, with these numbers of filters.
SIGNAL_NETWORKS = {"resnet1d_raw_eeg": (32, 48, 64, 96, 128)}
#: Every trainable model, by name: the image backbones and the signal networks.
MODELS: tuple[str, ...] = (*BACKBONE_APPLICATIONS, *SIGNAL_NETWORKS)


def input_key(name: str) -> str:
    """The shard array model ``name`` reads: ``signals`` or ``images``."""
    return "signals" if name in SIGNAL_NETWORKS else "images"
