"""The ``grid`` pipeline: one split, then one namespaced cell per family, strategy and seed."""

from .pipeline import Cell, cell_of, create_pipeline, grid_cells

__all__ = ["Cell", "cell_of", "create_pipeline", "grid_cells"]
