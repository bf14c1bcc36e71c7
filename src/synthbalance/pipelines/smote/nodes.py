"""Nodes of the ``smote`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.smote import smote_rows
from synthbalance.core.split import validation_mask
from synthbalance.core.unlearned import fill_unlearned
from synthbalance.params import SamplingParams


def smote_synthetic(
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    schema: Schema,
    sampling: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """SMOTE (SMOTENC with categorical columns) rows for every minority class, as many as
    the sampling parameters ask of a generator, so they are evaluated the same way.

    Made from the training rows but the validation rows, as a generator learns: rows
    interpolated between validation rows would flatter every figure read on them (the
    thresholds of recall at the baseline's precision, the validation PR AUC gain).
    """
    params = SamplingParams.from_dict(sampling)
    counts = train_rows[schema.target].value_counts()
    fitting = train_rows[~validation_mask(train_rows, validation_rows)]
    frames = [
        smote_rows(fitting, schema, params.n_rows or round(params.ratio * int(counts[c])),
                   seed + i, minority_class=c)
        for i, c in enumerate(schema.minority_classes)
    ]
    # one numbering of fresh ids over every class's rows (each call numbered its own from 1)
    return fill_unlearned(pd.concat(frames, ignore_index=True), schema)
