"""Importance resampling (core.reweight): the kept rows move towards the real ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.reweight import (
    MIN_REAL_ROWS,
    importance_resample,
    importance_weights,
    resolve_oversample,
)
from synthbalance.core.sampling import AUTO_OVERSAMPLE
from synthbalance.core.schema import ColumnSpec, Schema

SCHEMA = Schema(
    columns=(ColumnSpec("amount", "continuous"), ColumnSpec("channel", "categorical",
                                                            levels=("web", "shop", "phone"))),
    target="label", classes=(0, 1), minority_classes=(1,))


def _rows(n: int, high_share: float, phone_share: float, seed: int) -> pd.DataFrame:
    """Two modes of ``amount`` (around 0 and 10), ``high_share`` in the upper one."""
    rng = np.random.default_rng(seed)
    high = rng.random(n) < high_share
    channel = np.where(rng.random(n) < phone_share, "phone",
                       rng.choice(["web", "shop"], n))
    return pd.DataFrame({"amount": np.where(high, 10.0, 0.0) + rng.normal(0, 1, n),
                         "channel": channel, "label": 1})


def test_the_kept_rows_move_to_the_real_mode_shares_and_levels(caplog):
    real = _rows(400, high_share=0.5, phone_share=0.3, seed=0)
    # a generator that over-fills the lower mode and under-fills a level
    draws = _rows(5 * 400, high_share=0.1, phone_share=0.05, seed=1)
    with caplog.at_level("INFO", logger="synthbalance.core.reweight"):
        kept = importance_resample(real, draws, SCHEMA, 400, seed=0)
    assert "Importance resampling of class 1 kept 400 of 2000 generated rows" in caplog.text
    assert len(kept) == 400
    high = (kept["amount"] > 5).mean()
    phone = (kept["channel"] == "phone").mean()
    # unweighted draws keep 0.10 and 0.05; the real shares are 0.50 and 0.30
    assert 0.3 < high < 0.6 and 0.15 < phone < 0.4


def test_draws_like_the_real_rows_get_even_weights():
    real = _rows(400, high_share=0.5, phone_share=0.3, seed=0)
    draws = _rows(2000, high_share=0.5, phone_share=0.3, seed=1)
    weights = importance_weights(real, draws, SCHEMA, seed=0)
    assert weights.shape == (2000,)
    assert np.median(weights) == pytest.approx(1.0, abs=0.35)
    # no draw dominates: the top 5 % of the weights hold well under half of their sum
    top = np.sort(weights)[-100:].sum() / weights.sum()
    assert top < 0.3


def test_the_effective_sample_size_falls_as_the_draws_leave_the_real_rows():
    from synthbalance.core.reweight import Resampling, _resample

    real = _rows(400, high_share=0.5, phone_share=0.3, seed=0)
    shares = []
    for high, phone in ((0.5, 0.3), (0.1, 0.05)):
        kept, ess = _resample(real, _rows(2000, high, phone, seed=1), SCHEMA, 400, seed=0)
        shares.append(Resampling(len(kept), 5, ess).metrics()["sampling.ess_share"])
    assert 0.6 < shares[0] <= 1 and shares[1] < 0.6 * shares[0]
    unweighted = _resample(real.iloc[:10], _rows(2000, 0.1, 0.05, seed=1), SCHEMA, 400, 0)
    assert unweighted[1] is None
    assert np.isnan(Resampling(400, 5, None).metrics()["sampling.ess_share"])


def test_one_seed_gives_the_same_rows():
    real = _rows(200, 0.5, 0.3, seed=0)
    draws = _rows(1000, 0.2, 0.1, seed=1)
    first = importance_resample(real, draws, SCHEMA, 200, seed=7)
    pd.testing.assert_frame_equal(first, importance_resample(real, draws, SCHEMA, 200, seed=7))
    assert not first.equals(importance_resample(real, draws, SCHEMA, 200, seed=8))


def test_from_the_least_real_rows_it_weighs_the_classifier_can_tell_draws_apart():
    """Below MIN_REAL_ROWS the leaves (MIN_LEAF) leave the classifier next to nothing to
    split: at 20 real rows the weights' effective sample size reads 100 %, as if the draws
    were like the real rows; at MIN_REAL_ROWS it sees draws that are not."""
    def ess_share(weights: np.ndarray) -> float:
        return float(weights.sum() ** 2 / (weights ** 2).sum() / len(weights))

    for seed in range(3):
        draws = _rows(5 * MIN_REAL_ROWS, 0.1, 0.1, seed=seed + 10)  # far from the real mix
        enough = importance_weights(_rows(MIN_REAL_ROWS, 0.5, 0.3, seed=seed), draws,
                                    SCHEMA, seed)
        too_few = importance_weights(_rows(20, 0.5, 0.3, seed=seed), draws, SCHEMA, seed)
        assert ess_share(enough) < 0.9 and ess_share(too_few) > 0.999, seed


def test_too_few_real_rows_keep_the_first_draws_unweighted(caplog):
    real = _rows(MIN_REAL_ROWS - 1, 0.5, 0.3, seed=0)
    draws = _rows(100, 0.1, 0.1, seed=1)
    with caplog.at_level("INFO", logger="synthbalance.core.reweight"):
        kept = importance_resample(real, draws, SCHEMA, 20, seed=0)
    pd.testing.assert_frame_equal(kept, draws.iloc[:20].reset_index(drop=True))
    assert f"fewer than the {MIN_REAL_ROWS} a classifier needs" in caplog.text
    with pytest.raises(ValueError, match="cannot keep 101 of 100"):
        importance_resample(real, draws, SCHEMA, 101, seed=0)


def test_real_rows_of_another_class_are_refused():
    real = pd.concat([_rows(100, 0.5, 0.3, seed=0), _rows(100, 0.5, 0.3, seed=2).assign(label=0)])
    with pytest.raises(DataValidationError, match=r"hold class\(es\) \['0'\] of 'label'"):
        importance_resample(real, _rows(500, 0.5, 0.3, seed=1), SCHEMA, 100, seed=0)
    few = real.iloc[95:105]  # too few to reweigh against, still refused
    with pytest.raises(DataValidationError, match="pass the real rows of the generated class"):
        importance_resample(few, _rows(500, 0.5, 0.3, seed=1), SCHEMA, 100, seed=0)


def test_oversample_is_off_for_a_private_generator():
    assert resolve_oversample("auto", private=False) == AUTO_OVERSAMPLE > 1
    assert resolve_oversample("auto", private=True) == 1
    assert resolve_oversample(3, private=False) == 3
    assert resolve_oversample(1, private=True) == 1
    with pytest.raises(ConfigError, match="sampling.oversample=3 .* without DP"):
        resolve_oversample(3, private=True)
