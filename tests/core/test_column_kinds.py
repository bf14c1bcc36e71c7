"""Identifier, constant and datetime columns: detected, settable, and what synthetic rows get."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.advice import ADDED_COLUMN, Advice, augmented_rows
from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics import fidelity
from synthbalance.core.metrics._features import numeric_matrix
from synthbalance.core.postprocess import fit_postprocess, fix_totals, postprocess
from synthbalance.core.schema import Schema, infer_schema
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.unlearned import fill_unlearned, log_longer_ids
from synthbalance.pipelines.ingest.nodes import validate_raw_table

N = 200


def _table(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.arange(1, n + 1))
    return pd.DataFrame({
        "customer": [f"ID-{i:04d}" for i in ids],
        "row": rng.permutation(n) + 1000,
        "income": rng.integers(0, 1_000_000, n),         # unique-ish wide integers
        "amount": rng.normal(50, 10, n),                   # unique floats
        "age": rng.integers(18, 90, n),
        "region": rng.choice(["north", "south", "east"], n),
        "band": rng.integers(1, 6, n),
        "site": "Lyon",
        "y": np.where(np.arange(n) < n // 4, 1, 0),
    })


def _offset_column(transformer: TabularTransformer, name: str) -> int:
    """Where a mode-encoded column's offset (its tanh scalar) sits in the encoding."""
    return next(s.start for s in transformer.layout if s.column == name and not s.is_onehot)


def _kinds(df: pd.DataFrame, hints=None) -> dict[str, str]:
    schema = infer_schema(df, "y", hints)
    return {c.name: c.kind for c in (*schema.columns, *schema.unlearned)}


# ------------------------------------------------------------------------ detection


def test_ids_constants_and_dates_are_detected_and_ordinary_columns_are_not():
    df = _table().assign(
        day=pd.date_range("2019-03-01", periods=N, freq="D").strftime("%d/%m/%Y"),
        stamp=pd.date_range("2020-01-01", periods=N, freq="h", tz="Europe/Paris"),
        month=np.random.default_rng(1).choice(["Jan", "Feb", "Mar"], N),
    )
    kinds = _kinds(df)
    assert kinds == {"customer": "identifier", "row": "identifier", "income": "integer",
                     "amount": "continuous", "age": "integer", "region": "categorical",
                     "band": "ordinal", "site": "constant", "day": "datetime",
                     "stamp": "datetime", "month": "categorical"}


def test_unique_evenly_spread_whole_numbers_are_named_as_likely_ids_at_ingest(caplog):
    """A random customer number is learned as an integer (not a running number), so ingest
    says it looks like an id and how to declare it; unique skewed amounts are not named."""
    rng = np.random.default_rng(3)
    n = 3_000
    df = pd.DataFrame({
        "customer_no": rng.choice(np.arange(100_000, 1_000_000), n, replace=False),
        # unique, still skewed: sorted amounts plus a running number, shuffled
        "income": rng.permutation(np.sort(np.round(rng.lognormal(10, 1, n))) + np.arange(n)),
        "age": rng.integers(18, 90, n),
        "y": rng.integers(0, 2, n),
    }).astype({"income": int})
    assert df["income"].is_unique
    with caplog.at_level(logging.WARNING, logger="synthbalance.pipelines.ingest.nodes"):
        _, schema = validate_raw_table(df, {"source": "x.csv", "target": "y"})
    assert schema["customer_no"].kind == "integer"
    (warning,) = [r.getMessage() for r in caplog.records if "like ids" in r.getMessage()]
    assert "['customer_no']" in warning and "income" not in warning
    assert "{kind: identifier}" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="synthbalance.pipelines.ingest.nodes"):
        validate_raw_table(df, {"source": "x.csv", "target": "y",
                                "columns": {"customer_no": {"kind": "identifier"}}})
    assert "like ids" not in caplog.text


def test_a_small_table_infers_no_identifier_and_a_one_value_column_with_gaps_is_learned():
    df = _table(30)
    df.loc[::3, "site"] = None  # its missing share is information
    kinds = _kinds(df)
    assert kinds["customer"] == "categorical" and kinds["row"] != "identifier"
    assert kinds["site"] != "constant"


