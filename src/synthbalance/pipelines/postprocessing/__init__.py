"""Pipeline ``postprocessing``: clip, round, snap and restore missing values, counting fixes."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
