"""Nodes and pipelines of ingest, profiling and preprocessing, on small real tables."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import ParquetDataset
from rich.console import Console
from rich.logging import RichHandler

from synthbalance.core.advice import Advice
from synthbalance.core.errors import ConfigError
from synthbalance.core.metrics import unique_copy_mask
from synthbalance.core.schema import infer_schema
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.validation import label_proxies
from synthbalance.datasets import TransformerDataset
from synthbalance.pipelines import ingest, preprocessing, profiling
from synthbalance.pipelines.advice.nodes import SYNTHETIC_PATH, write_verdict
from synthbalance.pipelines.evaluation.nodes import evaluate_privacy
from synthbalance.pipelines.ingest.nodes import summarise_table, validate_raw_table
from synthbalance.pipelines.preprocessing.nodes import encode_rows, fit_transformer, split_rows
from synthbalance.pipelines.profiling.nodes import profile_table

PREP = {"test_size": 0.3, "scarce_minority_rows": None}


def test_validate_raw_table_builds_in_demo_hints_and_leaves_the_input_alone(demo, caplog):
    caplog.set_level(logging.INFO, logger="synthbalance")
    before = demo.copy()
    validated, schema = validate_raw_table(demo, {"source": "demo"})
    pd.testing.assert_frame_equal(demo, before)
    assert schema.target == "outcome" and schema.minority_classes == (1,)
    assert schema["bad_mental_days"].bounds == (0.0, 30.0)
    kinds = {c.kind for c in schema.columns}
    assert kinds == {"ordinal", "binary", "continuous", "count", "categorical"}
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Column kinds")]
    assert len(logged) == 1 and "count: bad_mental_days" in logged[0]
    for spec in schema.columns:  # every learned column, under its own kind
        assert f"{spec.kind}: " in logged[0] and spec.name in logged[0]
    summary = summarise_table(validated, schema)
    assert summary["data.minority_share"] == pytest.approx(demo["outcome"].mean())


def test_a_deployment_prevalence_for_a_class_the_table_lacks_stops_the_run_at_ingest(demo):
    """Before any training: the utility experiment would only find it at the end."""
    with pytest.raises(ConfigError, match=r"names \[3\], which are not minority classes"):
        validate_raw_table(demo, {"source": "demo"}, None,
                           {"deployment_prevalence": {1: 0.05, 3: 0.1}})
    _, schema = validate_raw_table(demo, {"source": "demo"}, None,
                                   {"deployment_prevalence": {1: 0.05}})
    assert schema.minority_classes == (1,)


def test_a_column_that_gives_the_label_away_is_named_with_the_fix(demo, caplog):
    caplog.set_level(logging.INFO, logger="synthbalance")
    leaky = demo.assign(flag=demo["outcome"].map({0: "paid", 1: "charged back"}))
    validate_raw_table(leaky, {"source": "demo"})
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any(r.getMessage().startswith("Column(s) ['flag'] give the label away") and
               "ingest.drop_columns=[flag]" in r.getMessage() for r in warned), warned
    # as Kedro's rich handler prints it (markup on): "[flag]" is not taken for a style tag
    console = Console(file=io.StringIO(), width=400)
    handler = RichHandler(console=console, markup=True, show_time=False, show_path=False)
    for record in warned:
        handler.emit(record)
    assert "ingest.drop_columns=[flag]." in console.file.getvalue()
    caplog.clear()
    validate_raw_table(demo, {"source": "demo"})  # no column of the demo table does
    assert not [r for r in caplog.records if "label away" in r.getMessage()]
    # a value only one class has, missing for the other, counts; a mixed one does not
    reason = np.where(demo["outcome"] == 1, "card stolen", None)
    assert label_proxies(*validate_raw_table(demo.assign(reason=reason), {"source": "demo"})) \
        == ["reason"]
    reason[demo.index[demo["outcome"] == 0][0]] = "card stolen"
    assert label_proxies(*validate_raw_table(demo.assign(reason=reason), {"source": "demo"})) \
        == []
    # filled in for one class only, with as many values as rows (trial C: a cancellation
    # date of churners): whether it is filled in gives the label away
    ones = demo["outcome"].to_numpy() == 1
    stamp = np.where(ones, np.arange(len(demo)) * 1.5, np.nan)
    assert label_proxies(*validate_raw_table(demo.assign(cancelled=stamp), {"source": "demo"})) \
        == ["cancelled"]
    stamp[np.flatnonzero(~ones)[0]] = 7.0
    assert label_proxies(*validate_raw_table(demo.assign(cancelled=stamp), {"source": "demo"})) \
        == []


def test_a_column_that_repeats_another_is_named_with_the_fix(demo, caplog):
    copied = demo.assign(glucose_again=demo["glucose"], region_code=demo["region"])
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        validate_raw_table(copied, {"source": "demo"})
    assert "Column(s) {'glucose_again': 'glucose', 'region_code': 'region'} repeat an " \
           "earlier column" in caplog.text
    assert "ingest.drop_columns=[glucose_again, region_code]" in caplog.text
    caplog.clear()
    near = copied.assign(glucose_again=copied["glucose"].fillna(0.0))  # not where missing
    near["region_code"] = near["region_code"].where(near.index != 5, "elsewhere")
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        validate_raw_table(near, {"source": "demo"})
    assert "repeat an earlier column" not in caplog.text


def test_dates_that_thousands_dot_would_make_numbers_are_warned_of_and_kept_as_text(
        demo, tmp_path, caplog):
    from synthbalance.datasets import SourceTableDataset

    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(len(demo)) % 2000, "D")
    path = tmp_path / "claims.csv"
    demo.assign(opened=days.strftime("%d.%m.%Y"), amount=[f"{1000 + 7 * i:,}".replace(
        ",", ".") for i in range(len(demo))]).to_csv(path, sep=";", index=False)
    read = {"sep": ";", "thousands": "."}
    ingest = {"source": str(path), "target": "outcome", "read_options": read}
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        _, schema = validate_raw_table(SourceTableDataset(str(path), read).load(), ingest)
    assert schema["opened"].kind == "integer" and schema["amount"].kind == "integer"
    assert "Column(s) ['opened'] read as whole numbers that are all dates written " \
           "dd.mm.yyyy" in caplog.text and "ingest.read_options.dtype={opened: str}" in \
           caplog.text
    caplog.clear()
    read = {**read, "dtype": {"opened": "str"}}
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        _, schema = validate_raw_table(SourceTableDataset(str(path), read).load(),
                                       {**ingest, "read_options": read})
    assert schema["opened"].kind == "datetime" and "dd.mm.yyyy" not in caplog.text
    assert schema["opened"].format == "%d.%m.%Y"
    assert schema["amount"].kind == "integer"  # 1.007 read as 1007


def test_split_is_stratified_and_the_scarce_cut_keeps_the_rest(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(demo, schema, {**PREP, "scarce_minority_rows": 50}, 0)
    assert len(test) == pytest.approx(0.3 * len(demo), abs=1)
    assert abs(test["outcome"].mean() - demo["outcome"].mean()) < 0.01
    assert (train["outcome"] == 1).sum() == 50
    assert (held["outcome"] == 1).all() and len(held) > 0
    # every row lands in exactly one of the three
    assert sorted([*train.index, *test.index, *held.index]) == sorted(demo.index)


@pytest.mark.parametrize(("declared", "said"), [
    (None, "the training split's minority share before the scarce cut"),
    (0.05, "5.0 %, the deployment prevalence, as evaluation.deployment_prevalence declares"),
])
def test_the_verdict_says_where_the_deployment_prevalence_comes_from(demo, declared, said):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(demo, schema, {**PREP, "scarce_minority_rows": 50}, 0)
    advice = Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4).to_dict()
    text = write_verdict(advice, train, held, test, schema, {"deployment_prevalence": declared},
                         {})
    assert said in text
    before_cut = 100 * (train["outcome"].sum() + len(held)) / (len(train) + len(held))
    assert (f"{before_cut:.1f} %" in text) == (declared is None)
    assert f"{test['outcome'].mean():.4f} ranking at random" in text


def test_a_perfect_baseline_verdict_counts_the_validation_minority_rows(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(demo, schema, PREP, 0)
    validation = train.iloc[::5]
    advice = Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4, validation_pr_auc_baseline=1.0).to_dict()
    text = write_verdict(advice, train, held, test, schema, {}, {}, None, None, validation)
    n = int((validation["outcome"] == 1).sum())
    assert f"ranks all {n} validation minority rows above every other row" in text


def test_the_verdict_of_a_private_run_gives_its_budget_and_what_it_leaves_out(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(demo, schema, PREP, 0)
    advice = Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4).to_dict()
    plain = write_verdict(advice, train, held, test, schema, {}, {})
    private = write_verdict(advice, train, held, test, schema, {}, {}, None, None, None,
                            {"privacy": {"epsilon": 4, "delta": 1e-6}})
    assert "DP-SGD" not in plain and private.startswith(plain.strip())
    said = private.split("\n\n")[-1]
    assert said.startswith("Private training: DP-SGD trained the generator within epsilon = 4, "
                           "delta = 1e-06") and "privacy.not_covered" in said


def test_the_verdict_warns_before_sharing_rows_that_copy_unique_real_rows(demo):
    """The privacy node's own count reaches the printed advice, and clean rows add nothing."""
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(demo, schema, {**PREP, "scarce_minority_rows": 50}, 0)
    unseen = test[test["outcome"] == 1]
    advice = Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4).to_dict()
    texts = {}
    for copies in (0, 3):
        synthetic = pd.concat([unseen, train[train["outcome"] == 1].head(copies)])
        metrics = evaluate_privacy(train, train.iloc[:0], test, held, synthetic, schema, {}, 0)
        assert metrics["privacy.unique_row_copies"] == copies
        # continuous columns: no real row lands on a unique training row by chance
        assert metrics["privacy.unique_row_chance_share"] == 0.0
        assert metrics["privacy.unique_row_copies_beyond_chance"] == copies
        assert unique_copy_mask(train, synthetic, schema).sum() == copies  # what docs drop
        texts[copies] = write_verdict(advice, train, held, test, schema, {}, metrics)
    assert "Privacy" not in texts[0]
    advice_said = texts[0].split("\n\n")[0]
    assert texts[3].startswith(advice_said)
    # the attacks' figures reach the paragraph on the rows, as the privacy node logged them
    assert f"DCR AUC {metrics['privacy.dcr_auc']:.3f}" in texts[3].split("\n\n")[1]
    assert "Privacy: 3 synthetic rows equal a training row that no other real row equals" \
        in texts[3]
    assert SYNTHETIC_PATH in texts[3]


