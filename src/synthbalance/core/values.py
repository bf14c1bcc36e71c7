"""Cell values: Python scalars, level order, and a column's dtype given back.

One home for small rules every stage applies to values (the schema, the transformer, the
cleaning rules, SMOTE): a numpy scalar becomes the Python scalar it stands for, a column's
levels are put in one order, and a column rebuilt from floats or codes gets the dtype of
the column it was learnt from, unless that would lose information.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

#: Values are checked for wholeness this many at a time, so the temporary arrays stay in
#: the CPU cache (see ``postprocess.CHUNK_ROWS``, measured there).
CHUNK = 32_768


def to_python(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (``np.int64(3)`` -> ``3``); any other
    value as it is. Integral floats stay floats, so ``1.0`` and ``1`` keep their types."""
    return value.item() if isinstance(value, np.generic) else value


def sorted_levels(values: Iterable[Any]) -> tuple[Any, ...]:
    """The distinct non-missing ``values`` in their natural order, as Python scalars.

    Numbers sort by value and strings alphabetically; a mix that Python cannot compare
    (numbers and strings) sorts by its text, which is stable from run to run.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    levels = [to_python(v) for v in pd.unique(series.dropna())]
    try:
        return tuple(sorted(levels))
    except TypeError:
        return tuple(sorted(levels, key=str))


def restore_dtype(values: np.ndarray, dtype: str, levels: tuple[Any, ...] | None = None) -> Any:
    """``values`` in the dtype named ``dtype`` where that holds them exactly.

    - ``category``: a ``pd.Categorical`` over ``levels`` (a value outside them is missing);
    - other pandas extension dtypes (``Int64``, ``string``, ...): ``pd.array`` in that
      dtype, or the values unchanged if they do not fit;
    - integer and boolean dtypes from numbers (floats, or objects such as ``True``):
      converted only if every value is whole (0 or 1 for booleans) and none is missing;
      otherwise floats stay ``float64`` and objects stay as they are;
    - float dtypes: converted;
    - ``object`` with boolean ``levels`` (``True`` / ``False`` with blanks), from floats:
      ``True`` / ``False`` objects, ``None`` where missing;
    - anything else (``object``) is returned as it is.

    Returns a numpy array, ``pd.Categorical`` or extension array; never modifies ``values``.
    """
    try:
        target = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return values
    if isinstance(target, pd.CategoricalDtype):
        return pd.Categorical(values, categories=list(levels or ()))
    if isinstance(target, pd.api.extensions.ExtensionDtype):
        try:
            return pd.array(values, dtype=target)
        except (TypeError, ValueError):
            return values
    if target.kind in "iub" and values.dtype.kind in "fO":
        numbers = _as_float(values)
        boolean = target.kind == "b"
        fits = numbers is not None and all(
            is_whole(numbers[rows], boolean) for rows in chunks(len(numbers)))
        return numbers.astype(target) if fits else values
    if target.kind == "f":
        return values.astype(target, copy=False)
    if values.dtype.kind == "f" and levels and all(isinstance(v, bool) for v in levels):
        return _as_booleans(values)
    return values


def _as_booleans(values: np.ndarray) -> np.ndarray:
    """0/1 floats as an object array of ``True`` / ``False``, ``None`` where missing (a
    CSV column of True, False and blanks, cleaned as numbers)."""
    out = np.full(values.shape, None, dtype=object)
    present = ~np.isnan(values)
    out[present] = (values[present] != 0.0).tolist()
    return out


def _as_float(values: np.ndarray) -> np.ndarray | None:
    """Float values of a float or object array; ``None`` if some object is no number."""
    if values.dtype.kind == "f":
        return values
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        return None


def is_whole(values: np.ndarray, boolean: bool = False) -> bool:
    """Every value is a whole number (0 or 1 if ``boolean``); ``NaN`` is not."""
    if boolean:
        return bool(((values == 0.0) | (values == 1.0)).all())
    return bool((np.rint(values) == values).all())  # NaN != NaN


def chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    """Row slices of ``size`` covering ``n`` rows (one empty slice when ``n`` is 0)."""
    for start in range(0, max(n, 1), size):
        yield slice(start, start + size)
