"""Kaggle-format predictions for any HMS-layout folder's test.csv."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