def test_transformer_is_fitted_on_training_rows_only(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    train, _, _ = split_rows(demo, schema, PREP, 0)
    transformer = fit_transformer(train, schema, PREP, 0)
    # a level that only a test row could have is not in the fitted levels
    state = {c["name"]: c for c in transformer.to_state()["columns"]}
    assert set(state["region"]["levels"]) == set(train["region"].dropna())
    encoded = encode_rows(train, transformer)
    assert encoded.shape == (len(train), transformer.layout.width)
    assert encoded.dtypes.unique().tolist() == [np.dtype("float32")]


def test_class_modes_are_logged_and_preprocessing_class_modes_false_turns_them_off(caplog):
    """100 rows of class 1 (0.5 %) far out in ``x`` and like the rest in ``z``."""
    caplog.set_level(logging.INFO, logger="synthbalance")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": np.r_[rng.normal(0, 1, 20_000), rng.normal(12, 2, 100)],
                       "z": rng.normal(0, 1, 20_100),
                       "y": np.r_[np.zeros(20_000, int), np.ones(100, int)]})
    schema = infer_schema(df, "y", {c: {"kind": "continuous"} for c in "xz"})
    with_modes = fit_transformer(df, schema, {}, 0).to_state()
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Class modes")]
    assert len(logged) == 1 and "in 1 of the 2 columns encoded with modes" in logged[0]
    assert logged[0].count("(+") == 1 and "x (+2 modes)" in logged[0]
    caplog.clear()
    without = fit_transformer(df, schema, {"class_modes": False}, 0).to_state()
    assert without == TabularTransformer(seed=0).fit(df[["x", "z"]], schema).to_state()
    assert without != with_modes
    assert [r.getMessage() for r in caplog.records if "Class modes" in r.getMessage()] == [
        "Class modes: off (preprocessing.class_modes=false); the encoding is fitted on the "
        "columns alone."]


