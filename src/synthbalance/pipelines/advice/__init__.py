"""The ``advice`` pipeline: whether to augment, and the advised training set."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
