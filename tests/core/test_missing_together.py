"""Columns missing in the same training rows stay missing together in synthetic rows."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.missing_together import (
    MIN_ROWS,
    MissingWhen,
    find_missing_together,
    find_missing_when,
)
from synthbalance.core.postprocess import (
    MISSING_TOLERANCE,
    PostprocessStats,
    fit_postprocess,
    fix_totals,
    postprocess,
)
from synthbalance.core.schema import infer_schema
from synthbalance.pipelines.postprocessing.nodes import clean_rows

GROUP = ["approved", "first_payment", "rate"]


def _loans(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    """Declined loans (8 % of the good ones, 30 % of the defaults) have no approval date,
    first payment, rate or contract number (an identifier); ``note`` is missing on its
    own."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    declined = rng.random(n) < np.where(y == 1, 0.30, 0.08)
    applied = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    approved = applied + pd.to_timedelta(rng.integers(1, 20, n), unit="D")
    df = pd.DataFrame({
        "applied": applied,
        "approved": approved.where(~declined),
        "first_payment": (approved + pd.to_timedelta(30, unit="D")).where(~declined),
        "rate": np.where(declined, np.nan, rng.normal(6, 1.5, n).round(2)),
        "amount": rng.lognormal(9, 0.6, n).round(-2),
        "note": rng.choice(["a", "b", "c"], n).astype(object),
        "contract": [None if d else f"K-{i:05d}" for i, d in zip(rng.permutation(n), declined,
                                                                   strict=True)],
        "y": y,
    })
    df.loc[rng.random(n) < 0.1, "note"] = None
    return df


@pytest.fixture(scope="module")
def fitted():
    df = _loans()
    schema = infer_schema(df, "y")
    return df, schema, fit_postprocess(df, schema)


def _partial(rows: pd.DataFrame) -> np.ndarray:
    missing = rows[GROUP].isna().to_numpy()
    return missing.any(axis=1) & ~missing.all(axis=1)


def test_the_group_is_found_and_columns_missing_on_their_own_or_seldom_are_not(fitted):
    df, schema, stats = fitted
    assert schema.of_unlearned("identifier")[0].name == "contract"
    assert stats.together == ((*GROUP, "contract"),)  # the identifier too
    assert PostprocessStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    gaps = df["rate"].isna()
    for k, found in ((MIN_ROWS - 1, ()), (MIN_ROWS, (("a", "b"),))):
        first = gaps & (gaps.cumsum() <= k)  # two columns missing in the same k rows
        pair = df.assign(a=np.where(first, np.nan, 1.0), b=np.where(first, np.nan, 2.0))
        assert find_missing_together(pair, [*GROUP, "a", "b"]) == (tuple(GROUP), *found)
    alone = df.assign(rate=df["rate"].where(df.index % 7 != 0))  # one more gap: not equal
    assert find_missing_together(alone, GROUP) == (("approved", "first_payment"),)


def test_no_synthetic_row_holds_part_of_a_group_and_each_class_keeps_its_share(fitted):
    df, schema, stats = fitted
    rng = np.random.default_rng(1)
    synth = df.sample(2_000, random_state=2).reset_index(drop=True)
    for column in GROUP:  # each column's gaps drawn on its own, as a generator may
        synth[column] = synth[column].where(rng.random(len(synth)) > 0.12)
    assert _partial(synth).mean() > 0.15
    clean, fixes = postprocess(synth, stats, schema, seed=3)
    assert not _partial(clean).any()
    # the contract number, which nothing learns, is missing exactly where the group is
    assert (clean["contract"].isna() == clean["rate"].isna()).all()
    assert clean["contract"].dropna().is_unique
    for label in (0, 1):
        rows = clean["y"] == label
        real = df.loc[df["y"] == label, "rate"].isna().mean()
        share = clean.loc[rows, "rate"].isna().mean()
        assert abs(share - real) <= MISSING_TOLERANCE * real, label
    # the counts are the values changed; other columns keep their own rule
    counted = fixes.set_index(["column", "rule"])["count"]
    for column in GROUP:
        changed = (synth[column].isna() != clean[column].isna()).sum()
        assert counted[(column, "missing_together")] == changed > 0
        assert counted[(column, "restore_missing")] == counted[(column, "fill_missing")] == 0
    assert ("note", "missing_together") not in counted.index
    assert fix_totals(fixes)["postprocess.missing_together"] == sum(
        counted[(c, "missing_together")] for c in GROUP)
    filled = clean["approved"].notna() & synth["approved"].isna()
    assert (clean.loc[filled, "first_payment"] >= clean.loc[filled, "approved"]).all()
    # gaps are filled from a synthetic row of the same class with the whole group present
    filled = clean["rate"].notna() & synth["rate"].isna()
    whole = synth[GROUP].notna().all(axis=1)
    for label in (0, 1):
        rows = filled & (clean["y"] == label)
        assert rows.any()
        assert clean.loc[rows, "rate"].isin(synth.loc[whole & (synth["y"] == label), "rate"]).all()
    again, _ = postprocess(synth, stats, schema, seed=3)
    pd.testing.assert_frame_equal(clean, again)


