"""Nodes of the ``smote`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.smote import smote_rows
from synthbalance.core.unlearned import fill_unlearned
from synthbalance.params import SamplingParams


def smote_synthetic(
    train_rows: pd.DataFrame, schema: Schema, sampling: dict[str, Any], seed: int
) -> pd.DataFrame:
    """SMOTE (SMOTENC with categorical columns) rows for every minority class, as many as
    the sampling parameters ask of a generator, so they are evaluated the same way."""
    params = SamplingParams.from_dict(sampling)
    counts = train_rows[schema.target].value_counts()
    frames = [
        smote_rows(train_rows, schema, params.n_rows or round(params.ratio * int(counts[c])),
                   seed + i, minority_class=c)
        for i, c in enumerate(schema.minority_classes)
    ]
    # one numbering of fresh ids over every class's rows (each call numbered its own from 1)
    return fill_unlearned(pd.concat(frames, ignore_index=True), schema)
