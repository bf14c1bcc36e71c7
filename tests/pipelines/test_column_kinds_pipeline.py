"""Identifier, constant and datetime columns through the real Kedro pipelines."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd

from synthbalance.core.demo import make_demo_table
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.mlflow_model import SynthesizerModel

from ..conftest import run_kedro

STAGES = ["ingest", "preprocessing", "training", "sampling", "postprocessing", "evaluation"]


def test_ids_are_fresh_constants_kept_and_dates_written_back_after_a_real_run(project):
    table = make_demo_table(1500, seed=4)
    rng = np.random.default_rng(0)
    table.insert(0, "customer", [f"C-{i:05d}" for i in rng.permutation(len(table)) + 1])
    # customers without a number: a fifth of the rows, a third of those with the outcome
    gone = rng.random(len(table)) < np.where(table["outcome"] == 1, 1 / 3, 0.2)
    table["customer"] = table["customer"].where(~gone)
    table["site"] = "Lyon"
    days = rng.integers(0, 4 * 365, len(table))
    table["visit"] = (pd.Timestamp("2018-01-01") + pd.to_timedelta(days, unit="D")).strftime(
        "%d/%m/%Y")
    source = project / "kinds.csv"
    table.to_csv(source, index=False)
    run_kedro(project, STAGES, params={"ingest": {"source": str(source), "target": "outcome"}})

    data = project / "data"
    schema = json.loads((data / "02_intermediate/schema.json").read_text())["columns"]
    assert schema["customer"]["kind"] == "identifier"
    assert schema["site"] == {"kind": "constant", "levels": ["Lyon"]}
    assert schema["visit"]["kind"] == "datetime"
    learned = [c["name"] for c in json.loads(
        (data / "06_models/transformer.json").read_text())["columns"]]
    assert "visit" in learned and not {"customer", "site"} & set(learned)
    saved = [p for p in (data / "06_models").rglob("generator.pt") if p.is_file()]
    generator = Synthesizer.load(saved[0]).generator  # the default family, conditional
    assert not {"customer", "site"} & {span.column for span in generator.layout}

    rows = pd.read_parquet(data / "07_model_output/synthetic_rows.parquet")
    assert list(rows.columns) == list(table.columns)  # the table's order, id first
    ids = rows["customer"].dropna()
    assert len(rows) > 0 and ids.is_unique and ids.str.fullmatch(r"C-\d{5}").all()
    assert not set(ids) & set(table["customer"])
    train = pd.read_parquet(data / "05_model_input/train_rows.parquet")
    real = train.loc[train["outcome"] == 1, "customer"].isna().mean()  # the class's share
    assert abs(rows["customer"].isna().mean() - real) < 0.1 < real
    assert (rows["site"] == "Lyon").all()
    visits = pd.to_datetime(rows["visit"], format="%d/%m/%Y")
    real = pd.to_datetime(table["visit"], format="%d/%m/%Y")
    assert visits.notna().all() and real.min() <= visits.min() <= visits.max() <= real.max()

    fixes = pd.read_csv(data / "08_reporting/postprocess_fixes.csv")
    fidelity = pd.read_csv(data / "08_reporting/fidelity_columns.csv")
    assert not {"customer", "site"} & (set(fixes["column"]) | set(fidelity["column"]))

    # the logged MLflow model (its predict on the saved model file): one request's rows
    # are numbered on across its input rows, and id_offset continues the pipeline's rows
    model = SynthesizerModel()
    model.load_context(SimpleNamespace(artifacts={"synthesizer": saved[0]}))
    asked = model.predict(None, pd.DataFrame({"n_rows": [30, 20], "seed": [1, 2]}))
    assert asked["customer"].dropna().is_unique and asked["customer"].isna().any()
    later = model.predict(None, pd.DataFrame({"n_rows": [25], "id_offset": [len(rows)]}))
    both = pd.concat([rows["customer"], later["customer"]]).dropna()
    assert both.is_unique and not set(both) & set(table["customer"])
    one = Synthesizer.load(saved[0])
    pd.testing.assert_series_equal(
        one.sample(25, seed=0, clean=True, id_offset=len(rows))["customer"],
        later["customer"], check_index=False)
