"""The seeded, stratified train/test split and the optional scarce cut of minority rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from synthbalance.core.errors import DataValidationError
from synthbalance.core.schema import Schema


def split_table(
    df: pd.DataFrame, schema: Schema, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified split on the target; the same seed gives the same rows on any machine."""
    labels = df[schema.target]
    too_few = labels.value_counts()
    too_few = too_few[too_few < 2]
    if len(too_few):
        raise DataValidationError(
            f"Class(es) {list(too_few.index)} of {schema.target!r} have fewer than 2 rows, "
            "so a stratified split is impossible; raise ingest.min_class_rows."
        )
    train, test = train_test_split(
        df, test_size=test_size, stratify=labels, random_state=seed, shuffle=True
    )
    return train, test


def scarce_cut(
    train: pd.DataFrame, schema: Schema, keep_rows: int | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep at most ``keep_rows`` training rows of each minority class.

    Returns the kept training rows (in their original order) and the rows cut away, which
    are held back as the real-data ceiling of the utility experiment.
    """
    if keep_rows is None:
        return train, train.iloc[0:0]
    rng = np.random.default_rng(seed)
    labels = train[schema.target].to_numpy()
    cut = np.zeros(len(train), dtype=bool)
    for cls in schema.minority_classes:
        rows = np.flatnonzero(labels == cls)
        if rows.size > keep_rows:
            cut[rng.choice(rows, rows.size - keep_rows, replace=False)] = True
    return train.iloc[np.flatnonzero(~cut)], train.iloc[np.flatnonzero(cut)]
