"""The classical baseline: hand-crafted EEG features into a soft-target classifier."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
