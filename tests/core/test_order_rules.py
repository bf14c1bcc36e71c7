"""Order rules between date columns (core.order_rules): found in the real rows, kept in
the synthetic ones by the sampling stage's rejection and by postprocessing's swap."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.order_rules import (
    MIN_ROWS,
    OrderRule,
    broken_rows,
    find_order_rules,
)
from synthbalance.core.postprocess import (
    PostprocessStats,
    fit_postprocess,
    fix_totals,
    postprocess,
)
from synthbalance.core.reweight import abiding_draws, reweighted_sample_report
from synthbalance.core.schema import infer_schema

N = 600


def _stays(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Admission before discharge in every row (written in two formats), and a date of
    birth unrelated to either; 1 in 4 rows readmitted."""
    rng = np.random.default_rng(seed)
    admitted = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    stay = rng.integers(1, 30, n)
    return pd.DataFrame({
        "admitted": admitted.strftime("%d.%m.%Y"),
        "discharged": (admitted + pd.to_timedelta(stay, unit="D")).strftime("%Y-%m-%d"),
        "reviewed": (pd.Timestamp("2021-01-01")
                     + pd.to_timedelta(rng.integers(0, 800, n), unit="D")).strftime("%Y-%m-%d"),
        "age": rng.integers(18, 95, n),
        "y": np.where(np.arange(n) < n // 4, 1, 0),
    })


def _fitted(df: pd.DataFrame):
    schema = infer_schema(df, "y")
    return schema, fit_postprocess(df, schema)


def test_only_pairs_in_order_in_every_training_row_are_rules():
    df = _stays()
    df.loc[3, "discharged"] = None  # a missing date breaks nothing
    schema, stats = _fitted(df)
    assert [schema[c].kind for c in ("admitted", "discharged", "reviewed")] == ["datetime"] * 3
    assert stats.orders == (OrderRule("admitted", "discharged"),)
    assert str(stats.orders[0]) == "admitted <= discharged"
    assert PostprocessStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    # one row the other way round, a copy, or too few rows holding both: no rule
    swapped = df.copy()
    swapped.loc[0, ["admitted", "discharged"]] = ["02.02.2024", "2021-01-01"]
    assert _fitted(swapped)[1].orders == ()
    assert _fitted(df.assign(discharged=pd.to_datetime(df["admitted"], format="%d.%m.%Y")
                             .dt.strftime("%Y-%m-%d")))[1].orders == ()
    seconds = {"a": np.arange(MIN_ROWS - 1.0), "b": np.arange(MIN_ROWS - 1.0) + 5}
    assert find_order_rules(seconds) == ()
    assert find_order_rules({k: np.r_[v, 50.0] for k, v in seconds.items()}) == (
        OrderRule("a", "b"),)


def test_postprocessing_swaps_dates_the_wrong_way_round_and_counts_them():
    df = _stays()
    schema, stats = _fitted(df)
    synth = df.copy()
    # rows turned the other way round, of dates inside the other column's range too (else
    # clipping would move them before the swap)
    admitted = pd.to_datetime(df["admitted"], format="%d.%m.%Y")
    discharged = pd.to_datetime(df["discharged"])
    inside = (admitted >= discharged.min()) & (discharged <= admitted.max())
    wrong = np.flatnonzero(inside.to_numpy())[::7]
    synth.loc[wrong, "admitted"] = (pd.to_datetime(df.loc[wrong, "discharged"])
                                    .dt.strftime("%d.%m.%Y"))
    synth.loc[wrong, "discharged"] = (pd.to_datetime(df.loc[wrong, "admitted"],
                                                     format="%d.%m.%Y").dt.strftime("%Y-%m-%d"))
    assert broken_rows(synth, stats.orders, stats.dates).sum() == len(wrong)
    clean, fixes = postprocess(synth, stats, schema)
    assert not broken_rows(clean, stats.orders, stats.dates).any()
    pd.testing.assert_frame_equal(clean, df)  # each date back in its own column and format
    counts = fixes.set_index(["column", "rule"])["count"]  # the date values changed
    assert counts[("admitted", "order")] == counts[("discharged", "order")] == len(wrong)
    assert fix_totals(fixes)["postprocess.order"] == 2 * len(wrong)
    off, off_fixes = postprocess(synth, stats, schema, order=False)
    assert broken_rows(off, stats.orders, stats.dates).sum() == len(wrong)
    assert fix_totals(off_fixes)["postprocess.order"] == 0


def _train(df: pd.DataFrame, fit_on: pd.DataFrame | None = None):
    """A cvae of 3 epochs on ``df``, its transformer fitted on ``fit_on`` (default ``df``)."""
    from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
    from synthbalance.core.transformer import TabularTransformer

    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df if fit_on is None else fit_on, schema)
    plan = TrainingPlan("cvae", {"epochs": 3, "hidden_dims": [16], "device": "cpu"})
    return train_synthesizer(df, transformer.transform(df), transformer, schema, plan,
                             progress=False)