def test_the_switch_leaves_each_column_to_its_own_share(fitted):
    df, schema, stats = fitted
    rng = np.random.default_rng(1)
    synth = df.sample(2_000, random_state=2).reset_index(drop=True)
    synth["rate"] = synth["rate"].where(rng.random(len(synth)) > 0.12)
    off, fixes = postprocess(synth, stats, schema, seed=3, missing_together=False)
    assert _partial(off).any() and "missing_together" not in set(fixes["rule"])


def test_whole_rows_keep_the_generators_choice_and_part_rows_follow_their_majority(fitted):
    """With the group's share within its tolerance nothing is restored: a row with every
    column of the group missing, or none, keeps it; a row with two of three missing is
    missing more often than one with one of three."""
    df, schema, stats = fitted
    synth = df.sample(2_000, random_state=4).reset_index(drop=True)
    present = np.flatnonzero(synth["rate"].notna() & (synth["y"] == 0))[:100]
    two, one = present[:50], present[50:]
    synth.loc[two, ["approved", "rate"]] = None
    synth.loc[one, "rate"] = None
    whole = ~_partial(synth)
    clean, _ = postprocess(synth, stats, schema, seed=5)
    assert not _partial(clean).any()
    assert (clean.loc[whole, "rate"].isna() == synth.loc[whole, "rate"].isna()).all()
    assert clean.loc[two, "rate"].isna().mean() > clean.loc[one, "rate"].isna().mean() + 0.15


def test_a_group_of_identifiers_alone_is_missing_together_at_its_share_without_warnings():
    """Phone and e-mail missing for the same customers: neither is generated, so no column
    votes; the group is missing at its class's share, both columns at once."""
    df = _loans(seed=1)
    rng = np.random.default_rng(2)
    silent = rng.random(len(df)) < np.where(df["y"] == 1, 0.4, 0.15)
    df["phone"] = [None if s else f"0151 {i:07d}" for i, s in zip(rng.permutation(len(df)),
                                                                  silent, strict=True)]
    df["mail"] = [None if s else f"c{i}@mail.example" for i, s in enumerate(silent)]
    schema = infer_schema(df, "y")
    stats = fit_postprocess(df, schema)
    assert ("phone", "mail") in stats.together
    synth = df.sample(2_000, random_state=3).reset_index(drop=True)
    synth[["phone", "mail"]] = "stand-in"  # as sampled: every row holds an id
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean, _ = postprocess(synth, stats, schema, seed=4)
    assert (clean["phone"].isna() == clean["mail"].isna()).all()
    for label, real in ((0, 0.15), (1, 0.4)):
        share = clean.loc[clean["y"] == label, "phone"].isna().mean()
        assert abs(share - real) < 0.06, label


def test_the_log_names_the_groups_the_synthetic_rows_keep(caplog):
    """From trial 35D: a dropped identifier (``synthetic: drop``) was named in the groups'
    log line though no synthetic row has the column; a group left with one column is no
    group to name."""
    df = _loans(seed=1)
    silent = np.random.default_rng(2).random(len(df)) < 0.2
    df["phone"] = [None if s else f"0151 {i:07d}" for i, s in enumerate(silent)]
    df["mail"] = [None if s else f"c{i}@mail.example" for i, s in enumerate(silent)]
    schema = infer_schema(df, "y", {"contract": {"kind": "identifier", "synthetic": "drop"},
                                    "mail": {"kind": "identifier", "synthetic": "drop"}})
    stats = fit_postprocess(df, schema)
    with caplog.at_level(logging.INFO):
        clean_rows(df, stats, schema, {}, 0)
    assert ("phone", "mail") in stats.together and "contract" in stats.together[0]
    assert "approved, first_payment, rate;" not in caplog.text  # the groups: one line, ...
    assert caplog.text.count("approved, first_payment, rate.") == 1  # ... without contract
    assert "mail" not in caplog.text and "phone" not in caplog.text


