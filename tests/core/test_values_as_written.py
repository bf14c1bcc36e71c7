"""Values come back as they were written: zero-padded codes, booleans with blanks, numbers
with decimal commas or thousands separators, and metric names of awkward column names."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics import fidelity_by_class
from synthbalance.core.models import make_generator
from synthbalance.core.naming import metric_names
from synthbalance.core.postprocess import fit_postprocess, fix_totals, postprocess
from synthbalance.core.schema import Schema
from synthbalance.core.transformer import TabularTransformer
from synthbalance.datasets import MetricsDataset, SourceTableDataset
from synthbalance.params import IngestParams
from synthbalance.pipelines.ingest.nodes import validate_raw_table

FAST = {"epochs": 2, "batch_size": 64, "device": "cpu", "num_threads": 1,
        "hidden_dims": [32, 32]}
CODES = ["06720", "00501", "02134", "07030", "10001", "94105", "60601", "00901"]


def _labels(n: int) -> np.ndarray:
    return np.r_[np.ones(n // 3, int), np.zeros(n - n // 3, int)]


def _ingest(path: Path, **ingest) -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    """The raw table as ``kedro run`` reads it, then the validated table and its schema."""
    params = IngestParams.from_dict({"source": str(path), "target": "y", **ingest})
    raw = SourceTableDataset(str(path), params.read_options.pandas_options()).load()
    return raw, *validate_raw_table(raw, {"source": str(path), "target": "y", **ingest})


def _synthetic(table: pd.DataFrame, schema: Schema, n: int = 400) -> pd.DataFrame:
    """Clean synthetic rows of class 1 from a conditional VAE trained for two epochs."""
    transformer = TabularTransformer(seed=0).fit(table, schema)
    gen = make_generator("cvae", transformer.layout, 2, FAST, seed=0)
    gen.fit(transformer.transform(table), table["y"].to_numpy(), progress=False)
    raw = transformer.decode(gen.sample_coded(n, y=1, seed=0))
    return postprocess(raw, fit_postprocess(table, schema), schema, seed=0)[0]


def test_zero_padded_codes_stay_text_as_written_into_synthetic_rows(tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    zips = rng.choice(CODES, n)
    path = tmp_path / "claims.csv"
    pd.DataFrame({"zip": zips, "amount": rng.gamma(2.0, 50.0, n).round(2),
                  "y": _labels(n)}).to_csv(path, index=False)
    assert "06720" in path.read_text()  # written as text, with its zero

    raw, table, schema = _ingest(path)
    assert raw["zip"].tolist() == zips.tolist()  # read as written, not as 6720
    assert table["zip"].tolist() == zips.tolist()
    assert schema["zip"].kind == "categorical"
    assert set(schema["zip"].levels) == set(CODES)

    rows = _synthetic(table, schema)
    assert rows["zip"].map(type).eq(str).all()
    assert set(rows["zip"]) <= set(CODES)  # every synthetic code is a real code
    assert rows["zip"].nunique() > 1


def test_read_options_dtype_keeps_a_column_as_text(tmp_path):
    path = tmp_path / "t.csv"
    codes = ["12345", "23456", "34567"] * 30  # no leading zero: only the option keeps them
    pd.DataFrame({"zip": codes, "x": np.arange(90), "y": _labels(90)}).to_csv(
        path, index=False)
    options = yaml.safe_load("read_options: {dtype: {zip: str}}")

    raw, table, schema = _ingest(path, **options)
    assert raw["zip"].tolist() == codes and table["zip"].tolist() == codes
    assert schema["zip"].kind == "categorical" and schema["zip"].levels == tuple(sorted(
        set(codes)))
    assert _ingest(path)[1]["zip"].tolist()[:3] == [12345, 23456, 34567]  # without it

    with pytest.raises(ConfigError, match=r"ingest.read_options.dtype.*'text' is not a "
                                          r"pandas dtype.*zip: str"):
        IngestParams.from_dict({"read_options": {"dtype": {"zip": "text"}}})


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_booleans_with_blanks_come_back_as_booleans_of_their_dtype(tmp_path, fmt):
    rng = np.random.default_rng(1)
    n = 240
    flags = pd.array(rng.choice([True, False, None], n, p=[0.45, 0.35, 0.2]), dtype="boolean")
    frame = pd.DataFrame({"smoker": flags, "x": rng.normal(size=n), "y": _labels(n)})
    path = tmp_path / f"t.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)  # True, False and blanks
    else:
        frame.to_parquet(path)

    raw, table, schema = _ingest(path)
    dtype = "object" if fmt == "csv" else "boolean"
    assert str(raw["smoker"].dtype) == dtype and str(table["smoker"].dtype) == dtype
    assert schema["smoker"].kind == "binary" and schema["smoker"].levels == (False, True)
    assert schema["smoker"].nullable

    rows = _synthetic(table, schema)
    assert str(rows["smoker"].dtype) == dtype
    present = rows["smoker"].dropna()
    assert present.map(type).eq(bool).all() and set(present) == {True, False}
    assert rows["smoker"].isna().any()  # the blanks are learnt, not lost


def test_decimal_commas_and_thousands_separators_read_as_numbers(tmp_path):
    path = tmp_path / "t.csv"
    n = 60
    path.write_text("price;population;name;count;share;y\n" + "".join(
        f"{p};{q};{s};{c};{r};{y}\n" for p, q, s, c, r, y in zip(
            ["1.234,56", "3,5", "12"] * (n // 3), ["1,234,567", "12", "2,000"] * (n // 3),
            ["Smith, John", "Doe, Jane", "Roe, Rick"] * (n // 3), ["0", "10", "3"] * (n // 3),
            ["0.5", "0.25", "1"] * (n // 3), _labels(n), strict=True)))

    raw, table, schema = _ingest(path, read_options={"sep": ";"})
    assert table["price"].tolist()[:3] == [1234.56, 3.5, 12.0]
    assert table["population"].tolist()[:3] == [1234567, 12, 2000]
    # ordinary columns are left as pandas reads them
    assert table["name"].tolist()[:3] == ["Smith, John", "Doe, Jane", "Roe, Rick"]
    assert table["count"].dtype == np.int64 and table["count"].tolist()[:3] == [0, 10, 3]
    assert table["share"].tolist()[:3] == [0.5, 0.25, 1.0]
    assert raw["price"].tolist()[:3] == ["1.234,56", "3,5", "12"]  # the raw table as read


def test_an_ambiguous_comma_names_the_read_option_that_settles_it(tmp_path):
    path = tmp_path / "t.csv"
    n = 60
    path.write_text("amount;y\n" + "".join(
        f"{a};{y}\n" for a, y in zip(["1,234", "2,500", "12,000"] * (n // 3), _labels(n),
                                     strict=True)))
    with pytest.raises(DataValidationError, match=r"'amount'.*'1,234'.*1234 .*1\.234 .*"
                                                  r"ingest.read_options.thousands"):
        _ingest(path, read_options={"sep": ";"})

    for option, first in (('{sep: ";", thousands: ","}', 1234), ('{sep: ";", decimal: ","}',
                                                                1.234)):
        ingest = yaml.safe_load(f"read_options: {option}")
        assert _ingest(path, **ingest)[1]["amount"].iloc[0] == first


def test_colliding_column_names_give_distinct_metrics_in_mlflow(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    names = ["a(b", "a_b", "BMI (kg)", "BMI _kg_", "BMI/kg", "BMI kg"]
    real = pd.DataFrame({name: rng.normal(size=200) for name in names} | {"y": 1})
    synth = real.copy()
    for shift, name in enumerate(names):
        synth[name] = real[name] + shift  # a distance of its own for every column
    schema = Schema.from_dict({"target": "y", "classes": [1], "minority_classes": [1],
                               "columns": {name: {"kind": "continuous"} for name in names}})

    metrics, table = fidelity_by_class(real, synth, schema)
    keys = metric_names(names)
    assert keys["a_b"] == "a_b" and keys["a(b"].startswith("a_b-")
    assert keys["BMI/kg"] == "BMI/kg" and len(set(keys.values())) == len(names)
    distances = dict(zip(table["column"], table["distance"], strict=True))

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with mlflow.start_run() as run:
        MetricsDataset().save(metrics)
    logged = MlflowClient().get_run(run.info.run_id).data.metrics
    for name in names:
        assert logged[f"fidelity.column.{keys[name]}"] == pytest.approx(distances[name])
    assert len({round(distances[n], 6) for n in names}) == len(names)

    shifted = synth.assign(**{name: synth[name] - 10 * (j % 2) for j, name in enumerate(names)})
    _, fixes = postprocess(shifted, fit_postprocess(real, schema), schema)
    totals = fix_totals(fixes)  # the same column names as in fidelity.column.*
    for j, name in enumerate(names):
        assert (totals[f"postprocess.negative_share.{keys[name]}"] > 0) == bool(j % 2)


def test_metric_names_are_safe_stable_and_only_suffixed_on_collision():
    keys = metric_names(["x/", "a//b", "plain", "a:b", "a;b"])
    assert keys == {"x/": "x_", "a//b": "a__b", "plain": "plain", "a:b": keys["a:b"],
                    "a;b": keys["a;b"]}
    assert keys["a:b"] != keys["a;b"] and {k[:4] for k in (keys["a:b"], keys["a;b"])} == {
        "a_b-"}
    assert metric_names(["a;b", "a:b"]) == {"a;b": keys["a;b"], "a:b": keys["a:b"]}
    assert metric_names(["a;b"]) == {"a;b": "a_b"}  # no collision, no suffix
