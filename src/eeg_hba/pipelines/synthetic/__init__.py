"""Writes the embedded synthetic HMS data set."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