def test_kinds_are_settable_and_synthetic_applies_to_identifiers_only():
    df = _table()
    kinds = _kinds(df, {"age": {"kind": "identifier"}, "band": {"kind": "constant"},
                        "customer": {"kind": "categorical"}})
    assert (kinds["age"], kinds["band"], kinds["customer"]) == \
        ("identifier", "constant", "categorical")
    with pytest.raises(ConfigError, match=r"ingest.columns.region.synthetic"):
        infer_schema(df, "y", {"region": {"synthetic": "drop"}})


def test_a_column_declared_datetime_that_does_not_parse_is_one_clear_error():
    df = _table().assign(day=pd.date_range("2020-01-01", periods=N).strftime("%Y-%m-%d"))
    df.loc[7, "day"] = "unknown"
    with pytest.raises(DataValidationError, match=r"'day'.*'%Y-%m-%d'.*'unknown'.*na_values"):
        infer_schema(df, "y")


# ---------------------------------------------------------------------- identifiers


def test_identifiers_are_never_learned_nor_features():
    df = _table()
    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df, schema)
    assert {"customer", "row", "site"}.isdisjoint(transformer.columns)
    assert {"customer", "row", "site"}.isdisjoint(span.column for span in transformer.layout)
    assert numeric_matrix(df, schema).shape[1] == len(schema.columns) == 5


def test_fresh_ids_keep_the_form_match_no_real_id_and_drop_removes_the_column():
    df = _table()
    df.loc[0, "customer"] = "ID-9000"  # a real id far above the others
    schema = infer_schema(df, "y")
    rows = fill_unlearned(pd.DataFrame(index=range(500)), schema)
    assert rows["customer"].str.fullmatch(r"ID-\d{4}").all()
    assert rows["customer"].is_unique and not set(rows["customer"]) & set(df["customer"])
    assert rows["row"].dtype == np.int64 and rows["row"].is_unique
    assert not set(rows["row"]) & set(df["row"])
    assert (rows["site"] == "Lyon").all()
    dropped = infer_schema(df, "y", {"customer": {"kind": "identifier", "synthetic": "drop"}})
    assert "customer" not in fill_unlearned(rows, dropped).columns


def test_fresh_ids_keep_their_width_when_real_ids_fill_it_up_to_its_top(caplog):
    rng = np.random.default_rng(1)
    real = [f"S-{i:06d}" for i in (rng.choice(999_988, 3000, replace=False) + 1)] + ["S-999989"]
    df = pd.DataFrame({"subscriber": real, "x": rng.normal(size=len(real)),
                       "y": rng.integers(0, 2, len(real))})
    schema = Schema.from_dict(json.loads(json.dumps(infer_schema(df, "y").to_dict())))
    spec = schema.of_unlearned("identifier")[0]
    assert spec.free_ids is not None and spec.free_ids[1] > 10 * (999_999 - 999_989)
    some = fill_unlearned(pd.DataFrame(index=range(spec.free_ids[1])), schema)["subscriber"]
    assert some.str.fullmatch(r"S-\d{6}").all()  # not S-1000000, S-1000001, ...
    more = fill_unlearned(pd.DataFrame(index=range(spec.free_ids[1] + 50)), schema)["subscriber"]
    assert more.is_unique and not set(more) & set(real)  # past the run: above every real id
    room = max(0, 10**6 - spec.next_id)  # within the width above the largest real id
    assert more.str.fullmatch(r"S-\d{6}").sum() == spec.free_ids[1] + room
    # the ids past the width are said, with how to keep them out of shared rows
    with caplog.at_level(logging.WARNING, logger="synthbalance.core.unlearned"):
        assert log_longer_ids(some.to_frame(), schema) == 0 and not caplog.text
        assert log_longer_ids(more.to_frame(), schema) == 50 - room
    start, length = spec.free_ids
    assert f"subscriber: {50 - room} of {len(more)} fresh ids have more digits than the " \
           f"real ids' form (S-######), from S-{max(10**6, spec.next_id)} on: fresh ids take " \
           f"the {length} ids S-{start:06d} to S-{start + length - 1:06d}, inside the " \
           "longest run of numbers no real id uses within the width, then numbers a gap " \
           "above the largest real id" in caplog.text and "synthetic: drop" in caplog.text


