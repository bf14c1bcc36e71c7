"""Metrics of several minority classes: one call per class, then one number per metric.

Every evaluation reads its metrics the same way: the rows of each minority class are taken
from every frame (the label rule of :mod:`synthbalance.core.tables`), the metric runs on
them, and each value is averaged over the classes, ignoring a class where it is undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.tables import rows_of

Results = dict[Any, dict[str, Any]]


def per_class(
    metric: Callable[..., Mapping[str, Any]],
    schema: Schema,
    *frames: pd.DataFrame,
    classes: Sequence[Any] | None = None,
) -> Results:
    """``{class: metric(*rows)}`` for each of ``classes`` (default: the schema's minority
    classes), ``rows`` being each frame's rows of that class, in the order given."""
    classes = schema.minority_classes if classes is None else classes
    return {c: dict(metric(*(rows_of(df, schema.target, c) for df in frames))) for c in classes}


def class_mean(
    results: Results, keys: Iterable[str], *, prefix: str = "", totals: Iterable[str] = ()
) -> dict[str, float]:
    """``prefix + key`` -> the mean over classes of each of ``keys`` and the sum of each of
    ``totals`` (counts, such as exact copies).

    A class whose value is ``NaN`` is left out of the mean; the mean is ``NaN`` when no
    class has a finite value.
    """
    out = {prefix + key: mean_finite(r[key] for r in results.values()) for key in keys}
    out.update({prefix + key: float(sum(r[key] for r in results.values())) for key in totals})
    return out


def mean_finite(values: Iterable[Any]) -> float:
    """The mean of ``values`` without their ``NaN``; ``NaN`` if none is finite."""
    array = np.asarray([float(v) for v in values], dtype=float)
    if not np.isfinite(array).any():
        return float("nan")
    return float(np.nanmean(array))
