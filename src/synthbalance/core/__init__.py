"""Plain-Python core of synthbalance: schema, transformer, generators, metrics.

Nothing in this package imports Kedro or MLflow, so every piece can be used from a notebook.
"""
