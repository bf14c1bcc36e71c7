"""ydata-profiling reports that type each column as the project's schema does.

Left to itself, ydata-profiling profiles text categories as free text (word clouds) and
0/1 or 1..5 codes as real numbers (histograms, means). The schema knows each column's kind
(:mod:`synthbalance.core.schema`); its ``type_schema`` argument passes that on.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def profile_report(table: pd.DataFrame, schema: Schema, **options: Any) -> ProfileReport:
    """A ``ProfileReport`` of ``table`` typed by ``schema`` (``options`` go to ydata-profiling:
    ``title``, ``minimal``, ...)."""
    return ProfileReport(table, type_schema=profile_types(schema, table.columns),
                         progress_bar=False, **options)