def test_a_filled_date_is_placed_against_the_other_date_by_a_training_gap():
    """A missing discharge that postprocessing fills in (no training row misses one) comes
    back a real stay's length after its admission, not a date drawn from the whole column
    (which, swapped into order, made stays of hundreds of days in a trial)."""
    df = _stays()
    schema, stats = _fitted(df)
    synth = df.copy()
    gone = np.zeros(N, dtype=bool)
    gone[::5] = True
    synth.loc[gone, "discharged"] = None
    clean, fixes = postprocess(synth, stats, schema, seed=1)
    stay = (pd.to_datetime(clean["discharged"])
            - pd.to_datetime(clean["admitted"], format="%d.%m.%Y")).dt.days
    real = (pd.to_datetime(df["discharged"])
            - pd.to_datetime(df["admitted"], format="%d.%m.%Y")).dt.days
    assert clean["discharged"].notna().all()
    assert stay[gone].between(real.min(), real.max()).all()
    assert stay[gone].std() > 0.5 * real.std()  # drawn, not one value
    counts = fixes.set_index(["column", "rule"])["count"]
    assert counts[("discharged", "fill_missing")] == gone.sum()
    assert 0.9 * gone.sum() <= counts[("discharged", "order")] <= gone.sum()
    assert counts[("admitted", "order")] == 0
    again, _ = postprocess(synth, stats, schema, seed=1)
    pd.testing.assert_frame_equal(clean, again)


def test_a_filled_date_near_the_end_of_the_range_gets_a_gap_that_fits_not_the_last_day():
    """From trial 36A: end dates filled in after hire dates late in the range were clipped
    to the last training day, where 18-23 % of them piled up (2 real rows of 826 there). The
    gap is drawn among those that keep the date within the range."""
    rng = np.random.default_rng(3)
    hired = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2000, 3000), "D")
    ended = hired + pd.to_timedelta(rng.integers(30, 900, 3000), "D")
    df = pd.DataFrame({"hired": hired, "ended": ended, "y": rng.integers(0, 2, 3000)})
    df = df[df["ended"] <= pd.Timestamp("2023-06-30")].reset_index(drop=True)  # a snapshot
    schema, stats = _fitted(df)
    clean = postprocess(df.assign(ended=pd.NaT), stats, schema, seed=1)[0]  # all filled in
    last = df["ended"].max()
    assert clean["ended"].max() <= last
    assert (clean["ended"] == last).mean() <= 3 * (df["ended"] == last).mean() + 0.002
    gap = (clean["ended"] - clean["hired"]).dt.days
    assert gap.between(29, 900).all()  # a real gap, the shortest included


@pytest.fixture(scope="module")
def trained():
    """A generator that breaks the rule: its transformer was fitted on rows with one stay
    the other way round, so it learned both dates on their own, not the days between them
    (the rows it learned from and the cleaning rules keep the rule)."""
    df = _stays(2_000)
    unruly = df.copy()
    unruly.loc[0, ["admitted", "discharged"]] = ["02.02.2024", "2021-01-01"]
    return df, _train(df, fit_on=unruly)


def test_sampling_drops_draws_that_break_a_rule_and_keeps_the_row_count(trained, caplog):
    df, synthesizer = trained
    stats = synthesizer.cleaning
    raw = synthesizer.sample(1_000, label=1, seed=3)
    broken = broken_rows(raw, stats.orders, stats.dates).mean()
    assert broken > 0.05  # a short-trained generator breaks the rule often
    with caplog.at_level(logging.INFO, logger="synthbalance.core.reweight"):
        rows, done = reweighted_sample_report(synthesizer, df, df.iloc[:0], 300, 1, seed=3)
    assert len(rows) == 300 and not broken_rows(rows, stats.orders, stats.dates).any()
    share = done.metrics()["sampling.order_broken_share"]
    assert share == pytest.approx(broken, abs=0.06)
    assert "Order rules (admitted <= discharged)" in caplog.text
    again, _ = reweighted_sample_report(synthesizer, df, df.iloc[:0], 300, 1, seed=3)
    pd.testing.assert_frame_equal(rows, again)


def test_draws_without_rules_are_the_generators_own(trained):
    df, synthesizer = trained
    kept, share = abiding_draws(synthesizer, 200, 1, seed=5)
    assert share is not None and not broken_rows(kept, synthesizer.cleaning.orders,
                                                 synthesizer.cleaning.dates).any()
    plain = PostprocessStats(synthesizer.cleaning.columns)  # the same stats, no rules
    synthesizer.cleaning, rules = plain, synthesizer.cleaning
    try:
        rows, none = abiding_draws(synthesizer, 200, 1, seed=5)
    finally:
        synthesizer.cleaning = rules
    assert none is None
    pd.testing.assert_frame_equal(rows, synthesizer.sample(200, label=1, seed=5))


