"""One home per small concept: values, levels, dtypes, labels, columns, metric names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics.per_class import class_mean, mean_finite, per_class
from synthbalance.core.naming import metric_key
from synthbalance.core.schema import ColumnSpec, Schema
from synthbalance.core.tables import find_label, label_mask, require_columns, rows_of
from synthbalance.core.values import is_whole, restore_dtype, sorted_levels, to_python


def test_to_python_turns_numpy_scalars_into_python_ones_and_keeps_the_rest():
    assert type(to_python(np.int64(3))) is int and to_python(np.int64(3)) == 3
    assert type(to_python(np.float64(1.0))) is float  # integral floats stay floats
    assert type(to_python(np.bool_(True))) is bool
    for value in ("a", None, 2, [1]):
        assert to_python(value) is value


def test_sorted_levels_orders_numbers_text_and_mixes_and_drops_missing():
    assert sorted_levels(pd.Series([3.0, 1.0, np.nan, 3.0, 2.0])) == (1.0, 2.0, 3.0)
    assert sorted_levels(["b", None, "a", "b"]) == ("a", "b")
    mixed = sorted_levels(pd.Series([10, "a", 2], dtype=object))
    assert mixed == (10, 2, "a")  # not comparable: by text, the same every run
    assert all(type(v) is int for v in sorted_levels(np.array([2, 1], dtype=np.int16)))
    assert sorted_levels([]) == ()


def test_restore_dtype_keeps_values_exact():
    whole = np.array([1.0, 2.0, 3.0])
    assert restore_dtype(whole, "int64").dtype == np.int64
    assert restore_dtype(np.array([1.0, np.nan]), "int64").dtype == np.float64  # missing
    assert restore_dtype(np.array([1.5, 2.0]), "int64").dtype == np.float64  # not whole
    assert restore_dtype(np.array([0.0, 1.0]), "bool").dtype == bool
    assert restore_dtype(np.array([0.0, np.nan]), "bool").dtype == np.float64  # not True
    assert restore_dtype(np.array([True, False], dtype=object), "bool").dtype == bool
    assert restore_dtype(np.array(["a", 1], dtype=object), "int64").dtype == object
    assert restore_dtype(whole, "float32").dtype == np.float32
    cat = restore_dtype(np.array(["x", "y", "z"], dtype=object), "category", ("x", "y"))
    assert list(cat.categories) == ["x", "y"] and pd.isna(cat[2])
    assert str(restore_dtype(np.array([1.0, np.nan]), "Int64").dtype) == "Int64"
    text = np.array(["a", None], dtype=object)
    assert restore_dtype(text, "object") is text
    assert restore_dtype(whole, "no-such-dtype") is whole
    before = whole.copy()
    restore_dtype(whole, "int64")
    np.testing.assert_array_equal(whole, before)  # never modified


def test_is_whole_and_boolean_values():
    assert is_whole(np.array([1.0, -2.0])) and not is_whole(np.array([1.0, 0.5]))
    assert not is_whole(np.array([1.0, np.nan]))
    assert is_whole(np.array([0.0, 1.0]), boolean=True)
    assert not is_whole(np.array([0.0, 2.0]), boolean=True)


def test_require_columns_names_what_is_missing_and_what_is_there():
    df = pd.DataFrame({"a": [1], "b": [2]})
    require_columns(df, ["a", "b"], "training rows")
    with pytest.raises(DataValidationError, match=r"The synthetic rows lack column\(s\) "
                                                  r"\['c'\]; they have \['a', 'b'\]"):
        require_columns(df, ["a", "c"], "synthetic rows")


def test_labels_match_by_value_first_then_by_text():
    assert find_label(1, (0.0, 1.0)) == 1.0  # 1 == 1.0
    assert find_label("1", (0, 1)) == 1  # text of a number given on the command line
    assert find_label("1", ("1", 1)) == "1"  # equal by value wins over equal by text
    assert find_label("x", (0, 1)) is None
    labels = pd.Series([0, 1, 1, 0])
    np.testing.assert_array_equal(label_mask(labels, 1), [False, True, True, False])
    np.testing.assert_array_equal(label_mask(labels, "1"), [False, True, True, False])
    np.testing.assert_array_equal(label_mask(labels, 7), [False] * 4)
    frame = pd.DataFrame({"y": ["a", "b", "a"], "x": [1, 2, 3]})
    assert rows_of(frame, "y", "a")["x"].tolist() == [1, 3]


def test_metric_key_replaces_what_mlflow_refuses():
    assert metric_key("fidelity.column.BMI (kg/m2)") == "fidelity.column.BMI _kg/m2_"
    assert metric_key("a-b_c.d/e f") == "a-b_c.d/e f"


def test_per_class_runs_a_metric_on_each_class_and_class_mean_averages_finite_values():
    schema = Schema((ColumnSpec("x", "continuous"),), "y", ("a", "b", "c"), ("a", "b"))
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "a", "b", "c"]})
    synth = pd.DataFrame({"x": [10.0, 20.0], "y": ["a", "b"]})
    results = per_class(lambda r, s: {"n": len(r) + len(s), "x": s["x"].sum()},
                        schema, real, synth)
    assert results == {"a": {"n": 3, "x": 10.0}, "b": {"n": 2, "x": 20.0}}
    assert class_mean(results, ["n"], prefix="m.", totals=["x"]) == {"m.n": 2.5, "m.x": 30.0}
    assert mean_finite([1.0, float("nan"), 3.0]) == 2.0
    assert np.isnan(mean_finite([float("nan")])) and np.isnan(mean_finite([]))
