"""Kedro runners beyond Kedro's own: :class:`DaskRunner` (the optional ``dask`` extra)."""

from .dask import DaskRunner

__all__ = ["DaskRunner"]