def test_clean_rows_from_the_saved_model_are_redrawn_not_swapped(trained, tmp_path):
    """What MLflow's pyfunc model and ``Synthesizer.sample(clean=True)`` return: draws that
    keep the rules, then cleaned; no row needs a swap."""
    from synthbalance.core.synthesizer import Synthesizer

    _, synthesizer = trained
    synthesizer.save(tmp_path / "model.pt")
    loaded = Synthesizer.load(tmp_path / "model.pt")
    assert loaded.cleaning.orders == synthesizer.cleaning.orders
    rows = loaded.sample(300, label=1, seed=3, clean=True)
    redrawn, _ = abiding_draws(loaded, 300, 1, seed=3)
    expected, fixes = postprocess(redrawn, loaded.cleaning, loaded.schema, seed=3)
    pd.testing.assert_frame_equal(rows, expected)
    assert fix_totals(fixes)["postprocess.order"] == 0



def test_an_anchored_date_is_learned_as_the_days_after_its_anchor():
    """Encoded as the seconds after the admission, discharges come back in order and about
    as long after it as real ones, from the same short training that, on the two dates on
    their own, put 45 % of the stays out of order and a tenth of them over 500 days
    (measured: days between the dates 2, 15 and 27 at the 5th, 50th and 95th percentiles,
    real 1, 15 and 28; on the two dates alone -424, 32 and 509)."""
    from synthbalance.core.transformer import TabularTransformer

    df = _stays(2_000)
    df.loc[df.index[::100], "admitted"] = None  # the anchor's training median stands in
    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df, schema)
    assert "as seconds after admitted" in transformer.summary().set_index("column").loc[
        "discharged", "encoding"]
    assert transformer.inverse_transform(transformer.transform(df))[
        ["admitted", "discharged"]].equals(df[["admitted", "discharged"]])
    real = df[df["y"] == 1]
    synthesizer = _train(df)
    draws = synthesizer.sample(1_000, label=1, seed=3)
    stats = synthesizer.cleaning
    assert broken_rows(draws, stats.orders, stats.dates).mean() < 0.02
    days = {name: (pd.to_datetime(rows["discharged"])
                   - pd.to_datetime(rows["admitted"], format="%d.%m.%Y")).dt.days
            for name, rows in (("real", real), ("synthetic", draws))}
    assert days["synthetic"].median() == pytest.approx(days["real"].median(), abs=5)
    assert days["synthetic"].quantile(0.95) < 2 * days["real"].quantile(0.95)


def test_a_date_never_present_without_its_anchor_is_not_decoded_without_it():
    """Trial B: orders never shipped were decoded as delivered days after the stand-in
    shipping date. Where no training row has a discharge without its admission, a row
    decoded without the admission gets no discharge; where one does, the stand-in keeps
    the round trip exact."""
    from synthbalance.core.transformer import TabularTransformer

    cols = ["admitted", "discharged"]
    df = _stays(2_000)
    df.loc[df.index[::40], cols] = None
    alone = df.index[1::40]
    odd = df.copy()
    odd.loc[alone, "admitted"] = None  # as a generator may decode a row
    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df, schema)
    assert transformer.inverse_transform(transformer.transform(df))[cols].equals(df[cols])
    back = transformer.inverse_transform(transformer.transform(odd))
    assert back.loc[alone, "discharged"].isna().all()
    assert back.drop(index=alone)[cols].equals(odd.drop(index=alone)[cols])
    allowed = TabularTransformer(seed=0).fit(odd, schema)  # discharges without admissions
    assert allowed.inverse_transform(allowed.transform(odd))[cols].equals(odd[cols])


def test_a_date_is_anchored_to_an_earlier_date_that_is_seldom_missing():
    """Trial C: a cancellation after the last upgrade (missing in 40 % of the rows) and
    after the contract start (never missing) is anchored to the start; without the missing
    upgrades, to the nearer upgrade."""
    from synthbalance.core.transformer import TabularTransformer

    rng = np.random.default_rng(0)
    n = 1_000
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    upgrade = start + pd.to_timedelta(rng.integers(1, 300, n), unit="D")
    cancel = upgrade + pd.to_timedelta(rng.integers(1, 60, n), unit="D")
    df = pd.DataFrame({"start": start.strftime("%Y-%m-%d"),
                       "upgrade": upgrade.strftime("%Y-%m-%d"),
                       "cancel": cancel.strftime("%Y-%m-%d"), "y": np.arange(n) % 10 == 0})

    def anchor(rows: pd.DataFrame) -> str:
        state = TabularTransformer(seed=0).fit(rows, infer_schema(rows, "y")).to_state()
        return next(c["anchor"] for c in state["columns"] if c["name"] == "cancel")

    assert anchor(df) == "upgrade"
    df.loc[rng.random(n) < 0.4, "upgrade"] = None
    assert anchor(df) == "start"
