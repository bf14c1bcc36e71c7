"""Nodes of the ``preprocessing`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.split import inner_split, scarce_cut, split_table
from synthbalance.core.transformer import TabularTransformer
from synthbalance.params import PreprocessingParams

logger = logging.getLogger(__name__)


def split_rows(
    table: pd.DataFrame, schema: Schema, preprocessing: dict[str, Any], seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified, seeded train/test split, then the optional scarce cut of minority rows.

    Returns the training rows, the untouched test rows, and the minority rows the scarce cut
    held back (empty without a cut). Generators only ever see the training rows.
    """
    params = PreprocessingParams.from_dict(preprocessing)
    train, test = split_table(table, schema, params.test_size, seed)
    train, held_back = scarce_cut(train, schema, params.scarce_minority_rows, seed)
    return train, test, held_back


def carve_validation(
    train_rows: pd.DataFrame, schema: Schema, preprocessing: dict[str, Any], seed: int
) -> pd.DataFrame:
    """``preprocessing.validation_size`` of the training rows (stratified, seeded), kept for
    choices a user could make on data of their own: no generator and no utility classifier
    trains on them; they pick checkpoints, thresholds and the advice."""
    params = PreprocessingParams.from_dict(preprocessing)
    return inner_split(train_rows, schema, params.validation_size, seed)[1]


def fit_transformer(
    train_rows: pd.DataFrame, schema: Schema, preprocessing: dict[str, Any], seed: int
) -> TabularTransformer:
    """Fit the reversible transformer on the training rows only; with the target, so that
    the minority classes get class modes, unless ``preprocessing.class_modes`` is false."""
    params = PreprocessingParams.from_dict(preprocessing)
    transformer = TabularTransformer(
        max_modes=params.max_modes,
        max_onehot_levels=params.max_onehot_levels,
        fit_sample=params.fit_sample,
        seed=seed,
    )
    if not params.class_modes:
        logger.info("Class modes: off (preprocessing.class_modes=false); the encoding is "
                    "fitted on the columns alone.")
        train_rows = train_rows.drop(columns=[schema.target])
    return transformer.fit(train_rows, schema)


def encode_rows(train_rows: pd.DataFrame, transformer: TabularTransformer) -> pd.DataFrame:
    """The training rows as the models see them: one float32 column per encoded feature."""
    matrix = transformer.transform(train_rows)
    names = [
        f"{s.column}.onehot{i}" if s.is_onehot else f"{s.column}.value"
        for s in transformer.layout
        for i in range(s.width)
    ]
    return pd.DataFrame(matrix, columns=names, index=train_rows.index)
