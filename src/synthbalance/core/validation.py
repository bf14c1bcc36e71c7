"""Checks that turn a raw table into a validated one, or into one clear error.

Every error names the column or parameter at fault and says what to do. The input frame
is never modified; the validated table is a new frame.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kstest

from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.reading import holds_booleans, is_code_column, read_numbers
from synthbalance.core.schema import NUMERIC_KINDS, ColumnHint, Schema, infer_schema, parse_hints
from synthbalance.core.split import (
    MIN_FITTING_ROWS,
    MIN_TEST_ROWS,
    MIN_VALIDATION_ROWS,
    class_rows_needed,
)
from synthbalance.core.values import to_python

#: More distinct labels than this, in over half the rows: a continuous column, not classes.
MAX_CLASSES = 50


def validate_table(
    df: pd.DataFrame,
    target: str,
    hints: Mapping[str, ColumnHint | Mapping[str, Any]] | None = None,
    minority_classes: Sequence[Any] | None = None,
    min_class_rows: int = 20,
    drop_columns: Sequence[str] = (),
    split_shares: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, Schema]:
    """Validate ``df`` and infer its schema; return a cleaned copy and the schema.

    ``split_shares``: ``(test_size, validation_size)`` of the later splits; every class
    then needs the rows they leave each stage (:func:`.split.class_rows_needed`).

    Raises:
        DataValidationError: the data cannot be used (see the message for the fix).
        ConfigError: a parameter names something the data does not have.
    """
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise DataValidationError(
            "The input table has no rows or no columns; check ingest.source and "
            "ingest.read_options (for instance the separator)."
        )
    _check_duplicate_columns(df.columns)
    df = _drop_columns(df, drop_columns, target)
    _check_target(df, target)
    hints = parse_hints(hints)
    df = _coerce_hinted_numbers(df, hints)
    _check_empty_columns(df, target)
    _check_infinite(df)
    _check_classes(df[target], target, min_class_rows)
    if split_shares is not None:
        _check_split_rows(df[target], target, min_class_rows, split_shares)
    schema = infer_schema(df, target, hints, minority_classes)
    _check_bounds(df, schema)
    return df, schema


def _check_duplicate_columns(columns: pd.Index) -> None:
    dupes = sorted({str(c) for c in columns[columns.duplicated()]})
    if dupes:
        raise DataValidationError(
            f"Column name(s) {dupes} appear more than once; rename them in the file so each "
            "column has a unique name."
        )


def _drop_columns(df: pd.DataFrame, drop: Sequence[str], target: str) -> pd.DataFrame:
    if target in drop:
        raise ConfigError(
            f"ingest.drop_columns lists {target!r}, the label column (ingest.target); remove "
            "it from ingest.drop_columns, or set ingest.target to another column."
        )
    missing = [c for c in drop if c not in df.columns]
    if missing:
        raise ConfigError(
            f"ingest.drop_columns names {missing}, which the table does not have; "
            f"its columns are {list(df.columns)}."
        )
    return df.drop(columns=list(drop)) if drop else df


def _closest(name: str, names: list[str]) -> str | None:
    """The one of ``names`` that ``name`` most likely meant: the same up to case, else the
    closest by ``difflib``; ``None`` when none is close."""
    same = [n for n in names if n.casefold() == str(name).casefold()]
    return (same or difflib.get_close_matches(str(name), names, n=1) or [None])[0]


def _check_target(df: pd.DataFrame, target: str) -> None:
    if target not in df.columns:
        close = _closest(target, [str(c) for c in df.columns])
        hint = f" Did you mean {close!r}?" if close else ""
        raise DataValidationError(
            f"Target column {target!r} (ingest.target) is not in the table.{hint} Its "
            f"columns are {list(df.columns)}. Set ingest.target to the label column."
        )
    n_missing = int(df[target].isna().sum())
    if n_missing:
        raise DataValidationError(
            f"Target column {target!r} has {n_missing} missing labels; drop those rows or "
            "fill them before running synthbalance."
        )


def _coerce_hinted_numbers(df: pd.DataFrame, hints: Mapping[str, ColumnHint]) -> pd.DataFrame:
    """Text columns that are numbers become numbers; a stray word in one is an error.

    A column hinted numeric must parse fully. An unhinted text column that is at least 90 %
    numbers is almost certainly numeric with a typo or a missing-value marker in it.
    Numbers may be written with a decimal comma or a thousands separator
    (:func:`~synthbalance.core.reading.read_numbers`). Unhinted zero-padded codes
    (``"06720"``) and ``True`` / ``False`` columns stay as they are.
    """
    updates = {}
    for name in df.columns:
        series = df[name]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        kind = hints[name].kind if name in hints else None
        if kind is not None and kind not in NUMERIC_KINDS:
            continue
        if kind is None and (is_code_column(series) or holds_booleans(series)):
            continue
        numbers = _numbers_or_raise(series, kind)
        if numbers is not None:
            updates[name] = numbers
    return df.assign(**updates) if updates else df


def _numbers_or_raise(series: pd.Series, kind: str | None) -> pd.Series | None:
    """``series`` as numbers if every value reads as one; ``None`` if it is text; an error
    if it is hinted numeric or mostly numbers but some values are words."""
    numbers, _ = read_numbers(series)
    bad = series.notna() & numbers.isna()
    present = int(series.notna().sum())
    looks_numeric = present > 0 and bad.sum() <= 0.1 * present
    if bad.any() and (kind is not None or looks_numeric):
        row = bad.idxmax()
        declared = f"declared {kind!r}" if kind else "mostly numbers"
        raise DataValidationError(
            f"Column {series.name!r} is {declared} but holds text such as {series[row]!r} "
            f"(row {row}, counted from 0, {int(bad.sum())} such values). Fix the data, or "
            "list that marker in ingest.read_options.na_values to read it as missing."
        )
    return numbers if not bad.any() and present > 0 else None


def _check_empty_columns(df: pd.DataFrame, target: str) -> None:
    empty = [c for c in df.columns if c != target and df[c].isna().all()]
    if empty:
        raise DataValidationError(
            f"Column(s) {empty} are entirely empty; remove them with ingest.drop_columns "
            "or fix the file."
        )


def _check_infinite(df: pd.DataFrame) -> None:
    for name in df.columns:
        series = df[name]
        if not pd.api.types.is_float_dtype(series):
            continue
        inf = np.isinf(series.to_numpy(dtype=float, na_value=np.nan))
        if inf.any():
            row = series.index[inf.argmax()]
            raise DataValidationError(
                f"Column {name!r} has {int(inf.sum())} infinite value(s) (first at row {row}); "
                "replace them with a number or mark them missing before running."
            )


def _check_classes(labels: pd.Series, target: str, min_rows: int) -> None:
    counts = labels.value_counts()
    if len(counts) < 2:
        raise DataValidationError(
            f"Target column {target!r} has only one class ({to_python(counts.index[0])!r}); "
            "there is no minority class to learn. Check ingest.target or the data."
        )
    if len(counts) > MAX_CLASSES and len(counts) > 0.5 * len(labels):
        raise DataValidationError(
            f"Target column {target!r} has {len(counts)} distinct values in {len(labels)} "
            f"rows (such as {_some(counts.index, limit=5)}): it looks continuous, not a class "
            "label. Set ingest.target to the class column, or bin this one into classes in "
            "the file."
        )
    small = counts[counts < min_rows]
    if len(small):
        raise DataValidationError(
            f"Class(es) of {target!r} with fewer than ingest.min_class_rows={min_rows} rows: "
            f"{_some(small, rows=True)}. Collect more rows, merge rare labels, or lower "
            "ingest.min_class_rows."
        )


def _check_split_rows(
    labels: pd.Series, target: str, min_rows: int, shares: tuple[float, float]
) -> None:
    needed = class_rows_needed(*shares)
    counts = labels.value_counts()
    small = counts[counts < needed]
    if len(small):
        raise DataValidationError(
            f"Class(es) of {target!r} too small for the splits: {_some(small, rows=True)}. "
            f"With preprocessing.test_size={shares[0]} and preprocessing.validation_size="
            f"{shares[1]} a class needs at least {needed} rows ({MIN_TEST_ROWS} test rows for "
            f"detection, {MIN_VALIDATION_ROWS} validation row, {MIN_FITTING_ROWS} fitting rows "
            f"for SMOTE); ingest.min_class_rows={min_rows} let it through. Collect more rows "
            f"of the class, merge it with another label, or remove its rows; "
            f"{_other_shares(int(small.min()))}"
        )


#: Split shares :func:`_other_shares` tries: 0.1, 0.15, ..., 0.5.
_SHARES = tuple(round(0.1 + 0.05 * i, 2) for i in range(9))


def _other_shares(rows: int) -> str:
    """Which test and validation shares, if any, let a class of ``rows`` rows through."""
    need, test, validation = min((class_rows_needed(t, v), t, v)
                                 for t in _SHARES for v in _SHARES)
    if rows >= need:
        return (f"or split it with preprocessing.test_size={test} and "
                f"preprocessing.validation_size={validation} (they need {need} rows).")
    return f"no split shares let it through (the fewest any need is {need} rows)."


def _some(values: pd.Series | pd.Index, rows: bool = False, limit: int = 10) -> str:
    """At most ``limit`` labels (with their row counts), and how many more there are."""
    shown = (", ".join(f"{k!r}: {v} rows" for k, v in values.iloc[:limit].items()) if rows
             else ", ".join(repr(v) for v in list(values[:limit])))
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _check_bounds(df: pd.DataFrame, schema: Schema) -> None:
    for spec in schema.columns:
        if spec.bounds is None or not spec.is_numeric:
            continue
        values = pd.to_numeric(df[spec.name], errors="coerce")
        low, high = spec.bounds
        outside = ((values < low) if low is not None else False) | (
            (values > high) if high is not None else False
        )
        if np.any(outside):
            first = values[outside].iloc[0]
            raise DataValidationError(
                f"Column {spec.name!r} has {int(np.sum(outside))} value(s) outside its bounds "
                f"{list(spec.bounds)} (e.g. {first}); fix the data or the bounds in "
                f"ingest.columns.{spec.name}."
            )


#: A column with more distinct values than this share of the rows is not checked as a
#: stand-in for the label: on nearly unique values every value belongs to one class anyway.
PROXY_MAX_VALUE_SHARE = 0.05


#: A unique whole-number column whose values fit an even spread over their range at this
#: level of the Kolmogorov-Smirnov test looks like a random id (``id_like_numbers``).
ID_SPREAD_P_VALUE = 0.01

#: Fewer values than this are never taken for ids (as in identifier inference).
ID_MIN_VALUES = 50


def id_like_numbers(table: pd.DataFrame, schema: Schema) -> list[str]:
    """The learned ``integer`` columns of ``table`` that look like ids drawn at random: at
    least :data:`ID_MIN_VALUES` values, each in one row only, spread evenly over their
    range (a Kolmogorov-Smirnov test against the uniform law on ``[min, max]`` does not
    reject it at :data:`ID_SPREAD_P_VALUE`). Identifier inference takes only running
    numbers (:func:`~synthbalance.core.unlearned.looks_like_running_numbers`); amounts,
    even unique ones, are skewed, not even."""
    found = []
    for spec in schema.of_kind("integer"):
        values = table[spec.name].dropna().to_numpy(dtype=float)
        if len(values) < ID_MIN_VALUES or len(np.unique(values)) < len(values):
            continue
        low, width = values.min(), np.ptp(values)
        if kstest(values, "uniform", args=(low, width)).pvalue >= ID_SPREAD_P_VALUE:
            found.append(spec.name)
    return found


def duplicate_columns(table: pd.DataFrame, schema: Schema) -> dict[str, str]:
    """``{copy: original}``: each learned column equal, value for value and missing where
    missing, to an earlier learned column of ``table``."""
    found: dict[str, str] = {}
    names = [spec.name for spec in schema.columns]
    for i, name in enumerate(names):
        original = next((o for o in names[:i] if o not in found and table[o].equals(
            table[name])), None)
        if original is not None:
            found[name] = original
    return found


def label_proxies(table: pd.DataFrame, schema: Schema) -> list[str]:
    """The learned columns whose value (missing counts as one) gives each row's class:
    every value occurs with one class only. Columns with at most
    :data:`PROXY_MAX_VALUE_SHARE` as many distinct values as rows, and at least two, are
    checked value by value; columns with more, and with missing values, by whether they are
    filled in (a cancellation date filled in for churners only, whatever its dates)."""
    labels = table[schema.target]
    found = []
    for spec in schema.columns:
        values = table[spec.name]
        distinct = values.nunique(dropna=False)
        missing = values.isna()
        if 2 <= distinct <= PROXY_MAX_VALUE_SHARE * len(table):
            keys = values
        elif missing.any() and not missing.all():
            keys = missing
        else:
            continue
        classes = labels.groupby(keys, sort=False, dropna=False, observed=True)
        if (classes.nunique() == 1).all():
            found.append(spec.name)
    return found
