"""The diffusion family on real encodings: modes, rare levels, classes, strides, state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import ConfigError
from synthbalance.core.models import GeneratorConfig, make_generator
from synthbalance.core.models.diffusion import cosine_alpha_bars
from synthbalance.core.schema import infer_schema
from synthbalance.core.transformer import TabularTransformer

SMALL = {"hidden_dims": [128, 128], "batch_size": 256, "device": "cpu", "num_threads": 1,
         "diffusion_steps": 200, "sampling_steps": 50}


def _table(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Two classes; ``x`` has two well-separated modes whose shares differ by class, and
    ``kind`` a level (``rare``) held by 2 % of the rows."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    high = rng.random(n) < np.where(y == 1, 0.8, 0.2)
    return pd.DataFrame({
        "x": np.where(high, 50.0, 10.0) + rng.normal(0, 1.0, n),
        "kind": rng.choice(["a", "b", "rare"], n, p=[0.68, 0.30, 0.02]),
        "y": y,
    })


@pytest.fixture(scope="module")
def fitted():
    table = _table()
    schema = infer_schema(table, "y")
    transformer = TabularTransformer(seed=0).fit(table, schema)
    gen = make_generator("ddpm", transformer.layout, 2, {**SMALL, "epochs": 60}, seed=0)
    gen.fit(transformer.transform(table), table["y"].to_numpy(), progress=False)
    return table, transformer, gen


def _decoded(fitted, y: int, n: int = 4000) -> pd.DataFrame:
    _, transformer, gen = fitted
    return transformer.decode(gen.sample_coded(n, y=y, seed=1))


def test_learns_both_modes_of_a_mixture_and_their_share_per_class(fitted):
    table = fitted[0]
    for cls in (0, 1):
        rows = _decoded(fitted, cls)
        real = table[table["y"] == cls]
        near = [(rows["x"] - centre).abs().lt(5).mean() for centre in (10.0, 50.0)]
        assert sum(near) > 0.95, near  # almost nothing between or beyond the modes
        assert near[1] == pytest.approx((real["x"] > 30).mean(), abs=0.08), (cls, near)


def test_keeps_a_rare_categorical_level(fitted):
    rows = pd.concat([_decoded(fitted, 0), _decoded(fitted, 1)])
    share = (rows["kind"] == "rare").mean()
    assert 0.01 <= share <= 0.04, share  # 2 % in the real rows: kept, not collapsed
    assert (rows["kind"] == "a").mean() == pytest.approx(0.68, abs=0.06)


def test_per_class_learns_one_class_and_takes_no_labels():
    table = _table(2000)
    schema = infer_schema(table, "y")
    transformer = TabularTransformer(seed=0).fit(table, schema)
    minority = table[table["y"] == 1]
    gen = make_generator("ddpm", transformer.layout, None, {**SMALL, "epochs": 30}, seed=0)
    gen.fit(transformer.transform(minority), progress=False)
    rows = transformer.decode(gen.sample_coded(2000, seed=0))
    assert (rows["x"] > 30).mean() == pytest.approx((minority["x"] > 30).mean(), abs=0.08)
    with pytest.raises(ConfigError, match="unconditional"):
        gen.sample(10, y=1)


def test_fewer_sampling_steps_sample_the_same_distribution(fitted):
    _, transformer, gen = fitted
    shares = []
    for steps in (200, 20):
        gen.config = gen.config.model_copy(update={"sampling_steps": steps})
        rows = transformer.decode(gen.sample_coded(3000, y=1, seed=2))
        shares.append((rows["x"] > 30).mean())
    gen.config = gen.config.model_copy(update={"sampling_steps": SMALL["sampling_steps"]})
    assert shares[0] == pytest.approx(shares[1], abs=0.06)


def test_the_schedule_and_its_settings():
    alpha_bars = cosine_alpha_bars(1000)
    assert alpha_bars[0] > 0.999 and alpha_bars[-1] < 1e-3
    assert bool((alpha_bars[1:] < alpha_bars[:-1]).all())
    with pytest.raises(ConfigError, match="sampling_steps=200 exceeds diffusion_steps=100"):
        GeneratorConfig.from_dict({"diffusion_steps": 100, "sampling_steps": 200})
