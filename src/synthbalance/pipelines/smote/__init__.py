"""Pipeline ``smote``: SMOTE rows in place of a generator's, for the reference run."""

from .pipeline import REFERENCE, REFERENCE_FOLDERS, create_pipeline, reference_note

__all__ = ["REFERENCE", "REFERENCE_FOLDERS", "create_pipeline", "reference_note"]