def test_random_integer_ids_get_fresh_ids_of_their_digits_and_a_warning_past_them(caplog):
    """Admission numbers drawn at random over 7 digits leave little room above the largest:
    fresh ids come from the longest run no real id uses, so they keep 7 digits; past that
    run they get an eighth, and postprocessing says so, as for zero-padded text ids."""
    rng = np.random.default_rng(2)
    real = rng.choice(np.arange(1_000_000, 10_000_000), 5_000, replace=False)
    df = pd.DataFrame({"admission_no": real, "x": rng.normal(size=real.size),
                       "y": rng.integers(0, 2, real.size)})
    schema = infer_schema(df, "y", {"admission_no": {"kind": "identifier"}})
    spec = schema.of_unlearned("identifier")[0]
    start, length = spec.free_ids
    assert start >= 10**6 and start + length <= 10**7 and length > 1_000
    fresh = fill_unlearned(pd.DataFrame(index=range(length)), schema)["admission_no"]
    assert fresh.dtype == np.int64 and fresh.is_unique and fresh.between(10**6, 10**7 - 1).all()
    assert not (set(fresh) | set(fresh - 1) | set(fresh + 1)) & set(real)
    with caplog.at_level(logging.WARNING, logger="synthbalance.core.unlearned"):
        assert log_longer_ids(fresh.to_frame(), schema) == 0 and not caplog.text
        room = max(0, 10**7 - spec.next_id)  # 7-digit ids above the largest real one
        more = fill_unlearned(pd.DataFrame(index=range(length + room + 5)),
                              schema)["admission_no"]
        assert more.is_unique and not set(more) & set(real)
        assert log_longer_ids(more.to_frame(), schema) == 5
    first = max(10**7, spec.next_id)
    assert f"admission_no: 5 of {len(more)} fresh ids have more digits than the real ids' " \
           f"form (#######), from {first} on" in caplog.text


def test_no_fresh_id_counts_back_to_a_real_one():
    """No fresh id lies next to a real one: a national id next to the largest real one,
    or to the end of a gap between real ones, would give that one away."""
    rng = np.random.default_rng(4)
    numbers = rng.choice(np.arange(1, 999_999), 800, replace=False)
    rows = rng.permutation(800) + 1  # a running number
    df = pd.DataFrame({"national_id": [f"NU{i:06d}A" for i in numbers], "row": rows,
                       "x": rng.normal(size=800), "y": rng.integers(0, 2, 800)})
    schema = infer_schema(df, "y")
    assert len(schema.of_unlearned("identifier")) == 2
    fresh = fill_unlearned(pd.DataFrame(index=range(20_000)), schema)
    for column, real in (("national_id", numbers), ("row", rows)):
        ids = fresh[column].astype(str).str.extract(r"(\d+)")[0].astype(int)
        assert not set(ids) & set(real), column
        assert not (set(ids - 1) | set(ids + 1)) & set(real), column  # counted back or on
        assert (ids > real.max()).any()  # past the free run too: a gap above the largest
    assert schema.of_unlearned("identifier")[0].next_id == \
        infer_schema(df.sample(frac=1, random_state=1), "y").of_unlearned("identifier")[0].next_id


def test_free_text_gets_placeholders_and_a_warning_never_words_of_a_real_value(caplog):
    rng = np.random.default_rng(2)
    words = np.array(["pump", "leak", "checked", "noisy", "bearing", "ok", "shift"])
    notes = [" ".join(rng.choice(words, 4)) + f" #{i:06d}" for i in range(400)]
    notes[:7] = [f"called Dr Smith re leak #{i:06d}" for i in range(7)]  # the one form of 7
    df = pd.DataFrame({"note": notes, "x": rng.normal(size=400), "y": rng.integers(0, 2, 400)})
    with caplog.at_level(logging.WARNING):
        _, schema = validate_raw_table(df, {"source": "x.csv", "target": "y"})
    assert [spec.name for spec in schema.of_unlearned("identifier")] == ["note"]
    rows = fill_unlearned(pd.DataFrame(index=range(50)), schema)["note"]
    assert list(rows[:2]) == ["note-1", "note-2"] and not rows.str.contains("Smith").any()
    assert "Column(s) ['note'] hold text with no common id form" in caplog.text
    assert "'note-1'" in caplog.text and "ingest.drop_columns=[note]" in caplog.text
    caplog.clear()  # ids of one shape keep their form, without the warning
    policies = [f"POL-{2012 + i % 11}-{i:06d}" for i in range(400)]  # no year has half
    with caplog.at_level(logging.WARNING):
        _, schema = validate_raw_table(df.assign(note=policies), {"source": "x.csv",
                                                                  "target": "y"})
    fresh = fill_unlearned(pd.DataFrame(index=range(3)), schema)["note"]
    assert fresh.str.fullmatch(r"POL-20\d\d-\d{6}").all() and not set(fresh) & set(policies)
    assert "no common id form" not in caplog.text


