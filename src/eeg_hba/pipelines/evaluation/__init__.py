"""Test-split evaluation of each backbone, baselines, the ensemble and the comparison report."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
