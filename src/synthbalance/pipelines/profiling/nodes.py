"""Nodes of the ``profiling`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.params import ProfilingParams
from synthbalance.profiles import no_column_bars, profile_report


def profile_table(
    table: pd.DataFrame, schema: Schema, profiling: dict[str, Any], seed: int
) -> str:
    """Profile the validated table with ydata-profiling and return the report's HTML.

    Large tables are profiled on a seeded row sample (``profiling.sample_rows``) in minimal
    mode, so a 250,000-row table takes about a minute rather than many. Columns are typed
    as the schema's kinds (:func:`~synthbalance.profiles.profile_types`).
    """
    params = ProfilingParams.from_dict(profiling)
    if params.sample_rows is not None and len(table) > params.sample_rows:
        table = table.sample(params.sample_rows, random_state=seed)
    title = params.title or f"synthbalance profile ({len(table):,} rows, target {schema.target})"
    report = profile_report(table, schema, title=title, minimal=params.minimal)
    with no_column_bars():
        return report.to_html()
