"""Date and time columns as ordered numbers: seconds since 1970-01-01 (UTC), and back.

A ``datetime`` column is learned as a number so every family sees its order and its
per-class distribution (a year holding most of the minority stays that year). Text dates
keep the ``strftime`` format they were detected in (:func:`detect_format`); ``datetime64``
columns keep their dtype (unit and time zone). Times are exact to the second.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from synthbalance.core.errors import DataValidationError

#: A text column is a date column when at least this share of its non-missing values
#: parse in one format (the rest then stop validation, as a stray word in a number column).
DATE_MIN_SHARE = 0.9
#: Distinct values a format is guessed from.
GUESS_VALUES = 20
#: A detected format must hold a year or an hour: ``"Jan"`` alone (``%b``) is a level.
_ANCHORS = ("%Y", "%y", "%H", "%I")
#: Seconds kept within what ``datetime64[ns]`` holds (years 1678-2261).
_LIMIT = 9.2e9
_EPOCH = pd.Timestamp("1970-01-01")


def is_datetime_dtype(series: pd.Series) -> bool:
    """``series`` holds ``datetime64`` values (with or without a time zone)."""
    return pd.api.types.is_datetime64_any_dtype(series)


def detect_format(series: pd.Series) -> str | None:
    """The ``strftime`` format most non-missing text values of ``series`` parse in.

    Formats are guessed by pandas from a few distinct values (month first, then day
    first); the one that parses the most values wins. Returns ``None`` unless it holds a
    year or an hour and parses at least :data:`DATE_MIN_SHARE` of the values.
    """
    present = series.dropna()
    if present.empty or not all(isinstance(v, str) for v in present.iloc[:GUESS_VALUES]):
        return None
    sample = pd.unique(present.astype(str))[:GUESS_VALUES]
    with warnings.catch_warnings():  # pandas warns when a guess is day first
        warnings.simplefilter("ignore", UserWarning)
        guesses = {guess_datetime_format(v, dayfirst=first) for v in sample
                   for first in (False, True)}
    best, best_share = None, 0.0
    for fmt in sorted(g for g in guesses if g and any(a in g for a in _ANCHORS)):
        share = float(parse(present, fmt).notna().mean())
        if share > best_share:
            best, best_share = fmt, share
    return best if best_share >= DATE_MIN_SHARE else None


def date_format(series: pd.Series) -> str | None:
    """The format a ``datetime`` column is read and written in (``None`` for ``datetime64``).

    Raises:
        DataValidationError: a value does not parse as a date in the column's format (or
            no format fits): the message names the column, the value and the fix.
    """
    if is_datetime_dtype(series):
        return None
    fmt = detect_format(series)
    bad = series.notna() & (parse(series, fmt).isna() if fmt else True)
    if bad.any():
        row = bad.idxmax()
        found = f"are dates written as {fmt!r}" if fmt else "are not dates in one format"
        raise DataValidationError(
            f"Column {series.name!r} is a datetime column, but its values {found} and "
            f"{series[row]!r} (row {row}, counted from 0, {int(bad.sum())} such values) is "
            "not. Fix the data, list that marker in ingest.read_options.na_values, or give the "
            "column another "
            f"kind in ingest.columns.{series.name}."
        )
    return fmt


def parse(series: pd.Series, fmt: str) -> pd.Series:
    """Text parsed in ``fmt`` (``NaT`` where it does not parse), as UTC if ``fmt`` has ``%z``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return pd.to_datetime(series, format=fmt, errors="coerce", utc="%z" in fmt)


def to_seconds(series: pd.Series, fmt: str | None) -> np.ndarray:
    """Seconds since 1970-01-01 of text in ``fmt`` (``None``: a ``datetime64`` column, or
    values already numbers); ``NaN`` where missing. Aware times are taken in UTC."""
    if fmt is None and not is_datetime_dtype(series):
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    stamps = parse(series, fmt) if fmt is not None else series
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((stamps - _EPOCH) / pd.Timedelta(1, "s")).to_numpy(dtype=float, na_value=np.nan)


def resolution(fmt: str) -> float:
    """Seconds of the finest unit ``fmt`` writes: a day for ``%Y-%m-%d``, a second with ``%S``."""
    for directive, step in (("%S", 1.0), ("%M", 60.0), ("%H", 3600.0), ("%I", 3600.0)):
        if directive in fmt:
            return step
    return 86_400.0


def from_seconds(seconds: np.ndarray, fmt: str | None, dtype: str) -> np.ndarray:
    """Seconds back to text in ``fmt`` (``None`` where missing), or, when ``fmt`` is
    ``None``, to the ``datetime64`` ``dtype`` named (unit and time zone kept).

    Returns an object array of text, or a datetime array; never modifies ``seconds``.
    Missing values (``NaN``) come back missing.
    """
    x = np.clip(np.asarray(seconds, dtype=float), -_LIMIT, _LIMIT)
    if fmt is not None:  # the nearest date (or hour, minute) the format writes, not the last
        step = resolution(fmt)
        x = np.round(x / step) * step
    # Whole microseconds, NaN made 0 and masked after: pandas 2 converts float input with
    # NaN through a buffer it does not clear, and raised FloatingPointError at random on
    # the garbage at the NaN places (pandas GH#58419, fixed in pandas 3).
    missing = np.isnan(x)
    micros = np.where(missing, 0.0, np.round(x * 1e6)).astype(np.int64)
    stamps = pd.Series(pd.to_datetime(micros, unit="us")).mask(missing)
    if fmt is not None:
        if "%z" in fmt:
            stamps = stamps.dt.tz_localize("UTC")
        text = stamps.dt.strftime(fmt).to_numpy(dtype=object)
        text[np.isnan(x)] = None
        return text
    target = pd.api.types.pandas_dtype(dtype)
    tz = getattr(target, "tz", None)
    if tz is not None:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(tz)
    return stamps.astype(target).array
