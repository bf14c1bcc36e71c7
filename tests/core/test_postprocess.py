"""Postprocessing: every value legal afterwards, every fix counted exactly, inputs untouched."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET, make_demo_table
from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.postprocess import (
    FIX_RULES,
    RULES,
    PostprocessStats,
    fit_postprocess,
    fix_totals,
    postprocess,
)
from synthbalance.core.schema import NUMERIC_KINDS, Schema
from synthbalance.core.validation import validate_table

from ..conftest import BRFSS

DAY_HINTS = {name: {"kind": "count", "bounds": [0, 30]} for name in DEMO_DAY_COUNTS}


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, Schema, PostprocessStats]:
    train, schema = validate_table(make_demo_table(4000, seed=3), DEMO_TARGET, DAY_HINTS)
    return train, schema, fit_postprocess(train, schema)


def counts_of(fixes: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(c, r): int(n) for c, r, n in zip(fixes["column"], fixes["rule"], fixes["count"],
                                              strict=True)}


def assert_legal(clean: pd.DataFrame, stats: PostprocessStats, schema: Schema) -> None:
    """No value outside its bounds, every level value a training level, no stray NaN."""
    for spec in schema.columns:
        col, values = stats[spec.name], clean[spec.name]
        present = values.dropna()
        if col.missing_rate == 0:
            assert values.notna().all(), spec.name
        if spec.kind in NUMERIC_KINDS:
            assert present.between(col.low, col.high).all(), spec.name
        if spec.kind in ("integer", "count"):
            assert (present == np.rint(present.astype(float))).all(), spec.name
        if col.levels is not None:
            assert present.isin(col.levels).all(), spec.name


def inject(frame: pd.DataFrame, column: str, rows: np.ndarray, value: object) -> pd.DataFrame:
    """A copy of ``frame`` with ``value`` at ``rows`` of ``column`` (made float/object first)."""
    series = frame[column]
    if isinstance(value, float) and not pd.api.types.is_float_dtype(series):
        series = series.astype(float)
    elif isinstance(value, str):
        series = series.astype(object)
    series = series.copy()
    series.iloc[rows] = value
    return frame.assign(**{column: series})


def test_stats_hold_declared_bounds_training_range_levels_and_survive_json(fitted):
    train, schema, stats = fitted
    assert (stats["bad_mental_days"].low, stats["bad_mental_days"].high) == (0.0, 30.0)
    glucose = train["glucose"]
    assert (stats["glucose"].low, stats["glucose"].high) == (glucose.min(), glucose.max())
    assert (stats["age_band"].low, stats["age_band"].high) == (1.0, 13.0)
    assert stats["region"].levels == ("central", "east", "north", "south", "west")
    assert stats["region"].missing_rate == pytest.approx(train["region"].isna().mean())
    assert stats["smoker"].missing_rate == 0.0
    restored = PostprocessStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert restored == stats


def test_clean_rows_come_back_unchanged_with_zero_fixes(fitted):
    train, schema, stats = fitted
    clean, fixes = postprocess(train, stats, schema)
    pd.testing.assert_frame_equal(clean, train)  # dtypes and values, target included
    assert (fixes["count"] == 0).all()
    # no date columns, no order rule; no two columns missing in the same rows
    assert set(fixes["rule"]) == set(RULES) - {"order", "missing_together"}
    assert fix_totals(fixes)["postprocess.values_fixed"] == 0.0


def test_every_injected_defect_is_fixed_and_counted_exactly(fitted):
    train, schema, stats = fitted
    levels = set(stats["bad_mental_days"].levels)
    gap = min(set(range(31)) - levels)  # a day count the training rows never had
    blocks = iter(np.split(np.arange(100 * 10), 10))
    messy = train
    for column, value, rows in [
        ("bad_mental_days", -3.0, 37), ("bad_mental_days", 5.3, 8),
        ("bad_mental_days", float(gap), 6), ("bad_physical_days", 30.7, 5),
        ("age_band", 12.4, 11), ("age_band", 20.0, 4), ("age_band", 0.0, 3),
        ("smoker", 0.7, 6), ("region", "purple", 9), ("annual_cost", np.nan, 10),
    ]:
        messy = inject(messy, column, next(blocks)[:rows], value)
    present = np.flatnonzero(train["glucose"].notna())[:2]
    messy = inject(messy, "glucose", present, -5.0)
    before = messy.copy()

    clean, fixes = postprocess(messy, stats, schema)

    pd.testing.assert_frame_equal(messy, before)  # the input is never modified
    assert_legal(clean, stats, schema)
    assert (clean.dtypes == train.dtypes).all()
    expected = {
        ("bad_mental_days", "below_low_before_clip"): 37, ("bad_mental_days", "clip"): 37,
        ("bad_mental_days", "round"): 8, ("bad_mental_days", "snap"): 6,
        ("bad_physical_days", "above_high_before_clip"): 5, ("bad_physical_days", "clip"): 5,
        ("age_band", "snap"): 11, ("age_band", "above_high_before_clip"): 4,
        ("age_band", "below_low_before_clip"): 3, ("age_band", "clip"): 7,
        ("smoker", "snap"): 6, ("region", "snap"): 9, ("annual_cost", "fill_missing"): 10,
        ("glucose", "below_low_before_clip"): 2, ("glucose", "clip"): 2,
    }
    got = {key: n for key, n in counts_of(fixes).items() if n}
    assert got == expected
    most_frequent_region = train["region"].value_counts().idxmax()
    assert (clean["region"].iloc[800:809] == most_frequent_region).all()
    assert (clean["smoker"].iloc[700:706] == 1).all()
    assert (clean["bad_mental_days"].iloc[:37] == 0).all()
    assert (clean["bad_mental_days"].iloc[100:108] == 5).all()
    assert (clean["age_band"].iloc[400:411] == 12).all()
    assert (clean["age_band"].iloc[500:504] == 13).all()
    assert (clean["age_band"].iloc[600:603] == 1).all()

    totals = fix_totals(fixes)
    assert totals["postprocess.values_fixed"] == sum(
        n for (_, rule), n in expected.items() if rule in FIX_RULES)
    assert totals["postprocess.below_low_before_clip"] == 37 + 3 + 2
    assert totals["postprocess.negative_share.bad_mental_days"] == pytest.approx(37 / len(train))
    assert totals["postprocess.negative_share.bad_physical_days"] == 0.0


def test_garbage_everywhere_ends_legal_with_training_dtypes(fitted):
    train, schema, stats = fitted
    rng = np.random.default_rng(11)
    n = 3000
    garbage = {}
    for spec in schema.columns:
        if spec.kind in ("categorical",):
            values = rng.choice(["north", "purple", "none", "", "x"], n).astype(object)
        else:
            values = rng.normal(5, 40, n)  # negatives, fractions, far beyond every bound
        values[rng.random(n) < 0.3] = np.nan  # NaN everywhere, also where training had none
        garbage[spec.name] = values
    messy = pd.DataFrame({**garbage, DEMO_TARGET: np.ones(n, dtype=int)})
    before = messy.copy()

    clean, fixes = postprocess(messy, stats, schema, seed=3)

    pd.testing.assert_frame_equal(messy, before)
    assert_legal(clean, stats, schema)
    assert (clean.dtypes == train.dtypes).all()
    for spec in schema.columns:  # missing shares are brought back to about the training share
        assert clean[spec.name].isna().mean() == pytest.approx(
            stats[spec.name].missing_rate, abs=0.02), spec.name
    assert fix_totals(fixes)["postprocess.values_fixed"] > n


def test_cleaning_in_chunks_and_threads_gives_the_rows_and_counts_of_one_piece(fitted, monkeypatch):
    _, schema, stats = fitted
    rng = np.random.default_rng(5)
    n = 1000
    messy = pd.DataFrame({
        spec.name: rng.choice(["north", "x"], n).astype(object)
        if spec.kind == "categorical" else rng.normal(5, 40, n)
        for spec in schema.columns
    })
    whole = postprocess(messy, stats, schema, seed=1)
    monkeypatch.setattr("synthbalance.core.postprocess.CHUNK_ROWS", 7)  # 143 chunks, a ragged last
    monkeypatch.setattr("synthbalance.core.parallel.MIN_PARALLEL_ROWS", 0)  # columns in threads
    chunked = postprocess(messy, stats, schema, seed=1)
    pd.testing.assert_frame_equal(chunked[0], whole[0])
    pd.testing.assert_frame_equal(chunked[1], whole[1])
    assert whole[1]["count"].sum() > n


def test_chunks_found_legal_at_a_glance_clean_as_the_rules_would(fitted, monkeypatch):
    """Chunks whose values all lie in a column's legal run of whole numbers skip the rules;
    with defects scattered over a few chunks, rows and counts match the rules applied
    everywhere. A value in range but not whole, or whole but a level the training rows never
    had, must not pass for legal."""
    train, schema, stats = fitted
    gap = min(set(range(31)) - set(stats["bad_mental_days"].levels))
    messy = train
    for column, value, row in [
        ("bad_mental_days", float(gap), 20), ("bad_mental_days", -3.0, 61),
        ("age_band", 12.4, 90), ("age_band", 20.0, 300), ("smoker", 0.7, 500),
        ("bad_physical_days", 30.7, 900), ("glucose", -5.0, 1200),
    ]:
        messy = inject(messy, column, np.array([row]), value)
    monkeypatch.setattr("synthbalance.core.postprocess.CHUNK_ROWS", 40)
    fast = postprocess(messy, stats, schema, seed=1)
    monkeypatch.setattr("synthbalance.core.postprocess._legal_range", lambda col: None)
    ruled = postprocess(messy, stats, schema, seed=1)
    pd.testing.assert_frame_equal(fast[0], ruled[0])
    pd.testing.assert_frame_equal(fast[1], ruled[1])
    assert counts_of(fast[1])[("bad_mental_days", "snap")] == 1
    assert counts_of(fast[1])[("age_band", "snap")] == 1


def test_empty_frame_gives_empty_rows_and_zero_counts(fitted):
    train, schema, stats = fitted
    clean, fixes = postprocess(train.iloc[:0], stats, schema)
    assert clean.empty and list(clean.columns) == list(train.columns)
    assert (fixes["count"] == 0).all()
    totals = fix_totals(fixes)
    assert totals["postprocess.values_fixed"] == 0.0
    assert totals["postprocess.negative_share.bad_mental_days"] == 0.0


def test_missing_values_are_restored_at_the_training_rate_and_deterministically(fitted):
    train, schema, stats = fitted
    complete = pd.concat([train] * 5, ignore_index=True)
    complete = complete.assign(
        glucose=complete["glucose"].fillna(100.0),
        income_band=complete["income_band"].fillna(4.0),
        region=complete["region"].fillna("north"),
    )
    clean, fixes = postprocess(complete, stats, schema, seed=1)
    again, _ = postprocess(complete, stats, schema, seed=1)
    other, _ = postprocess(complete, stats, schema, seed=2)

    counts = counts_of(fixes)
    for name in ("glucose", "income_band", "region"):
        rate = stats[name].missing_rate
        assert clean[name].isna().mean() == pytest.approx(rate, abs=0.006), name
        assert counts[(name, "restore_missing")] == clean[name].isna().sum()
    assert counts[("smoker", "restore_missing")] == 0  # no missing in training, none added
    pd.testing.assert_frame_equal(clean, again)
    assert not clean["glucose"].isna().equals(other["glucose"].isna())

    # A share within 50 % of the training share is left alone.
    near, near_fixes = postprocess(train, stats, schema, restore_missing=True)
    assert counts_of(near_fixes)[("glucose", "restore_missing")] == 0


def test_a_missing_share_that_depends_on_the_class_is_restored_per_class():
    """A field filled in for one class only (a chargeback reason, a test ordered only for
    the sick) stays filled in for that class's synthetic rows and missing for the other's,
    instead of being masked to the share of all rows (91 % here)."""
    table = make_demo_table(4000, seed=4)
    ill = table[DEMO_TARGET] == 1
    table["reason"] = np.where(ill, np.random.default_rng(0).choice(["a", "b"], len(table)),
                               None)
    train, schema = validate_table(table, DEMO_TARGET, DAY_HINTS)
    stats = fit_postprocess(train, schema)
    reason = stats["reason"]
    assert reason.missing_rate == pytest.approx(1 - ill.mean())
    assert dict(zip(stats.classes, reason.class_missing_rates, strict=True)) == {0: 1.0, 1: 0.0}
    # rows of both classes, every reason made up: each class gets its own share back
    synthetic = pd.concat([train] * 3, ignore_index=True).assign(reason="a")
    clean, fixes = postprocess(synthetic, stats, schema, seed=0)
    sick = clean[DEMO_TARGET] == 1
    assert clean.loc[sick, "reason"].notna().all()
    assert clean.loc[~sick, "reason"].isna().all()
    assert counts_of(fixes)[("reason", "restore_missing")] == (~sick).sum()
    # the stats survive JSON; stats of an earlier version (no class shares) and rows without
    # the target fall back to the share of all rows
    assert PostprocessStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    earlier = PostprocessStats.from_dict({"columns": [
        {k: v for k, v in c.items() if k != "class_missing_rates"}
        for c in stats.to_dict()["columns"]]})
    for rows, rules in ((synthetic[sick.to_numpy()], earlier),
                        (synthetic[sick.to_numpy()].drop(columns=DEMO_TARGET), stats)):
        alone, _ = postprocess(rows, rules, schema, seed=0)
        assert alone["reason"].isna().mean() == pytest.approx(reason.missing_rate, abs=0.03)


def test_a_column_with_far_too_many_missing_values_is_filled_from_training_levels(fitted):
    train, schema, stats = fitted
    messy = train.assign(region=None)
    clean, fixes = postprocess(messy, stats, schema, seed=5)
    rate = stats["region"].missing_rate
    assert clean["region"].isna().mean() == pytest.approx(rate, abs=0.01)
    assert clean["region"].dropna().isin(stats["region"].levels).all()
    assert counts_of(fixes)[("region", "fill_missing")] == clean["region"].notna().sum()


def test_switches_turn_rules_off_but_still_count_out_of_bound_values(fitted):
    train, schema, stats = fitted
    messy = inject(train, "bad_mental_days", np.arange(12), -2.5)
    clean, fixes = postprocess(messy, stats, schema, clip=False, round=False, snap=False,
                               restore_missing=False)
    counts = counts_of(fixes)
    assert counts[("bad_mental_days", "below_low_before_clip")] == 12
    assert counts[("bad_mental_days", "clip")] == 0
    assert (clean["bad_mental_days"].iloc[:12] == -2.5).all()  # float: -2.5 is not whole
    assert clean["bad_mental_days"].dtype == np.float64


def test_continuous_values_come_back_at_their_training_decimals_uncounted_as_fixes(fitted):
    train, schema, stats = fitted
    assert (stats["glucose"].decimals, stats["annual_cost"].decimals) == (1, 2)
    present = np.flatnonzero(train["glucose"].notna())[:20]
    messy = inject(train, "glucose", present, 123.4567)
    messy = inject(messy, "annual_cost", np.arange(60), np.nan)  # filled from quantiles
    clean, fixes = postprocess(messy, stats, schema)
    assert (clean["glucose"].iloc[present] == 123.5).all()
    counts = counts_of(fixes)
    assert counts[("glucose", "decimals")] == 20
    assert fix_totals(fixes)["postprocess.values_fixed"] == counts[("annual_cost",
                                                                    "fill_missing")] > 0
    for column, places in (("glucose", 1), ("annual_cost", 2)):
        values = clean[column].dropna()
        assert (values == values.round(places)).all(), column
    kept, _ = postprocess(messy, stats, schema, decimals=False)
    assert (kept["glucose"].iloc[present] == 123.4567).all()


def test_precision_is_the_fewest_exact_places_and_bounds_move_inside_it():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"cents": rng.integers(30, 1096, 500) / 100,
                         "tenths": np.r_[0.3, 10.9, rng.integers(3, 109, 498) / 10],
                         "noise": rng.normal(size=500), "y": rng.integers(0, 2, 500),
                         "big": 123456789 + rng.integers(0, 100, 500) / 100})
    train, schema = validate_table(rows, "y", {"tenths": {"bounds": [0.25, 10.97]}})
    stats = fit_postprocess(train, schema)
    assert [stats[c].decimals for c in ("cents", "tenths", "noise", "big")] == [2, 1, None, 2]
    assert (stats["tenths"].low, stats["tenths"].high) == (0.3, 10.9)
    synth = train.assign(tenths=np.r_[0.26, 10.96, np.full(498, 5.55)],
                         noise=train["noise"] * 0.999)  # within the training range
    clean, _ = postprocess(synth, stats, schema)
    assert list(clean["tenths"].iloc[:2]) == [0.3, 10.9]  # clipped, then rounded inside
    pd.testing.assert_series_equal(clean["noise"], synth["noise"])  # too many places


def test_a_category_keeps_its_dtype_order_and_times_their_training_unit():
    """From a trial: a ``category`` column came back with its categories sorted (its codes
    then meant other wards), and ``datetime64`` values on whole minutes gained seconds."""
    rng = np.random.default_rng(0)
    wards = pd.CategoricalDtype(["cardio", "neuro", "ortho", "gastro", "closed"], ordered=True)
    rows = pd.DataFrame({
        "ward": pd.Categorical(rng.choice(["cardio", "neuro", "ortho", "gastro"], 300),
                               dtype=wards),
        "admitted": pd.Timestamp("2021-01-01") + pd.to_timedelta(
            rng.integers(0, 10**6, 300), unit="min"),
        "days": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, 300), "D"),
        "y": rng.integers(0, 2, 300)})
    train, schema = validate_table(rows, "y")
    stats = PostprocessStats.from_dict(json.loads(json.dumps(fit_postprocess(train,
                                                                             schema).to_dict())))
    assert (stats["admitted"].step, stats["days"].step) == (60.0, 86_400.0)
    jitter = pd.to_timedelta(rng.integers(-29, 30, 300), unit="s")
    synth = train.assign(ward=train["ward"].astype(str), admitted=train["admitted"] + jitter,
                         days=train["days"] + jitter * 60)
    clean, fixes = postprocess(synth, stats, schema)
    assert clean["ward"].dtype == wards  # same categories, order and ordering
    assert (clean["ward"].cat.codes == train["ward"].cat.codes).all()
    assert (clean["admitted"].dt.second == 0).all() and (clean["days"].dt.hour == 0).all()
    assert (clean["admitted"] - train["admitted"]).abs().max() <= pd.Timedelta(30, "s")
    low, high = train["admitted"].min(), train["admitted"].max()  # mirrored back inside
    inside = synth["admitted"].where(synth["admitted"] >= low, low + (low - synth["admitted"]))
    inside = inside.where(inside <= high, high - (inside - high))
    assert counts_of(fixes)[("admitted", "decimals")] == int((inside.dt.second != 0).sum())


def test_an_integer_column_on_a_step_comes_back_on_it_uncounted_as_fixes():
    """From a trial: loan amounts, all multiples of 100, came back as 13665; fees in fifties
    keep their step too (the values' greatest common divisor)."""
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"loan": rng.integers(10, 400, 300) * 100,
                         "fee": rng.integers(0, 30, 300) * 50,
                         "age": rng.integers(18, 90, 300), "y": rng.integers(0, 2, 300)})
    train, schema = validate_table(rows, "y", {"loan": {"bounds": [950, 40_050]}})
    stats = fit_postprocess(train, schema)
    assert [stats[c].step for c in ("loan", "fee", "age")] == [100.0, 50.0, None]
    assert (stats["loan"].low, stats["loan"].high) == (1000.0, 40_000.0)  # multiples inside
    synth = train.assign(loan=train["loan"] + rng.integers(-49, 50, 300),
                         fee=train["fee"] + rng.integers(-20, 21, 300))
    clean, fixes = postprocess(synth, stats, schema)
    assert (clean["loan"] % 100 == 0).all() and clean["loan"].dtype == train["loan"].dtype
    assert (clean["fee"] % 50 == 0).all()
    assert (clean["loan"] - synth["loan"]).abs().max() <= 50
    counts = counts_of(fixes)
    assert counts[("loan", "decimals")] > 250  # formatting, not a fix: only clips count
    assert fix_totals(fixes)["postprocess.values_fixed"] == sum(
        counts[(c, "clip")] for c in ("loan", "fee"))


