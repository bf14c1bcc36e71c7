"""Pipeline ``preprocessing``: split, scarce cut, and the reversible transformer."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
