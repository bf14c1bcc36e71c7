"""Pipeline ``ingest``: read the raw table, validate it, infer and save its schema."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
