"""Frames to matrices, written once for detection, utility, privacy and fidelity.

Two encodings:

Only ``schema.columns`` become features: identifier and constant columns never do.
Datetimes are numbers here, seconds since the epoch (:func:`column_numbers`).

- :func:`numeric_matrix`, for xgboost and correlations: numeric kinds as floats, binary and
  categorical columns as integer codes over their levels; missing values stay ``NaN``
  (xgboost learns a direction for them).
- :func:`scaled_matrix`, for distances: numeric kinds centred on the *reference* (real)
  column's median and divided by its standard deviation, missing values set to the centre
  plus a 0/1 "was missing" column; binary and categorical columns one-hot with a slot for
  "missing". The scale always comes from real rows, so synthetic rows cannot shrink it.

"Discrete" below means the non-numeric kinds (binary, categorical); ordinal columns are
numbers and are treated as such.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.dates import to_seconds
from synthbalance.core.schema import ColumnSpec, Schema
from synthbalance.core.tables import require_columns

Levels = Mapping[str, tuple[Any, ...]]


def discrete_columns(schema: Schema) -> list[ColumnSpec]:
    """The columns encoded as codes or one-hot: every non-numeric kind."""
    return [c for c in schema.columns if not c.is_numeric]


def joint_levels(schema: Schema, *frames: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
    """Each discrete column's schema levels, then any other value seen in ``frames``.

    Encoding every frame with the same extended levels keeps codes consistent and gives a
    value the schema does not know (a synthetic typo) its own code instead of hiding it.
    """
    out: dict[str, tuple[Any, ...]] = {}
    for spec in discrete_columns(schema):
        known = tuple(spec.levels or ())
        lookup = _lookup(known)
        extra: dict[str, Any] = {}
        for df in frames:
            for value in pd.unique(df[spec.name].dropna()):
                if _find(lookup, value) is None:
                    extra.setdefault(str(value), value)
        out[spec.name] = known + tuple(extra[key] for key in sorted(extra))
    return out


def level_codes(series: pd.Series, levels: Sequence[Any]) -> np.ndarray:
    """Float codes of ``series`` over ``levels``: ``NaN`` where missing, ``len(levels)``
    for a value outside them. Values match by equality first, then by their text."""
    lookup = _lookup(levels)
    codes = {}
    for value in pd.unique(series.dropna()):
        code = _find(lookup, value)
        codes[value] = float(len(levels) if code is None else code)
    return series.map(codes).to_numpy(dtype=float, na_value=np.nan)


def numeric_values(series: pd.Series) -> np.ndarray:
    """A numeric column as floats, missing (or non-numeric) entries as ``NaN``."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def column_numbers(series: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """An ordered column as floats: numbers as they are, datetimes as seconds since the
    epoch (:mod:`synthbalance.core.dates`); missing or unreadable entries ``NaN``."""
    if spec.kind == "datetime":
        return to_seconds(series, spec.format)
    return numeric_values(series)


def numeric_matrix(df: pd.DataFrame, schema: Schema, levels: Levels | None = None) -> np.ndarray:
    """Feature columns as a float matrix for xgboost: numbers as they are, discrete columns
    as codes over ``levels`` (default: the schema's), ``NaN`` kept."""
    require_columns(df, schema.names, "input rows")
    levels = levels or {}
    out = np.empty((len(df), len(schema.columns)), dtype=float)
    for j, spec in enumerate(schema.columns):
        if spec.is_numeric:
            out[:, j] = column_numbers(df[spec.name], spec)
        else:
            out[:, j] = level_codes(df[spec.name], levels.get(spec.name, spec.levels or ()))
    return out


@dataclass(frozen=True)
class DistanceScaler:
    """What :func:`scaled_matrix` needs, fitted on real rows by :func:`fit_distance_scaler`."""

    schema: Schema
    centre: dict[str, float]
    scale: dict[str, float]
    flag_missing: dict[str, bool]
    levels: dict[str, tuple[Any, ...]]


def fit_distance_scaler(reference: pd.DataFrame, schema: Schema) -> DistanceScaler:
    """Centres, scales (real std; 1 where it is 0 or undefined) and levels from real rows."""
    require_columns(reference, schema.names, "reference rows")
    centre, scale, flag = {}, {}, {}
    for spec in schema.columns:
        if not spec.is_numeric:
            continue
        values = column_numbers(reference[spec.name], spec)
        finite = values[~np.isnan(values)]
        std = float(np.std(finite, ddof=1)) if finite.size > 1 else 0.0
        centre[spec.name] = float(np.median(finite)) if finite.size else 0.0
        scale[spec.name] = std if std > 0 else 1.0
        flag[spec.name] = bool(spec.nullable or finite.size < values.size)
    return DistanceScaler(schema, centre, scale, flag, joint_levels(schema, reference))


def scaled_matrix(df: pd.DataFrame, scaler: DistanceScaler) -> np.ndarray:
    """Rows as a dense float matrix for Euclidean distances (see the module docstring).

    A value outside the reference levels gets all zeros in its one-hot block, so it sits
    at the same distance from every level.
    """
    require_columns(df, scaler.schema.names, "input rows")
    blocks: list[np.ndarray] = []
    for spec in scaler.schema.columns:
        if spec.is_numeric:
            values = column_numbers(df[spec.name], spec)
            missing = np.isnan(values)
            z = np.where(missing, scaler.centre[spec.name], values) - scaler.centre[spec.name]
            blocks.append((z / scaler.scale[spec.name])[:, None])
            if scaler.flag_missing[spec.name]:
                blocks.append(missing.astype(float)[:, None])
        else:
            levels = scaler.levels[spec.name]
            codes = level_codes(df[spec.name], levels)
            slots = np.where(np.isnan(codes), len(levels) + 1, codes).astype(int)
            onehot = np.zeros((len(df), len(levels) + 2))
            onehot[np.arange(len(df)), slots] = 1.0
            # slot len(levels) is "unknown value": dropped so it is equidistant from all
            blocks.append(np.delete(onehot, len(levels), axis=1))
    return np.hstack(blocks) if blocks else np.zeros((len(df), 0))


def row_keys(matrix: np.ndarray) -> list[bytes]:
    """One hashable key per row of a float matrix; ``NaN`` equals ``NaN``, ``-0.0`` equals 0."""
    missing = np.isnan(matrix)
    packed = np.ascontiguousarray(np.hstack([np.where(missing, 0.0, matrix) + 0.0, missing]))
    return [row.tobytes() for row in packed]


def subsample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``size`` of ``n`` rows drawn without replacement (all if fewer)."""
    if size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _lookup(levels: Sequence[Any]) -> tuple[dict[Any, int], dict[str, int]]:
    by_value: dict[Any, int] = {}
    for i, level in enumerate(levels):
        with contextlib.suppress(TypeError):  # an unhashable level matches by text only
            by_value.setdefault(level, i)
    return by_value, {str(level): i for i, level in reversed(list(enumerate(levels)))}


def _find(lookup: tuple[dict[Any, int], dict[str, int]], value: Any) -> int | None:
    by_value, by_text = lookup
    try:
        if value in by_value:
            return by_value[value]
    except TypeError:
        pass
    return by_text.get(str(value))
