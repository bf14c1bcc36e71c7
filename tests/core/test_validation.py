"""One test per bad input: each ends in one clear error naming the problem and the fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.validation import validate_table
from synthbalance.datasets import SourceTableDataset


def load_error(dataset: SourceTableDataset) -> Exception:
    """The error a user sees, unwrapped from Kedro's DatasetError around dataset loads."""
    with pytest.raises(Exception) as info:
        dataset.load()
    return info.value.__cause__ or info.value


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "days": rng.integers(0, 31, n),
        "colour": rng.choice(["red", "blue"], n),
        "label": np.r_[np.ones(60, int), np.zeros(n - 60, int)],
    })


def test_valid_table_gives_schema_and_a_new_frame(table):
    before = table.copy()
    validated, schema = validate_table(table, "label", hints={"days": {"kind": "count",
                                                                      "bounds": [0, 30]}})
    pd.testing.assert_frame_equal(table, before)  # the input is never modified
    assert schema["days"].kind == "count" and schema["days"].bounds == (0.0, 30.0)
    assert schema.minority_classes == (1,)
    assert schema["colour"].kind == "binary"


def test_missing_target_column(table):
    with pytest.raises(DataValidationError, match=r"'lable'.*ingest.target.*Did you mean "
                                                  r"'label'\?"):
        validate_table(table, "lable")
    with pytest.raises(DataValidationError, match=r"Did you mean 'label'\?"):
        validate_table(table, "LABEL")  # the same up to case
    with pytest.raises(DataValidationError, match=r"not in the table\. Its columns") as error:
        validate_table(table, "outcome_flag_xyz")
    assert "Did you mean" not in str(error.value)


def test_only_one_class(table):
    with pytest.raises(DataValidationError, match=r"only one class \(0\);"):  # not np.int64(0)
        validate_table(table.assign(label=0), "label")


def test_class_below_minimum_rows(table):
    with pytest.raises(DataValidationError, match=r"min_class_rows=100.*1: 60 rows"):
        validate_table(table, "label", min_class_rows=100)


def test_entirely_empty_column(table):
    with pytest.raises(DataValidationError, match=r"\['blank'\].*drop_columns"):
        validate_table(table.assign(blank=np.nan), "label")


def test_strings_in_a_column_hinted_numeric(table):
    bad = table.assign(days=table["days"].astype(object))
    bad.loc[7, "days"] = "n/a"
    with pytest.raises(DataValidationError,
                       match=r"'days'.*'n/a'.*row 7, counted from 0.*na_values"):
        validate_table(bad, "label", hints={"days": {"kind": "count"}})


def test_a_stray_word_in_a_numeric_column_without_hint(table):
    bad = table.assign(age=table["age"].astype(object))
    bad.loc[3, "age"] = "unknown"
    with pytest.raises(DataValidationError, match=r"'age'.*'unknown'"):
        validate_table(bad, "label")


def test_infinite_values(table):
    bad = table.assign(age=table["age"].astype(float))
    bad.loc[5, "age"] = np.inf
    with pytest.raises(DataValidationError, match=r"'age'.*infinite.*row 5"):
        validate_table(bad, "label")


def test_missing_labels(table):
    bad = table.assign(label=table["label"].astype(float))
    bad.loc[0, "label"] = np.nan
    with pytest.raises(DataValidationError, match="missing labels"):
        validate_table(bad, "label")


def test_duplicate_column_names(table):
    bad = pd.concat([table, table[["age"]]], axis=1)
    with pytest.raises(DataValidationError, match=r"\['age'\].*more than once"):
        validate_table(bad, "label")


def test_values_outside_declared_bounds(table):
    with pytest.raises(DataValidationError, match=r"'days'.*outside its bounds \[0.0, 10.0\]"):
        validate_table(table, "label", hints={"days": {"kind": "count", "bounds": [0, 10]}})


@pytest.mark.parametrize(("hints", "message"), [
    ({"dayz": {"kind": "count"}}, r"\['dayz'\]"),
    ({"days": {"bound": [0, 30]}},
     r"'ingest.columns.days.bound'.*Did you mean 'ingest.columns.days.bounds'"),
    ({"days": {"kind": "countt"}},
     r"'ingest.columns.days.kind' is 'countt'. Did you mean 'count'\? Use one of continuous"),
    ({"days": {"bounds": [30, 0]}},
     r"'ingest.columns.days.bounds' is \[30.0, 0.0\], whose low is above its high"),
    ({"days": {"bounds": [0, "x"]}},
     r"'ingest.columns.days.bounds\[1\]' is 'x'; it must be a valid number"),
])
def test_hint_for_an_unknown_column_or_with_a_typo(table, hints, message):
    with pytest.raises(ConfigError, match=message):
        validate_table(table, "label", hints=hints)


def test_file_missing(tmp_path):
    error = load_error(SourceTableDataset(str(tmp_path / "nope.csv")))
    assert isinstance(error, DataValidationError)
    assert re.search(r"does not exist.*ingest.source", str(error))


def test_file_empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    error = load_error(SourceTableDataset(str(path)))
    assert isinstance(error, DataValidationError) and "empty" in str(error)


def test_file_with_only_a_newline(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n")
    error = load_error(SourceTableDataset(str(path)))
    assert isinstance(error, DataValidationError)
    assert re.search("no rows|empty", str(error))


def test_duplicate_header_in_a_csv_file(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("a,b,a,label\n1,2,3,0\n4,5,6,1\n")
    error = load_error(SourceTableDataset(str(path)))
    assert isinstance(error, DataValidationError)
    assert re.search(r"\['a'\].*more than once", str(error))


def test_read_options_reach_pandas_and_the_raw_file_is_never_written(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("x;y;label\n1;?;0\n2;3;1\n")
    before = path.read_bytes()
    dataset = SourceTableDataset(str(path), read_options={"sep": ";", "na_values": ["?"]})
    df = dataset.load()
    assert list(df.columns) == ["x", "y", "label"] and df["y"].isna().sum() == 1
    with pytest.raises(Exception, match="read-only"):
        dataset.save(df)
    assert path.read_bytes() == before
