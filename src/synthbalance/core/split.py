"""The seeded, stratified train/test split and the optional scarce cut of minority rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from synthbalance.core.errors import DataValidationError
from synthbalance.core.schema import Schema

#: Rows of a class each later stage needs: detection trains on one half of the real test
#: rows and scores the other; SMOTE interpolates between two fitting rows; thresholds and
#: checks need one validation row.
MIN_TEST_ROWS, MIN_VALIDATION_ROWS, MIN_FITTING_ROWS = 2, 1, 2


def training_rows_suffice(train_rows: int, validation_size: float) -> bool:
    """Whether ``train_rows`` of a class leave enough validation and fitting rows."""
    validation = math.floor(train_rows * validation_size)
    fitting = train_rows - math.ceil(train_rows * validation_size)
    return validation >= MIN_VALIDATION_ROWS and fitting >= MIN_FITTING_ROWS


def training_rows_needed(validation_size: float) -> int:
    """The fewest training rows of a class :func:`training_rows_suffice` accepts."""
    rows = MIN_VALIDATION_ROWS + MIN_FITTING_ROWS
    while not training_rows_suffice(rows, validation_size):
        rows += 1
    return rows


def class_rows_needed(test_size: float, validation_size: float) -> int:
    """The fewest rows a class may have so that the stratified splits leave every later
    stage (training, validation checks, detection, utility, privacy, SMOTE) the rows it
    needs, counted conservatively (a split may round either way).

    ``test_size`` and ``validation_size`` are shares in (0, 1).
    """
    rows = MIN_TEST_ROWS
    while math.floor(rows * test_size) < MIN_TEST_ROWS or not training_rows_suffice(
        rows - math.ceil(rows * test_size), validation_size
    ):
        rows += 1
    return rows


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


def inner_split(
    train: pd.DataFrame, schema: Schema, size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut the training split into fitting and validation rows (stratified on the target).

    Validation rows choose what a user could only choose on data of their own: thresholds,
    the advised arm, a generator's checkpoint. Returns ``(fitting rows, validation rows)``,
    each in the training split's order; the same seed gives the same cut.

    Raises:
        DataValidationError: a class has too few training rows to put one on each side.
    """
    labels = train[schema.target]
    counts = labels.value_counts()
    too_few = counts[(counts * size < 1) | (counts * (1 - size) < 1)]
    if len(too_few):
        raise DataValidationError(
            f"Class(es) {list(too_few.index)} of {schema.target!r} have too few training rows "
            f"({dict(too_few)}) to keep {size:.0%} of them for validation; keep more rows "
            "(preprocessing.scarce_minority_rows) or change preprocessing.validation_size."
        )
    fit, validation = train_test_split(
        np.arange(len(train)), test_size=size, stratify=labels, random_state=seed
    )
    return train.iloc[np.sort(fit)], train.iloc[np.sort(validation)]


def validation_mask(train: pd.DataFrame, validation: pd.DataFrame) -> np.ndarray:
    """Which rows of ``train`` are ``validation`` rows (matched by index).

    Raises:
        DataValidationError: the indexes are not unique, or a validation row is not a
            training row.
    """
    if not train.index.is_unique or not validation.index.isin(train.index).all():
        raise DataValidationError(
            "The validation rows must be rows of the training split (the same index, "
            "unique); pass the validation_rows the preprocessing pipeline made."
        )
    return train.index.isin(validation.index)


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
