"""Pipeline ``profiling``: a ydata-profiling report of the validated table."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
