"""Typed configuration from parameter layers. No Kedro imports.

The values live in ``conf/`` only; a dataclass says which knobs exist and their types.
Layers are deep-merged left to right (e.g. ``training_defaults``, then one backbone's
overrides), so a nested override changes one key. A missing knob, an unknown knob or a
value of the wrong type stops with the knob's dotted name.
"""

from collections.abc import Mapping
from typing import Any, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

Config = TypeVar("Config")


def typed_config(schema: type[Config], *layers: Mapping[str, Any]) -> Config:
    """``schema`` (a dataclass without defaults) filled from ``layers``, merged in order."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), *layers)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        raise ValueError(f"invalid {schema.__name__} parameters: {error}") from error
