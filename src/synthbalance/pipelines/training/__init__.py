"""Pipeline ``training``: one generator per minority class, or one conditioned on the label."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
