"""ydata-profiling reports that type each column as the project's schema does.

Left to itself, ydata-profiling profiles text categories as free text (word clouds) and
0/1 or 1..5 codes as real numbers (histograms, means). The schema knows each column's kind
(:mod:`synthbalance.core.schema`); its ``type_schema`` argument passes that on.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd
from ydata_profiling import ProfileReport

from synthbalance.core.schema import Schema

#: ydata-profiling's variable type (a ``type_schema`` name) for each column kind. Ordinal
#: columns are a few ordered levels, shown as level frequencies; identifiers and constants
#: as categories, so the report flags them as unique or constant.
PROFILE_TYPES: dict[str, str] = {
    "continuous": "Numeric", "integer": "Numeric", "count": "Numeric",
    "binary": "Boolean", "categorical": "Categorical", "ordinal": "Categorical",
    "datetime": "DateTime", "identifier": "Categorical", "constant": "Categorical",
}


def profile_types(schema: Schema, columns: Iterable[str]) -> dict[str, str]:
    """``{column: ydata-profiling type}`` for those of ``columns`` the schema knows.

    The target is a label: ``Categorical``.
    """
    kinds = {c.name: c.kind for c in (*schema.columns, *schema.unlearned)}
    kinds[schema.target] = "categorical"
    return {name: PROFILE_TYPES[kinds[name]] for name in columns if name in kinds}


@contextlib.contextmanager
def no_column_bars() -> Iterator[None]:
    """Within: ydata-profiling prints no per-column progress bar. ``progress_bar=False``
    does not reach ydata-profiling 4.18's (``pandas_get_series_descriptions`` calls
    ``tqdm`` without ``disable``; upstream pull request #1755, open), which printed an
    unlabelled ``0/11 ... 11/11`` per report into every run's log. That one module's
    ``tqdm`` is disabled while a report is described (``to_html``, ``compare``)."""
    from ydata_profiling.model.pandas import summary_pandas

    shown = summary_pandas.tqdm
    summary_pandas.tqdm = functools.partial(shown, disable=True)
    try:
        yield
    finally:
        summary_pandas.tqdm = shown


def profile_report(table: pd.DataFrame, schema: Schema, **options: Any) -> ProfileReport:
    """A ``ProfileReport`` of ``table`` typed by ``schema`` (``options`` go to ydata-profiling:
    ``title``, ``minimal``, ...)."""
    return ProfileReport(table, type_schema=profile_types(schema, table.columns),
                         progress_bar=False, **options)
