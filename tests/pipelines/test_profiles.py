"""Both ydata-profiling reports type each column as the project's schema does."""

from __future__ import annotations

import re

import pytest

from synthbalance.core.schema import KINDS
from synthbalance.pipelines.evaluation.nodes import compare_profiles
from synthbalance.pipelines.ingest.nodes import validate_raw_table
from synthbalance.pipelines.profiling.nodes import profile_table
from synthbalance.profiles import PROFILE_TYPES

#: Demo columns of each kind, and the type each report must show for them (ydata-profiling
#: shows a numeric column as "Real number"). Left to itself it profiled region as Text and
#: smoker and age_band as real numbers.
EXPECTED = {"region": "Categorical", "smoker": "Boolean", "age_band": "Categorical",
            "glucose": "Real number"}


def _types(html: str) -> dict[str, set[str]]:
    """The type label(s) a report's HTML shows under each variable's name."""
    found: dict[str, set[str]] = {}
    pattern = r'title=([\w.]+)><a [^>]*>\1</a> <br> <span class="[^"]*">([^<(]+)'
    for name, label in re.findall(pattern, html):
        found.setdefault(name, set()).add(label.strip())
    return found


@pytest.fixture(scope="module")
def validated(demo):
    table, schema = validate_raw_table(demo.head(1200), {"source": "demo"})
    kinds = {c.name: c.kind for c in schema.columns}
    assert (kinds["region"], kinds["smoker"], kinds["age_band"]) == (
        "categorical", "binary", "ordinal")
    return table, schema


def test_every_column_kind_has_a_profile_type():
    assert set(PROFILE_TYPES) == set(KINDS)


def test_the_profile_shows_the_schema_types(validated):
    table, schema = validated
    html = profile_table(table, schema, {"minimal": True, "sample_rows": 400}, 1)
    found = _types(html)
    assert {name: found[name] for name in EXPECTED} == {k: {v} for k, v in EXPECTED.items()}
    assert found[schema.target] == {"Categorical"}


def test_the_comparison_report_shows_the_schema_types(validated):
    table, schema = validated
    rows = table.head(600)
    html = compare_profiles(rows, rows.iloc[::-1], schema,
                            {"compare_profile": True, "compare_sample_rows": 200}, 1)
    found = _types(html)
    assert {name: found[name] for name in EXPECTED} == {k: {v} for k, v in EXPECTED.items()}


def test_reports_print_no_progress_bar(validated, capfd):
    """ydata-profiling's per-column bar ignores ``progress_bar=False`` (upstream #1755)."""
    table, schema = validated
    rows = table.head(300)
    profile_table(rows, schema, {"minimal": True, "sample_rows": 300}, 1)
    compare_profiles(rows, rows.iloc[::-1], schema,
                     {"compare_profile": True, "compare_sample_rows": 200}, 1)
    printed = capfd.readouterr()
    assert "it/s]" not in printed.err + printed.out
    from tqdm import tqdm
    from ydata_profiling.model.pandas import summary_pandas
    assert summary_pandas.tqdm is tqdm  # the module is left as it was