def test_profile_is_a_ydata_profiling_html_report(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})
    html = profile_table(demo, schema, {"minimal": True, "sample_rows": 300}, 0)
    assert html.lstrip().lower().startswith("<!doctype html") and "ydata" in html.lower()
    assert "bad_mental_days" in html


def test_data_pipelines_run_on_an_in_memory_catalog(demo, tmp_path):
    pipeline = ingest.create_pipeline() + profiling.create_pipeline() + \
        preprocessing.create_pipeline()
    catalog = DataCatalog({
        "raw_table": MemoryDataset(demo),
        "params:ingest": MemoryDataset({"source": "demo"}),
        "params:profiling": MemoryDataset({"minimal": True, "sample_rows": 300}),
        "params:preprocessing": MemoryDataset(PREP),
        "params:evaluation": MemoryDataset({}),
        "params:seed": MemoryDataset(0),
        # the outputs we read back are files (the runner releases memory datasets)
        **{name: ParquetDataset(filepath=str(tmp_path / f"{name}.parquet"))
           for name in ("train_rows", "test_rows", "train_encoded")},
        "transformer": TransformerDataset(filepath=str(tmp_path / "transformer.json")),
    })
    SequentialRunner().run(pipeline, catalog)
    train, test = catalog.load("train_rows"), catalog.load("test_rows")
    assert len(train) + len(test) == len(demo)
    transformer = catalog.load("transformer")
    back = transformer.inverse_transform(catalog.load("train_encoded").to_numpy())
    assert (back["region"].fillna("?").to_numpy() == train["region"].fillna("?").to_numpy()).all()


def test_same_seed_gives_the_same_split_and_encoding(demo):
    _, schema = validate_raw_table(demo, {"source": "demo"})

    def prepare(seed):
        train, test, _ = split_rows(demo, schema, PREP, seed)
        return train, test, encode_rows(train, fit_transformer(train, schema, PREP, seed))

    a, b, c = prepare(7), prepare(7), prepare(8)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y)
    assert not a[0].index.equals(c[0].index)
