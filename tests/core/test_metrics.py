"""Known answers for the metrics and the SMOTE baseline (core layer, no Kedro)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics import (
    correlation_difference,
    detection,
    fidelity,
    privacy,
)
from synthbalance.core.metrics._features import (
    fit_distance_scaler,
    numeric_matrix,
    scaled_matrix,
)
from synthbalance.core.schema import Schema, infer_schema
from synthbalance.core.smote import smote_rows

FAST_XGB = {"n_estimators": 40, "max_depth": 4}
# one thread: on a small table, OpenMP threads waiting on a core that other processes hold
# cost far more than they give (seen: 0.5 s fits taking 9 s on a shared 2-core machine)
N_JOBS = 1


def _rows(rng: np.random.Generator, n: int, label: int = 1, shift: float = 0.0) -> pd.DataFrame:
    """Mixed-kind rows: continuous, skewed, integer, categorical strings, a count."""
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "skew": rng.gamma(2.0, 2.0, n) + shift,
            "age": rng.integers(18, 90, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
            "visits": rng.poisson(0.5 + abs(shift), n),
            "y": label,
        }
    )


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture(scope="module")
def schema() -> Schema:
    sample = pd.concat(
        [_rows(np.random.default_rng(0), 400, 1), _rows(np.random.default_rng(1), 800, 0)]
    )
    sample.loc[sample.index[::13], "x"] = np.nan
    return infer_schema(sample, "y")


# --- fidelity -------------------------------------------------------------------------------


def test_identical_samples_have_zero_fidelity_distance(rng, schema):
    real = _rows(rng, 500)
    real.loc[::7, "x"] = np.nan
    result = fidelity(real, real.copy(), schema)
    assert result["wasserstein_mean"] == 0.0
    assert result["correlation_distance"] == 0.0
    assert set(result["columns"]) == set(schema.names)


def test_shift_by_c_std_reads_c(rng, schema):
    real = _rows(rng, 2000)
    for c in (0.5, 2.0):
        shifted = real.assign(x=real["x"] + c * real["x"].std())
        assert fidelity(real, shifted, schema)["columns"]["x"] == pytest.approx(c, rel=1e-9)


def test_categorical_total_variation():
    real = pd.DataFrame({"g": ["a"] * 50 + ["b"] * 50, "y": 1})
    synth = pd.DataFrame({"g": ["a"] * 80 + ["b"] * 20, "y": 1})
    schema = infer_schema(pd.concat([real, real.assign(y=0)]), "y")
    assert fidelity(real, synth, schema)["columns"]["g"] == pytest.approx(0.3)


def test_missing_is_a_level_and_unknown_levels_count(schema, rng):
    real = _rows(rng, 100).assign(colour="red")
    synth = real.assign(colour=["red"] * 50 + [None] * 25 + ["purple"] * 25)
    assert fidelity(real, synth, schema)["columns"]["colour"] == pytest.approx(0.5)


def test_correlation_difference_is_a_symmetric_matrix(rng, schema):
    real = _rows(rng, 800)
    synth = real.assign(skew=real["x"] * 3 + rng.normal(0, 0.1, 800))
    diff = correlation_difference(real, synth, schema)
    assert list(diff.columns) == schema.names
    assert np.allclose(diff.to_numpy(), diff.to_numpy().T)
    assert diff.loc["x", "skew"] > 0.9
    assert fidelity(real, synth, schema)["correlation_distance"] > 0.05


def test_fidelity_does_not_mutate_inputs(rng, schema):
    real, synth = _rows(rng, 200), _rows(rng, 200, shift=1.0)
    before = real.copy(), synth.copy()
    fidelity(real, synth, schema)
    pd.testing.assert_frame_equal(real, before[0])
    pd.testing.assert_frame_equal(synth, before[1])


# --- detection ------------------------------------------------------------------------------


def test_detection_same_distribution_is_chance(schema):
    real = _rows(np.random.default_rng(10), 1500)
    synth = _rows(np.random.default_rng(11), 1500)
    result = detection(real, synth, schema, seed=0, n_jobs=N_JOBS)
    assert 0.4 <= result["accuracy"] <= 0.6
    assert 0.4 <= result["auc"] <= 0.6


@pytest.mark.parametrize("n", [100, 1500])
def test_detection_accuracy_comes_with_its_interval_over_the_scored_rows(schema, n):
    """Wilson's interval: narrower with more rows, around chance for one distribution,
    clear of it for two; far from a fixed width."""
    same = detection(_rows(np.random.default_rng(10), n), _rows(np.random.default_rng(11), n),
                     schema, seed=0, n_jobs=N_JOBS)
    assert same["scored_rows"] == n  # half of 2n
    assert same["accuracy_low"] < same["accuracy"] < same["accuracy_high"]
    assert same["accuracy_low"] < 0.5 < same["accuracy_high"]
    half_width = (same["accuracy_high"] - same["accuracy_low"]) / 2
    assert half_width == pytest.approx(1.96 * np.sqrt(0.25 / n), rel=0.1)
    apart = detection(_rows(np.random.default_rng(10), n),
                      _rows(np.random.default_rng(11), n, shift=1.0), schema, seed=0,
                      n_jobs=N_JOBS)
    assert apart["accuracy_low"] > 0.5


def test_detection_identical_copies_is_chance(rng, schema):
    real = _rows(rng, 1000)
    result = detection(real, real.copy(), schema, seed=1, n_jobs=N_JOBS)
    assert result["accuracy"] == pytest.approx(0.5, abs=0.05)
    assert result["auc"] == pytest.approx(0.5, abs=0.05)


def test_detection_different_data_is_near_one(rng, schema):
    result = detection(_rows(rng, 1000), _rows(rng, 1000, shift=3.0), schema, seed=0, n_jobs=N_JOBS)
    assert result["accuracy"] > 0.95
    assert result["auc"] > 0.95


def test_detection_is_seeded_and_caps_rows(rng, schema):
    real, synth = _rows(rng, 3000), _rows(rng, 500, shift=0.5)
    first = detection(real, synth, schema, seed=3, max_rows=400, n_jobs=N_JOBS)
    assert first == detection(real, synth, schema, seed=3, max_rows=400, n_jobs=N_JOBS)


def test_detection_rejects_too_few_rows(rng, schema):
    with pytest.raises(DataValidationError):
        detection(_rows(rng, 1), _rows(rng, 50), schema, seed=0)


# --- privacy --------------------------------------------------------------------------------


def test_copies_of_training_rows_are_caught(rng, schema):
    train, holdout = _rows(rng, 400), _rows(rng, 400)
    train.loc[::10, "x"] = np.nan  # a copied NaN still equals its source
    synth = pd.concat([train.iloc[:150], _rows(rng, 50)], ignore_index=True)
    result = privacy(train, holdout, synth, None, schema, seed=0)
    assert result["exact_copies"] == 150
    assert result["exact_copy_share"] == pytest.approx(0.75)
    assert result["dcr_synthetic_median"] == 0.0
    assert result["dcr_ratio"] == 0.0
    full_copy = privacy(train, holdout, train.sample(frac=1.0, random_state=0), None, schema,
                        seed=0)
    assert full_copy["mia_auc"] > 0.8


def test_fresh_data_leaks_nothing(schema):
    train, holdout, synth = (_rows(np.random.default_rng(s), 600) for s in (20, 21, 22))
    result = privacy(train, holdout, synth, None, schema, seed=0)
    assert result["exact_copies"] == 0
    assert result["mia_auc"] == pytest.approx(0.5, abs=0.07)
    assert result["dcr_ratio"] == pytest.approx(1.0, abs=0.25)


def test_scaled_matrix_uses_the_real_scale(rng, schema):
    real = _rows(rng, 500)
    scaler = fit_distance_scaler(real, schema)
    scaled = scaled_matrix(real.assign(x=real["x"] * 100), scaler)
    assert np.nanstd(scaled_matrix(real, scaler)[:, 0], ddof=1) == pytest.approx(1.0)
    assert np.nanstd(scaled[:, 0], ddof=1) == pytest.approx(100.0, rel=1e-6)
    assert not np.isnan(scaled).any()
    assert np.isnan(numeric_matrix(real.assign(x=np.nan), schema)[:, 0]).all()


# --- SMOTE ----------------------------------------------------------------------------------


def _imbalanced(rng: np.random.Generator, with_strings: bool = True) -> pd.DataFrame:
    frame = pd.concat([_rows(rng, 300, 0), _rows(rng, 30, 1, shift=1.0)], ignore_index=True)
    frame.loc[::9, "x"] = np.nan
    frame.loc[::11, "colour"] = None
    return frame if with_strings else frame.drop(columns="colour")


@pytest.mark.parametrize("with_strings", [True, False])
def test_smote_rows_come_back_in_the_schema(rng, with_strings):
    train = _imbalanced(rng, with_strings)
    schema = infer_schema(train, "y")
    out = smote_rows(train, schema, k=37, seed=0, minority_class=1)
    assert len(out) == 37
    assert list(out.columns) == list(train.columns)
    assert (out["y"] == 1).all()
    assert not out.isna().any().any()
    assert (out.dtypes == train.dtypes).all()
    for spec in schema.columns:
        if spec.kind in ("integer", "count", "ordinal"):
            assert np.all(out[spec.name] % 1 == 0)
    if with_strings:
        assert set(out["colour"]) <= {"red", "green", "blue"}
    pd.testing.assert_frame_equal(out, smote_rows(train, schema, k=37, seed=0, minority_class=1))


def test_smote_multiclass_and_few_rows(rng):
    train = pd.concat([_imbalanced(rng), _rows(rng, 3, 2)], ignore_index=True)
    schema = infer_schema(train, "y")
    assert schema.minority_classes == (2,)
    out = smote_rows(train, schema, k=10, seed=1)  # 3 rows: k_neighbors shrinks to 2
    assert len(out) == 10 and (out["y"] == 2).all()
    with pytest.raises(DataValidationError, match="at least 2"):
        smote_rows(train.iloc[:-2], schema, k=5, seed=0)
