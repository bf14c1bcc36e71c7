"""Nodes of the ``ingest`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET
from synthbalance.core.schema import Schema
from synthbalance.core.validation import validate_table
from synthbalance.params import IngestParams, PreprocessingParams


def validate_raw_table(
    raw_table: pd.DataFrame, ingest: dict[str, Any],
    preprocessing: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, Schema]:
    """Check the raw table and infer its schema, applying the user's column hints.

    The demo table needs no settings: its target and day-count bounds are built in.
    ``preprocessing`` (its split shares) sets the rows every class needs, so a class too
    small for the later stages stops the run here, before any training.
    Returns a new, validated frame (the raw one is left untouched) and the schema.
    """
    params = IngestParams.from_dict(ingest)
    target, hints = params.target, dict(params.columns)
    if params.source == "demo":
        target = target or DEMO_TARGET
        for name in DEMO_DAY_COUNTS:
            hints.setdefault(name, {"kind": "count", "bounds": [0, 30]})
    return validate_table(
        raw_table,
        target=target,
        hints=hints,
        minority_classes=params.minority_classes,
        min_class_rows=params.min_class_rows,
        drop_columns=params.drop_columns,
        split_shares=_split_shares(preprocessing),
    )


def _split_shares(preprocessing: dict[str, Any] | None) -> tuple[float, float]:
    split = PreprocessingParams.from_dict(preprocessing)
    return split.test_size, split.validation_size


def summarise_table(table: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Row, column and class-share figures of the validated table, for MLflow."""
    counts = table[schema.target].value_counts()
    minority = schema.minority_classes[0]
    return {
        "data.rows": float(len(table)),
        "data.columns": float(len(schema.columns)),
        "data.minority_rows": float(counts.get(minority, 0)),
        "data.minority_share": float(counts.get(minority, 0) / len(table)),
        "data.missing_share": float(table[schema.names].isna().to_numpy().mean()),
    }
