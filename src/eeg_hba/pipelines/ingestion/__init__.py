"""Validates the raw HMS folder and builds the label table with its splits."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
