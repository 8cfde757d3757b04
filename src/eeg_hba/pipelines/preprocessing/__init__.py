"""Reads every raw file once: checks each window's data, writes model-input shards, and
builds the label table (with its splits) and the model-input index."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
