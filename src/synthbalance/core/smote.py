"""The SMOTE baseline, run as a user would run it with imbalanced-learn.

- all feature columns numeric: ``SMOTE``; numeric and categorical (binary or categorical
  kinds) mixed: ``SMOTENC``; all categorical: ``SMOTEN`` (SMOTENC refuses that case);
- SMOTE cannot read missing values, so they are imputed first, as a user would with a
  ``SimpleImputer`` fitted on the training rows: the median of a numeric column, the most
  frequent level of a discrete one. The new rows therefore have no missing values;
- ``k_neighbors`` (default 5) is lowered to ``rows of the class - 1`` when the class has
  fewer rows, since SMOTE needs that many neighbours; a class with one row cannot be
  interpolated and raises :class:`DataValidationError`;
- the new rows come back in the original schema: the same columns and dtypes, categorical
  values as the original levels (strings stay strings), integer and count columns rounded,
  ordinal columns snapped to their nearest training level, datetimes (interpolated as
  seconds) written back in their format;
- identifier and constant columns are not interpolated: the new rows get them filled in as
  a generator's rows do (:func:`~synthbalance.core.unlearned.fill_unlearned`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

from synthbalance.core.dates import from_seconds
from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics._features import (
    column_numbers,
    joint_levels,
    level_codes,
)
from synthbalance.core.schema import Schema
from synthbalance.core.tables import label_mask, require_columns
from synthbalance.core.unlearned import fill_unlearned
from synthbalance.core.values import restore_dtype, sorted_levels


def smote_rows(
    train: pd.DataFrame,
    schema: Schema,
    k: int,
    seed: int,
    minority_class: Any = None,
    *,
    k_neighbors: int = 5,
) -> pd.DataFrame:
    """Exactly ``k`` new rows of ``minority_class`` (default: the schema's first minority
    class), feature columns and target, in ``train``'s dtypes (module docstring)."""
    require_columns(train, schema.names, "training rows")
    if k < 0:
        raise ConfigError(f"SMOTE was asked for k={k} rows; k must be 0 or more.")
    cls = schema.minority_classes[0] if minority_class is None else minority_class
    is_class = label_mask(train[schema.target], cls)
    n_class = int(is_class.sum())
    if n_class < 2:
        raise DataValidationError(
            f"SMOTE needs at least 2 training rows of class {cls!r} to interpolate "
            f"between; the training rows hold {n_class}."
        )
    columns = [*schema.names, schema.target]
    if k == 0:
        return train[columns].iloc[:0].reset_index(drop=True)
    levels = joint_levels(schema, train)
    x = _imputed_matrix(train, schema, levels)
    # the full label, as a user would pass it (SMOTEN's value-difference metric reads every
    # class); the dict strategy over-samples only this one
    y, _ = pd.factorize(train[schema.target], use_na_sentinel=True)
    label = int(y[is_class][0])
    sampler = _sampler(schema, min(k_neighbors, n_class - 1), seed, {label: n_class + k})
    x_new = np.asarray(sampler.fit_resample(x, y)[0], dtype=float)[len(x) :]
    out = _decode(x_new, train, schema, levels)
    out[schema.target] = pd.Series([train.loc[is_class, schema.target].iloc[0]] * k).astype(
        train[schema.target].dtype
    )
    return fill_unlearned(out[columns], schema)


def _sampler(schema: Schema, k_neighbors: int, seed: int, strategy: dict[int, int]) -> Any:
    discrete = [j for j, spec in enumerate(schema.columns) if not spec.is_numeric]
    common = {"sampling_strategy": strategy, "k_neighbors": k_neighbors, "random_state": seed}
    if not discrete:
        return SMOTE(**common)
    if len(discrete) == len(schema.columns):
        return SMOTEN(**common)
    return SMOTENC(categorical_features=discrete, **common)


def _imputed_matrix(
    train: pd.DataFrame, schema: Schema, levels: dict[str, tuple[Any, ...]]
) -> np.ndarray:
    """Numeric columns as floats, discrete ones as level codes; NaN imputed (median/mode)."""
    out = np.empty((len(train), len(schema.columns)))
    for j, spec in enumerate(schema.columns):
        if spec.is_numeric:
            values = column_numbers(train[spec.name], spec)
            fill = np.nanmedian(values) if (~np.isnan(values)).any() else 0.0
        else:
            values = level_codes(train[spec.name], levels[spec.name])
            observed = values[~np.isnan(values)].astype(int)
            fill = float(np.bincount(observed).argmax()) if observed.size else 0.0
        out[:, j] = np.where(np.isnan(values), fill, values)
    return out


def _decode(
    x: np.ndarray, train: pd.DataFrame, schema: Schema, levels: dict[str, tuple[Any, ...]]
) -> pd.DataFrame:
    """SMOTE's float matrix back to the training frame's values and dtypes."""
    out = {}
    for j, spec in enumerate(schema.columns):
        values: Any = x[:, j]
        if not spec.is_numeric:
            choices = np.array(levels[spec.name], dtype=object)
            values = choices[np.clip(np.rint(values).astype(int), 0, len(choices) - 1)]
        elif spec.kind == "ordinal" and train[spec.name].notna().any():
            # the training rows' levels: the schema's describe the whole table, test split
            # included, and SMOTE rows may not take a value only a test row has
            grid = np.asarray(sorted_levels(train[spec.name]), dtype=float)
            values = grid[np.abs(values[:, None] - grid[None, :]).argmin(axis=1)]
        elif spec.kind in ("integer", "count"):
            values = np.rint(values)
        elif spec.kind == "datetime":
            dtype = str(train[spec.name].dtype)
            out[spec.name] = pd.Series(from_seconds(values, spec.format, dtype), copy=False)
            continue
        restored = restore_dtype(np.asarray(values), str(train[spec.name].dtype),
                                 levels.get(spec.name))
        out[spec.name] = pd.Series(restored, copy=False)
    return pd.DataFrame(out)