def test_synthetic_rows_come_in_the_table_order_also_after_a_saved_schema_round_trip():
    df = _table()[["y", "income", "customer", "amount", "site", "age", "region", "band", "row"]]
    schema = Schema.from_dict(json.loads(json.dumps(infer_schema(df, "y").to_dict())))
    learned = df[[*schema.names, "y"]].iloc[:5]  # as a generator decodes them: no id, no constant
    assert list(fill_unlearned(learned, schema).columns) == list(df.columns)
    old = Schema.from_dict({k: v for k, v in schema.to_dict().items() if k != "column_order"})
    assert set(fill_unlearned(learned, old).columns) == set(df.columns)  # saved before: any order


@pytest.mark.parametrize("arm", ["synthetic", "smote"])
def test_rows_added_to_the_advised_training_set_carry_fresh_ids_and_the_constant(arm):
    df = _table()
    schema = infer_schema(df, "y")
    synthetic = postprocess(df[df["y"] == 1], fit_postprocess(df, schema), schema)[0]
    advice = Advice(arm, 20, 0.1, 0.05, 0.2, 0.08, 0.01, 0.15, 0.4)
    added = augmented_rows(advice, df, synthetic, schema, seed=0).query(ADDED_COLUMN)
    assert len(added) == 20 and (added["site"] == "Lyon").all()
    assert added["customer"].notna().all() and not set(added["customer"]) & set(df["customer"])


# ------------------------------------------------------------------------ constants


def test_a_constant_is_reported_once_kept_and_out_of_fidelity_and_fix_counts(caplog):
    df = _table()
    with caplog.at_level(logging.INFO):
        _, schema = validate_raw_table(df, {"source": "x.csv", "target": "y"})
    assert sum("'site'" in r.getMessage() for r in caplog.records) == 1
    assert schema.to_dict()["columns"]["site"] == {"kind": "constant", "levels": ["Lyon"]}
    synth = df.assign(amount=df["amount"] + 5, site="elsewhere")
    clean, fixes = postprocess(synth, fit_postprocess(df, schema), schema)
    assert (clean["site"] == "Lyon").all()
    assert "site" not in set(fixes["column"])
    assert fix_totals(fixes)["postprocess.values_fixed"] == fix_totals(
        postprocess(synth.drop(columns="site"), fit_postprocess(df, schema), schema)[1]
    )["postprocess.values_fixed"]
    result = fidelity(df, clean, schema)
    assert "site" not in result["columns"]
    assert result["wasserstein_mean"] == pytest.approx(np.mean(list(result["columns"].values())))


# ------------------------------------------------------------------------- datetimes


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"])
def test_text_dates_round_trip_in_their_format_and_stay_in_the_training_range(fmt):
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 5 * 365 * 86400, N),
                                                           unit="s")
    df = _table().assign(when=stamps.strftime(fmt))
    df.loc[5, "when"] = None
    schema = infer_schema(df, "y")
    assert (schema["when"].kind, schema["when"].format) == ("datetime", fmt)
    transformer = TabularTransformer(seed=0).fit(df, schema)
    back = transformer.inverse_transform(transformer.transform(df))
    assert back["when"].equals(df["when"])
    wild = transformer.transform(df)
    wild[:, _offset_column(transformer, "when")] = rng.uniform(-1, 1, N) * 40
    synth = transformer.inverse_transform(wild).assign(y=0)
    clean, _ = postprocess(synth, fit_postprocess(df, schema), schema)
    parsed = pd.to_datetime(clean["when"], format=fmt)
    real = pd.to_datetime(df["when"], format=fmt)
    assert parsed.notna().sum() > N * 0.9 and clean["when"].dtype == object
    assert parsed.min() >= real.min() and parsed.max() <= real.max()


