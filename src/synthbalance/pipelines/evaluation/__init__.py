"""Pipeline ``evaluation``: fidelity, detection, utility (recall gain), privacy, plots."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
