"""Pipeline ``smote``: SMOTE rows in place of a generator's, for the reference run."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