def _policies(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    """Insurance policies: the last claim date is missing exactly for the policies with no
    claims; the end date and end reason exactly for the active ones (the reasons of ended
    and of cancelled ones differ); a branch code held by
    one row each, and a ``note`` missing at random."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    claims = rng.poisson(np.where(y == 1, 1.5, 0.5))
    start = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    status = rng.choice(["active", "ended", "cancelled"], n, p=[0.6, 0.3, 0.1])
    end = start + pd.to_timedelta(rng.integers(30, 900, n), unit="D")
    return pd.DataFrame({
        "claims": claims, "start": start,
        "last_claim": (start + pd.to_timedelta(rng.integers(1, 600, n), unit="D")).where(
            claims > 0),
        "status": status, "end": end.where(status != "active"),
        "end_reason": np.where(status == "active", None, np.where(
            status == "ended", rng.choice(["moved", "price"], n),
            rng.choice(["unpaid", "fraud"], n))).astype(object),
        "branch": [f"B{i}" for i in rng.permutation(n)],
        "note": np.where(rng.random(n) < 0.3, None, rng.choice(["x", "z"], n)).astype(object),
        "y": y})


def test_a_column_or_group_missing_where_another_holds_some_values_is_found():
    df = _policies()
    stats = fit_postprocess(df, infer_schema(df, "y"))
    assert stats.when == (MissingWhen(("end", "end_reason"), "status", ("active",)),
                          MissingWhen(("last_claim",), "claims", (0,)))
    assert PostprocessStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    # every branch, one row each, holds only gaps or none: that says nothing
    by_branch = df.assign(note=np.where(df["branch"].str[1:].astype(int) % 3 > 0, "x", None))
    assert find_missing_when(by_branch, [("note",)], ["branch", "status"]) == ()
    by_claims = df.assign(note=df["note"].where(df["claims"] < 3, None))
    assert find_missing_when(by_claims, [("note",)], ["claims"]) == ()  # gaps elsewhere too


def test_every_synthetic_row_keeps_the_rule_filled_from_rows_of_its_class():
    df = _policies()
    schema = infer_schema(df, "y")
    stats = fit_postprocess(df, schema)
    synth = df.sample(2_000, random_state=1).reset_index(drop=True)
    rng = np.random.default_rng(2)
    synth["claims"] = rng.permutation(synth["claims"].to_numpy())  # as a generator might
    active = synth["status"] == "active"
    blank = ~active & (rng.random(len(synth)) < 0.3)
    synth.loc[blank, ["end", "end_reason"]] = None, None
    synth.loc[active & (rng.random(len(synth)) < 0.1), "end_reason"] = "moved"
    assert ((synth["claims"] == 0) != synth["last_claim"].isna()).mean() > 0.3
    clean, fixes = postprocess(synth, stats, schema, seed=3)
    assert ((clean["claims"] == 0) == clean["last_claim"].isna()).all()
    for column in ("end", "end_reason"):
        assert ((clean["status"] == "active") == clean[column].isna()).all()
    filled = clean["end_reason"].notna() & synth["end_reason"].isna()
    assert filled[clean["status"] == "cancelled"].any()
    reasons = clean.groupby("status")["end_reason"].agg(lambda r: set(r.dropna()))
    assert reasons["cancelled"] == {"unpaid", "fraud"}  # from rows with the same status
    assert reasons["ended"] == {"moved", "price"}
    # a date filled in is placed after the start by the order rule, on a whole day
    filled = clean["last_claim"].notna() & synth["last_claim"].isna()
    assert filled.any() and (clean.loc[filled, "last_claim"] > clean.loc[filled, "start"]).all()
    assert (clean["last_claim"].dropna().dt.normalize() == clean["last_claim"].dropna()).all()
    counted = fixes.set_index(["column", "rule"])["count"]
    assert counted[("last_claim", "missing_together")] == (
        synth["last_claim"].isna() != clean["last_claim"].isna()).sum()
    off, _ = postprocess(synth, stats, schema, seed=3, missing_together=False)
    assert ((off["claims"] == 0) != off["last_claim"].isna()).any()


def test_the_log_names_the_rules_and_whether_the_rows_keep_them(caplog):
    """From trial 36A: with the switch off, the log still said the rules were kept."""
    df = _policies()
    schema = infer_schema(df, "y")
    stats = fit_postprocess(df, schema)
    with caplog.at_level(logging.INFO):
        clean_rows(df, stats, schema, {}, 0)
    assert ("values in the training rows, kept so in every synthetic row "
            "(postprocessing.missing_together): end, end_reason where status is active; "
            "last_claim where claims is 0.") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        clean_rows(df, stats, schema, {"missing_together": False}, 0)
    assert "not kept: postprocessing.missing_together or restore_missing is false" in caplog.text
    assert "kept so" not in caplog.text
