"""Turns labelled windows into model-input images, written as shards."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