def test_a_datetime64_column_comes_back_with_its_unit_and_time_zone():
    stamps = pd.date_range("2021-06-01", periods=N, freq="37min", tz="America/New_York")
    df = _table().assign(when=pd.Series(stamps).astype("datetime64[s, America/New_York]"))
    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df, schema)
    back = transformer.inverse_transform(transformer.transform(df))
    assert back["when"].dtype == df["when"].dtype
    assert (back["when"] - df["when"]).abs().max() <= pd.Timedelta(1, "min")
    clean, _ = postprocess(back.assign(y=0), fit_postprocess(df, schema), schema)
    assert clean["when"].dtype == df["when"].dtype


def test_a_year_holding_most_of_the_minority_holds_as_much_of_its_synthetic_rows():
    """Learned as ordered numbers, a class's dates keep their own distribution: an imperfect
    generator (noisy offsets) still puts most synthetic minority dates in 2019."""
    rng = np.random.default_rng(0)
    n_min, n_maj = 200, 800
    in_2019 = rng.random(n_min) < 0.86
    minority = np.where(in_2019, pd.Timestamp("2019-01-01").value // 10**9
                        + rng.integers(0, 365 * 86400, n_min),
                        pd.Timestamp("2015-01-01").value // 10**9
                        + rng.integers(0, 8 * 365 * 86400, n_min))
    majority = pd.Timestamp("2015-01-01").value // 10**9 + rng.integers(0, 8 * 365 * 86400,
                                                                        n_maj)
    when = pd.to_datetime(np.concatenate([minority, majority]), unit="s").strftime("%Y-%m-%d")
    df = pd.DataFrame({"when": when, "x": rng.normal(size=n_min + n_maj),
                       "y": [1] * n_min + [0] * n_maj})
    schema = infer_schema(df, "y")
    transformer = TabularTransformer(seed=0).fit(df, schema)
    # exact, though float32 offsets of ~1.5e9 seconds err by seconds around midnight
    assert transformer.inverse_transform(transformer.transform(df))["when"].equals(df["when"])
    coded = transformer.transform(df[df["y"] == 1])
    coded[:, _offset_column(transformer, "when")] += rng.normal(0, 0.1, len(coded))
    synth = transformer.inverse_transform(coded).assign(y=1)
    clean, _ = postprocess(synth, fit_postprocess(df, schema), schema)
    real_share = (df.loc[df["y"] == 1, "when"].str[:4] == "2019").mean()
    assert abs((clean["when"].str[:4] == "2019").mean() - real_share) < 0.1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", clean["when"].iloc[0])


def test_a_version_2_transformer_state_without_formats_still_loads():
    df = _table()
    schema = infer_schema(df, "y")
    state = TabularTransformer(seed=0).fit(df, schema).to_state()
    assert state["version"] == 4
    for column in state["columns"]:
        del column["format"], column["anchor"], column["anchor_fill"], column["anchor_required"]
    old = TabularTransformer.from_state({**state, "version": 2})
    assert np.array_equal(old.transform(df), TabularTransformer.from_state(
        TabularTransformer(seed=0).fit(df, schema).to_state()).transform(df))


def test_smote_rows_of_several_minority_classes_get_one_numbering_of_fresh_ids():
    from synthbalance.pipelines.smote.nodes import smote_synthetic

    df = _table().assign(y=np.arange(N) % 3)  # three classes, two of them minority
    schema = infer_schema(df, "y", minority_classes=[1, 2])
    rows = smote_synthetic(df, df.iloc[:0], schema, {"n_rows": 30}, 0)
    assert sorted(rows["y"].unique()) == [1, 2] and len(rows) == 60
    assert rows["customer"].is_unique and rows["row"].is_unique
    assert not set(rows["customer"]) & set(df["customer"])


@pytest.mark.parametrize("kind", ["identifier", "constant", "datetime"])
def test_bounds_on_a_kind_that_takes_none_are_one_clear_error(kind):
    df = _table().assign(when=pd.date_range("2020-01-01", periods=N, freq="D").strftime("%Y-%m-%d"))
    column = {"identifier": "customer", "constant": "site", "datetime": "when"}[kind]
    with pytest.raises(ConfigError, match=rf"ingest.columns.{column}.bounds .* takes no bounds"):
        infer_schema(df, "y", {column: {"kind": kind, "bounds": [0, 10]}})
