"""Columns as real tables have them, through a generator and back: money columns that are
mostly zero with a long tail, and categoricals with many levels, some of them rare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.models import make_generator
from synthbalance.core.schema import infer_schema
from synthbalance.core.transformer import TabularTransformer

FAST = {"epochs": 60, "device": "cpu", "num_threads": 1, "hidden_dims": [128, 128]}


def _generated(table: pd.DataFrame, model: str, n: int = 6000) -> pd.DataFrame:
    """Rows of class 1 from ``model`` trained on ``table`` (conditional on ``y``)."""
    schema = infer_schema(table, "y")
    transformer = TabularTransformer(seed=0).fit(table, schema)
    gen = make_generator(model, transformer.layout, 2, FAST, seed=0)
    gen.fit(transformer.transform(table), table["y"].to_numpy(), progress=False)
    return transformer.decode(gen.sample_coded(n, y=1, seed=0))


def test_a_zero_inflated_long_tail_keeps_its_zero_share_and_its_99th_percentile():
    rng = np.random.default_rng(0)
    n = 6000
    table = pd.DataFrame({
        "gain": np.where(rng.random(n) < 0.7, 0.0, np.round(np.exp(rng.normal(8, 1.2, n)))),
        "age": rng.integers(17, 90, n),
        "y": (rng.random(n) < 0.3).astype(int),
    })
    rows, real = _generated(table, "cvae"), table[table["y"] == 1]
    assert (rows["gain"] == 0).mean() == pytest.approx((real["gain"] == 0).mean(), abs=0.02)
    assert rows["gain"].quantile(0.99) == pytest.approx(real["gain"].quantile(0.99), rel=0.10)


@pytest.mark.parametrize("model", ["cvae", "ddpm"])
def test_rare_levels_of_a_wide_categorical_do_not_collapse_into_the_mode(model):
    """30 levels: 5 common ones share 85 % of the rows, 25 rare ones 0.6 % each."""
    rng = np.random.default_rng(1)
    n = 8000
    levels = [f"L{i:02d}" for i in range(30)]
    shares = np.r_[np.full(5, 0.17), np.full(25, 0.006)]
    table = pd.DataFrame({"code": rng.choice(levels, n, p=shares / shares.sum()),
                          "x": rng.normal(size=n), "y": (rng.random(n) < 0.5).astype(int)})
    rows = _generated(table, model)
    rare = rows["code"].isin(levels[5:])
    assert rare.mean() == pytest.approx(0.15, abs=0.05)  # real: 25 x 0.6 % = 15 %
    assert rows.loc[rare, "code"].nunique() >= 20  # most rare levels appear at all


def test_a_rare_class_out_in_the_tail_is_generated_where_it_lies():
    """0.4 % of the rows around 12: too few for a mode of the whole column (around 0)."""
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 10_000), rng.normal(12, 2, 40)],
                          "z": rng.normal(size=10_040),
                          "y": np.r_[np.zeros(10_000, int), np.ones(40, int)]})
    rows = _generated(table, "cvae", n=2000)
    assert rows["x"].median() == pytest.approx(12, abs=1.0)
    assert rows["x"].quantile(0.9) == pytest.approx(12 + 1.28 * 2, abs=1.5)