def test_overshoot_past_a_training_extreme_is_mirrored_inside_not_piled_on_it():
    """From trials 35C and 35D: clipping to the training range put 1-5 % of the synthetic
    rows on the last training date or amount, which 1 real row in 4,000 held. A value past
    such an end is mirrored back inside; a declared bound and a point mass at the end (a top
    code) still take the value itself."""
    rng = np.random.default_rng(5)
    n = 4000
    income = np.round(rng.uniform(20_000, 99_999, n))
    income[rng.random(n) < 0.08] = 99_999.0  # top-coded
    rows = pd.DataFrame({
        "amount": np.round(rng.uniform(10, 100, n), 2), "age": rng.integers(20, 90, n),
        "opened": pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 6900, n), "D"),
        "days": rng.uniform(0, 30, n), "income": income, "y": rng.integers(0, 2, n)})
    train, schema = validate_table(rows, "y", {"days": {"kind": "continuous",
                                                        "bounds": [0, None]}})
    stats = PostprocessStats.from_dict(json.loads(json.dumps(fit_postprocess(train,
                                                                             schema).to_dict())))
    assert [(stats[c].reflect_low, stats[c].reflect_high) for c in
            ("amount", "age", "opened", "days", "income")] == [
        (True, True), (True, True), (True, True), (False, True), (True, False)]
    over = rng.uniform(1.0, 1.15, n)  # a generator that runs 0-15 % past the range
    synth = train.assign(amount=train["amount"] * over, age=train["age"] * over,
                         opened=train["opened"] + pd.to_timedelta(over * 900, "D"),
                         days=train["days"] * over - 3, income=train["income"] * over)
    clean, fixes = postprocess(synth, stats, schema)
    assert_legal(clean, stats, schema)
    for name in ("amount", "age", "opened"):
        at_end = (clean[name] == train[name].max()).mean()
        assert at_end <= 2 * (train[name] == train[name].max()).mean() + 0.002, name
        assert clean[name].max() <= train[name].max()
    assert (clean["days"] == 0).mean() == pytest.approx((synth["days"] < 0).mean())
    top = (synth["income"] >= 99_998.5).mean()  # over it, or rounded to it (whole numbers)
    assert (clean["income"] == 99_999).mean() == pytest.approx(top)
    counts = counts_of(fixes)
    assert counts[("amount", "clip")] == int((synth["amount"] > train["amount"].max()).sum())
    old = stats.to_dict()  # rules saved before the flags: every bound clips, as then
    for col in old["columns"]:
        col.pop("reflect_low"), col.pop("reflect_high")
    piled = postprocess(synth, PostprocessStats.from_dict(old), schema)[0]
    assert (piled["amount"] == train["amount"].max()).mean() > 0.05


