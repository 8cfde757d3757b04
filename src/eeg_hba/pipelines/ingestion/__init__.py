"""Validates the raw HMS folder: its tables, and its files from their footers."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
