"""Pipeline ``sampling``: synthetic minority rows in the original schema."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