def test_wrong_inputs_give_clear_errors(fitted):
    train, schema, stats = fitted
    with pytest.raises(DataValidationError, match=r"synthetic rows lack column\(s\) \['region'\]"):
        postprocess(train.drop(columns="region"), stats, schema)
    other = PostprocessStats(tuple(c for c in stats.columns if c.name != "glucose"))
    with pytest.raises(ConfigError, match="'glucose'.*refit"):
        postprocess(train, other, schema)


def test_real_brfss_rows_with_negative_mental_health_days():
    raw = pd.read_csv(BRFSS, nrows=4000)
    hints = {name: {"kind": "count", "bounds": [0, 30]} for name in ("MentHlth", "PhysHlth")}
    train, schema = validate_table(raw, "Diabetes_binary", hints)
    stats = fit_postprocess(train, schema)
    rows = np.arange(0, 4000, 50)[:43]  # 43 negative answers, as a generator may make them
    messy = inject(train, "MentHlth", rows, -4.0)
    messy = inject(messy, "PhysHlth", rows[:7] + 1, 30.2)

    clean, fixes = postprocess(messy, stats, schema)

    counts = counts_of(fixes)
    assert counts[("MentHlth", "below_low_before_clip")] == 43
    assert counts[("PhysHlth", "above_high_before_clip")] == 7
    assert clean["MentHlth"].between(0, 30).all() and clean["PhysHlth"].between(0, 30).all()
    assert (clean["MentHlth"].iloc[rows] == 0.0).all()
    assert (clean.dtypes == train.dtypes).all()  # BRFSS stores whole numbers as float64
    injected = train.index[np.r_[rows, rows[:7] + 1]]
    pd.testing.assert_frame_equal(clean.drop(index=injected), train.drop(index=injected))
    totals = fix_totals(fixes)
    assert totals["postprocess.negative_share.MentHlth"] == pytest.approx(43 / 4000)
    assert totals["postprocess.values_fixed"] == 43 + 7
