"""One modular training pipeline, reused under a namespace per backbone."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
