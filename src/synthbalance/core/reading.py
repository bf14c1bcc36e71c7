"""Values read as they were written: zero-padded codes, booleans, and numbers written with
a decimal comma or a thousands separator.

pandas reads ``06720`` as the number 6720, and ``1.234,56`` or ``1,234,567`` as text. The
functions here find such columns so that codes stay text (every later stage treats them
as categorical levels, and synthetic codes are real codes) and numbers become numbers:

- :func:`csv_read_options`: before a CSV is read, a first pass reads every column as text
  and asks for ``dtype=str`` on the columns of zero-padded codes;
- :func:`is_code_column` and :func:`holds_booleans`: text or object columns validation must
  not turn into numbers;
- :func:`read_numbers`: text as numbers, in whichever way of writing them reads the most
  values of the column (plain, ``,`` as thousands separator, or ``,`` as decimal comma).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.errors import DataValidationError

#: Ways of writing numbers, each as (pattern every value must match, characters to delete,
#: the decimal mark to turn into "."); "plain" is pandas' own reading (``to_numeric``).
#: A pattern also matches numbers without any separator ("12", "3.5" or "3,5").
WRITINGS: dict[str, tuple[str, str, str]] = {
    "plain": ("", "", "."),
    "thousands ','": (r"[+-]?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?", ",", "."),
    "decimal ','": (r"[+-]?(?:\d{1,3}(?:\.\d{3})*|\d+)(?:,\d+)?", ".", ","),
}


def csv_read_options(source: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` for ``pandas.read_csv`` plus ``dtype=str`` for zero-padded code columns.

    A first pass reads ``source`` (a path or fsspec URL) with every column as text and the
    same ``options``; a column whose values are all digits, some with a leading zero
    (``"06720"``), is a code column. A ``dtype`` the user gave wins: one dtype for every
    column turns detection off; a mapping keeps its entries. If the first pass fails, the
    options come back unchanged and the real read reports the problem.
    """
    user = options.get("dtype")
    if user is not None and not isinstance(user, Mapping):
        return dict(options)
    # the real read reports bad lines (on_bad_lines=warn) once; this first pass says nothing
    first = {k: v for k, v in options.items() if k != "dtype"}
    if first.get("on_bad_lines") == "warn":
        first["on_bad_lines"] = "skip"
    try:
        text = pd.read_csv(source, dtype=str, **first)
    except (ValueError, TypeError, OSError):
        return dict(options)
    chosen = dict(user or {})
    codes = {name: str for name in text.columns
             if name not in chosen and is_code_column(text[name])}
    return {**options, "dtype": {**codes, **chosen}} if codes else dict(options)


def is_code_column(values: pd.Series) -> bool:
    """Text values that are all digits, at least one of them with a leading zero.

    ``"06720"``, ``"007"`` make a code column; ``"0"``, ``"10"``, ``"0.5"`` do not (nor a
    column holding any value that is not a string of digits).
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
    if distinct.empty or not distinct.map(lambda v: isinstance(v, str)).all():
        return False
    text = distinct.str.strip()
    return bool(text.str.fullmatch(r"\d+").all() and text.str.fullmatch(r"0\d+").any())


def holds_booleans(values: pd.Series) -> bool:
    """An object column whose present values are all ``True`` / ``False`` (a CSV column of
    ``True``, ``False`` and blanks); pandas would read them as 1.0 / 0.0."""
    return pd.api.types.infer_dtype(values, skipna=True) == "boolean"


def read_numbers(values: pd.Series) -> tuple[pd.Series, str]:
    """Text values as numbers, read the way of :data:`WRITINGS` that reads the most values.

    The whole column decides: a tie goes to ``plain`` (pandas' own reading). A tie between
    the thousands and the decimal-comma readings that gives different numbers (every value
    like ``"1,234"``, 1234 or 1.234) is ambiguous.

    Returns:
        ``(numbers, writing)``: float or integer values (``NaN`` where a value does not
        read), and the name of the way of writing used.

    Raises:
        DataValidationError: the column is ambiguous; the message names the read option
            (``ingest.read_options.thousands`` or ``decimal``) that settles it.
    """
    codes, distinct = pd.factorize(values)
    readings = {how: _read_distinct(pd.Series(distinct, dtype=object), how)
                for how in WRITINGS}
    counts = {how: int(r.notna().sum()) for how, r in readings.items()}
    best = [how for how in WRITINGS if counts[how] == max(counts.values())]
    if best[0] != "plain" and len(best) == 2 and not readings[best[0]].equals(readings[best[1]]):
        _raise_ambiguous(str(values.name), distinct, *(readings[how] for how in best))
    how = best[0]
    numbers = readings[how].to_numpy()
    if (codes < 0).any():
        numbers = np.append(numbers.astype(np.float64), np.nan)  # code -1 picks the NaN
    return pd.Series(numbers[codes], index=values.index, name=values.name), how


def _read_distinct(distinct: pd.Series, how: str) -> pd.Series:
    """``distinct`` values read as numbers the way ``how``; ``NaN`` where one does not read."""
    pattern, drop, mark = WRITINGS[how]
    if not pattern:
        return pd.to_numeric(distinct, errors="coerce")
    text = distinct.astype(str).str.strip()
    written = text.str.fullmatch(pattern)
    cleaned = text.where(written).str.replace(drop, "", regex=False)
    return pd.to_numeric(cleaned.str.replace(mark, ".", regex=False), errors="coerce")


def _raise_ambiguous(name: str, distinct: Any, a: pd.Series, b: pd.Series) -> None:
    """The thousands reading ``a`` and the decimal-comma reading ``b`` read as many values
    of the column, and disagree; the message shows the first value they disagree on."""
    disagree = a.notna() & b.notna() & (a != b)
    if not disagree.any():
        disagree = a.isna() != b.isna()
    differ = int(np.argmax(disagree.to_numpy()))
    example = distinct[differ]
    raise DataValidationError(
        f"Column {name!r} holds numbers such as {example!r} that read as {a[differ]:g} "
        f"(',' as thousands separator) or as {b[differ]:g} (',' as decimal comma). Set "
        "ingest.read_options.thousands or ingest.read_options.decimal to ',' in "
        f"parameters_ingest.yml, or hint the column categorical (ingest.columns.{name}.kind) "
        "to keep it as text."
    )
