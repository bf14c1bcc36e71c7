"""Fidelity: how close synthetic rows are to real rows, column by column and pairwise.

- numeric kinds: 1-D Wasserstein distance divided by the real column's standard deviation
  (missing values dropped; a constant real column is divided by 1), so a shift of ``c``
  standard deviations reads ``c`` whatever the column's unit;
- binary and categorical kinds: total-variation distance between level frequencies, with
  "missing" as a level of its own (and a value the schema does not know as another);
- datetime columns: as numeric ones, on seconds since the epoch;
- ``wasserstein_mean``: the mean over all learned feature columns of both kinds of distance
  (identifier and constant columns are not features: a constant's free 0 would lower it);
- ``correlation_distance``: the mean absolute difference between the off-diagonal entries of
  the two correlation matrices of the numeric encodings (pairwise-complete).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics._features import (
    column_numbers,
    joint_levels,
    level_codes,
    numeric_matrix,
    numeric_values,
)
from synthbalance.core.metrics.per_class import class_mean, per_class
from synthbalance.core.naming import metric_names
from synthbalance.core.schema import Schema
from synthbalance.core.tables import require_columns


def fidelity(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Per-column distances, their mean and the correlation distance (module docstring).

    Returns ``{"wasserstein_mean": float, "correlation_distance": float,
    "columns": {column: distance}}``. A numeric column with no value on one side has
    distance ``NaN`` and is left out of the mean.
    """
    _check_frames(real, synth, schema)
    levels = joint_levels(schema, real, synth)
    columns: dict[str, float] = {}
    for spec in schema.columns:
        if spec.is_numeric:
            columns[spec.name] = scaled_wasserstein(
                *(pd.Series(column_numbers(df[spec.name], spec)) for df in (real, synth))
            )
        else:
            columns[spec.name] = total_variation(
                real[spec.name], synth[spec.name], levels[spec.name]
            )
    values = np.array(list(columns.values()), dtype=float)
    mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    diff = correlation_difference(real, synth, schema).to_numpy()
    off_diagonal = ~np.eye(len(diff), dtype=bool)
    corr = float(np.abs(diff[off_diagonal]).mean()) if off_diagonal.any() else 0.0
    return {"wasserstein_mean": mean, "correlation_distance": corr, "columns": columns}


def fidelity_by_class(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Schema
) -> tuple[dict[str, float], pd.DataFrame]:
    """:func:`fidelity` for each minority class, then averaged over the classes.

    Returns the metrics ``fidelity.wasserstein_mean``, ``fidelity.correlation_distance``
    and ``fidelity.column.<column>`` (the column's name as
    :func:`~synthbalance.core.naming.metric_names` makes it safe and unique), and a
    table of every distance with columns ``class``, ``column``, ``kind`` and ``distance``.
    """
    results = per_class(partial(fidelity, schema=schema), schema, real, synth)
    table = pd.DataFrame(
        [{"class": c, "column": col, "kind": schema[col].kind, "distance": d}
         for c, result in results.items() for col, d in result["columns"].items()]
    )
    by_column = {c: result["columns"] for c, result in results.items()}
    column_means = class_mean(by_column, schema.names)
    keys = metric_names(schema.names)
    metrics = {
        **class_mean(results, ("wasserstein_mean", "correlation_distance"), prefix="fidelity."),
        **{f"fidelity.column.{keys[name]}": value for name, value in column_means.items()},
    }
    return metrics, table


def scaled_wasserstein(real: pd.Series, synth: pd.Series) -> float:
    """Wasserstein distance between two numeric columns over the real column's std."""
    a, b = numeric_values(real), numeric_values(synth)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    std = float(np.std(a, ddof=1)) if a.size > 1 else 0.0
    return float(wasserstein_distance(a, b)) / (std if std > 0 else 1.0)


def total_variation(real: pd.Series, synth: pd.Series, levels: tuple[Any, ...]) -> float:
    """Half the L1 distance between level frequencies, missing counted as a level."""
    width = len(levels) + 2  # the levels, "unknown value", "missing"
    freqs = []
    for series in (real, synth):
        codes = level_codes(series, levels)
        slots = np.where(np.isnan(codes), width - 1, codes).astype(int)
        freqs.append(np.bincount(slots, minlength=width) / max(len(slots), 1))
    return float(0.5 * np.abs(freqs[0] - freqs[1]).sum())


def correlation_difference(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Synthetic minus real correlation matrix of the numeric encodings, for a heatmap.

    Correlations are pairwise-complete (pandas). A correlation that is undefined (a
    constant column) counts as 0, so a column that collapses to one value in the
    synthetic rows shows its lost correlations instead of vanishing from the mean.
    """
    _check_frames(real, synth, schema)
    levels = joint_levels(schema, real, synth)
    names = schema.names
    corr = [
        pd.DataFrame(numeric_matrix(df, schema, levels), columns=names).corr().fillna(0.0)
        for df in (real, synth)
    ]
    diff = (corr[1] - corr[0]).to_numpy(copy=True)
    np.fill_diagonal(diff, 0.0)
    return pd.DataFrame(diff, index=names, columns=names)


def _check_frames(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> None:
    require_columns(real, schema.names, "real rows")
    require_columns(synth, schema.names, "synthetic rows")
    if real.empty or synth.empty:
        raise DataValidationError(
            f"Fidelity needs rows on both sides; got {len(real)} real and {len(synth)} "
            "synthetic rows. Sample synthetic rows before evaluating them."
        )
