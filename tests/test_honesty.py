"""The project stays honest through its real wiring, not only in its functions.

- Nothing fitted or chosen (transformer, cleaning rules, scarce cut, SMOTE, generator, the
  utility classifier) learns from a test-split row: by the pipeline graph of every
  registered pipeline, and by canaries, values only test rows hold, fed through a real run.
- The cleaning stage makes any row legal, however broken.
- A conditional generator's rows for class c are told to be of class c by a classifier of
  real rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner
from xgboost import XGBClassifier

from synthbalance.branches import generator_branches, set_run_parameters
from synthbalance.core.demo import make_demo_table
from synthbalance.core.split import split_table
from synthbalance.core.validation import validate_table
from synthbalance.pipeline_registry import register_pipelines
from synthbalance.pipelines import postprocessing, sampling, training
from synthbalance.pipelines.ingest.nodes import validate_raw_table
from synthbalance.pipelines.postprocessing.nodes import fit_cleaning_rules
from synthbalance.pipelines.preprocessing.nodes import (
    carve_validation,
    encode_rows,
    fit_transformer,
    split_rows,
)

from .conftest import make_project, mlflow_runs, run_kedro

# ------------------------------------------------------------------ the pipeline graph

#: Datasets that hold something fitted on, or drawn from, the training rows.
FITTED = ("transformer", "train_encoded", "cleaning_rules", "generator", "synthetic_branch",
          "synthetic_raw", "synthetic_rows")
#: Read by every stage but learnt from no row: the schema describes the table's columns
#: (kinds, declared bounds) before the split, and nothing fitted takes values from it.
NOT_LEARNT = {"schema"}


def _sources(pipeline: Pipeline, dataset: str) -> set[str]:
    """The datasets ``dataset`` is made from, followed back to the split's outputs (or to
    a dataset no node makes), parameters and the schema left out."""
    makers = {out: node for node in pipeline.nodes for out in node.outputs}
    found, todo, seen = set(), [dataset], set()
    while todo:
        name = todo.pop()
        node = makers.get(name)
        if name in seen or name.startswith("params:") or name.rsplit(".", 1)[-1] in NOT_LEARNT:
            continue
        seen.add(name)
        if node is None or node.name.rsplit(".", 1)[-1] == "split_rows":
            found.add(name.rsplit(".", 1)[-1])
        else:
            todo.extend(node.inputs)
    return found


@pytest.mark.parametrize("params", [
    {"training": {"model": "wcgan_gp", "strategy": "conditional"}},
    {"training": {"model": "vae", "strategy": "per_class"},
     "ingest": {"minority_classes": [1, 2]}},
], ids=["conditional", "per_class"])
def test_everything_fitted_is_made_from_the_training_rows_alone(params):
    set_run_parameters(params)
    try:
        pipelines = register_pipelines()
    finally:
        set_run_parameters(None)
    checked = 0
    for name, pipeline in pipelines.items():
        if "split_rows" not in {node.name.rsplit(".", 1)[-1] for node in pipeline.nodes}:
            continue  # a stage that reads what another made: judged in the composites
        for dataset in pipeline.all_outputs():
            if dataset.rsplit(".", 1)[-1] in FITTED:
                assert _sources(pipeline, dataset) == {"train_rows"}, (name, dataset)
                checked += 1
    assert checked >= 14  # preprocessing, __default__, smote_reference and grid, all outputs


def test_smote_reference_rows_are_made_without_the_validation_rows():
    """As a generator: SMOTE rows between validation rows would flatter every figure read
    on them (thresholds, the validation PR AUC gain)."""
    from synthbalance.pipelines.smote.nodes import smote_synthetic

    table = make_demo_table(2000, seed=1)
    validated, schema = validate_table(table, "outcome")
    train, _ = split_table(validated, schema, 0.3, SEED)
    validation = train[train["outcome"] == 1].sample(frac=0.3, random_state=0)
    train.loc[validation.index, "glucose"] = CANARY_GLUCOSE  # only validation rows have it
    rows = smote_synthetic(train, validation, schema, {"n_rows": 500}, SEED)
    assert len(rows) == 500 and rows["glucose"].max() < 1e4


# ------------------------------------------------------------------ canaries in a real run

CANARY_REGION, CANARY_GLUCOSE, CANARY_INCOME, CANARY_BAND = "canary-region", 1e6, 99.0, 3
SEED = 7


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory):
    """A full default run and a SMOTE run on a table whose test rows carry canaries:
    a region, a glucose level, income bands (beyond the training levels, and in the gap of
    ``band``'s, 1 and 5) and missing costs no training row has, and a ``leak`` column that
    equals the label in the test rows only (noise elsewhere)."""
    table = make_demo_table(3000, seed=5)
    validated, schema = validate_table(table, "outcome")
    _, test = split_table(validated, schema, 0.3, SEED)  # the split the run will make
    rows = test.index.to_numpy()
    rng = np.random.default_rng(0)
    table.loc[rows[::3], "region"] = CANARY_REGION
    table.loc[rows, "glucose"] = CANARY_GLUCOSE
    table.loc[rows[1::3], "income_band"] = CANARY_INCOME
    table.loc[rows[2::3], "annual_cost"] = np.nan
    table["band"] = rng.choice([1, 5], len(table))
    table.loc[rows[::2], "band"] = CANARY_BAND
    table["leak"] = rng.integers(0, 2, len(table))
    table.loc[rows, "leak"] = table.loc[rows, "outcome"]
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = make_project(tmp_path_factory.mktemp("canary"), monkeypatch)
        source = project / "canary.csv"
        table.to_csv(source, index=False)
        params = {"seed": SEED, "ingest": {"source": str(source), "target": "outcome"},
                  "preprocessing": {"scarce_minority_rows": 120}}
        run_kedro(project, params=params)
        before = _files(project / "data")
        run_kedro(project, ["smote_reference"], params=params)
        yield project, set(rows), before


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> contents)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _read_csv(project: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(project / "data" / name).set_index("metric")


def _read(project: Path, name: str):
    path = project / "data" / name
    return pd.read_parquet(path) if path.suffix == ".parquet" else json.loads(path.read_text())


def test_the_split_and_the_scarce_cut_keep_test_rows_apart(canary_run):
    project, test_rows, _ = canary_run
    train = _read(project, "05_model_input/train_rows.parquet")
    held_back = _read(project, "05_model_input/held_back_rows.parquet")
    assert set(_read(project, "05_model_input/test_rows.parquet").index) == test_rows
    assert not test_rows & (set(train.index) | set(held_back.index))
    assert len(held_back) > 0 and (held_back["outcome"] == 1).all()
    assert (train["outcome"] == 1).sum() == 120


def test_after_a_scarce_cut_the_verdict_names_the_share_validation_rows_were_weighted_to(
    canary_run,
):
    project, *_ = canary_run
    train = _read(project, "05_model_input/train_rows.parquet")
    held_back = _read(project, "05_model_input/held_back_rows.parquet")
    before_cut = ((train["outcome"] == 1).sum() + len(held_back)) / (len(train) + len(held_back))
    said = (project / "data/08_reporting/advice.txt").read_text()
    assert (f"weigh minority rows to a share of {100 * before_cut:.1f} %, the deployment "
            "prevalence, the training split's minority share before the scarce cut") in said
    # the cut is in the runs' names, so they are not taken for runs on the whole table
    names = set(mlflow_runs(project)["tags.mlflow.runName"])
    assert f"cvae-conditional-canary-scarce120-seed{SEED}" in names
    assert all("-scarce120-" in name for name in names)


def test_the_verdict_reads_the_rows_figures_the_run_logged(canary_run):
    """The paragraph on the synthetic rows in advice.txt quotes the run's own detection,
    distance and attack figures (metrics.csv), not another run's or none."""
    project, *_ = canary_run
    metrics = _read_csv(project, "08_reporting/metrics.csv")["value"]
    advice, rows = (project / "data/08_reporting/advice.txt").read_text().split("\n\n")[:2]
    assert f"{metrics['utility.test_prevalence']:.4f} ranking at random" in advice
    assert rows.startswith("The synthetic rows (data/07_model_output/synthetic_rows.parquet)")
    for name, said in (("detection.accuracy", "accuracy {:.3f}"),
                       ("detection.reference_accuracy", "real training rows score {:.3f}"),
                       ("fidelity.wasserstein_mean", "real test rows {:.3f}"),
                       ("privacy.dcr_auc", "DCR AUC {:.3f}"),
                       ("privacy.domias_auc", "DOMIAS AUC {:.3f}")):
        assert said.format(metrics[name]) in rows, name


def test_no_fitted_state_holds_a_value_only_test_rows_have(canary_run):
    project, *_ = canary_run
    codecs = {c["name"]: c for c in _read(project, "06_models/transformer.json")["columns"]}
    assert CANARY_REGION not in codecs["region"]["levels"]
    assert CANARY_INCOME not in codecs["income_band"]["levels"]
    assert codecs["band"]["levels"] == [1, 5]
    assert max(codecs["glucose"]["means"]) < 1e4
    assert not codecs["annual_cost"]["nullable"]
    rules = {c["name"]: c for c in _read(project, "06_models/cleaning_rules.json")["columns"]}
    assert CANARY_REGION not in rules["region"]["levels"]
    assert CANARY_INCOME not in rules["income_band"]["levels"]
    assert rules["band"]["levels"] == [1, 5]
    assert rules["glucose"]["high"] < 1e4 and max(rules["glucose"]["quantiles"]) < 1e4
    assert rules["annual_cost"]["missing_rate"] == 0.0


@pytest.mark.parametrize("made_by", ["generator", "smote"])
def test_no_synthetic_row_carries_a_test_canary(canary_run, made_by):
    project, *_ = canary_run
    raw = _read(project, "07_model_output/synthetic_raw.parquet" if made_by == "generator"
                else "07_model_output/smote_reference/synthetic_raw.parquet")
    assert len(raw) > 0
    assert CANARY_REGION not in set(raw["region"].dropna())
    assert CANARY_INCOME not in set(raw["income_band"].dropna())
    assert set(raw["band"]) <= {1, 5}
    assert raw["glucose"].max() < 1e4


@pytest.mark.parametrize("folder", ["", "smote_reference/"], ids=["generator", "smote"])
def test_the_utility_classifier_never_learns_from_test_rows(canary_run, folder):
    """Trained on the test rows, xgboost would read ``leak`` and score a PR AUC near 1."""
    project, *_ = canary_run
    metrics = _read_csv(project, f"08_reporting/{folder}metrics.csv")
    assert metrics.loc["utility.pr_auc_baseline", "value"] < 0.8


def test_a_smote_reference_run_leaves_a_generator_runs_files_as_they_were(canary_run):
    """The SMOTE reference writes only under ``smote_reference/`` folders: the generator
    run's rows, advice and advised training set still belong together."""
    project, _, before = canary_run
    after = _files(project / "data")
    own = {name for name in after if "smote_reference" in Path(name).parts}
    assert {name: after[name] for name in set(after) - own} == before
    assert {"07_model_output/smote_reference/synthetic_rows.parquet",
            "08_reporting/smote_reference/metrics.csv"} <= own
    smote_rows = _read(project, "07_model_output/smote_reference/synthetic_rows.parquet")
    assert not smote_rows.equals(_read(project, "07_model_output/synthetic_rows.parquet"))
    runs = mlflow_runs(project).set_index("tags.model")
    assert runs.loc["smote", "metrics.data.minority_share"] > 0  # what ingest measured
    table = _read_csv(project, "08_reporting/smote_reference/metrics.csv")
    assert runs.loc["smote", "metrics.utility.pr_auc_gain"] == pytest.approx(
        table.loc["utility.pr_auc_gain", "value"], rel=1e-12)


# ------------------------------------------------------------------ cleaning broken rows


def _broken_rows(train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Training rows with every kind of defect a generator (or a user) could hand over."""
    rows = train.sample(600, replace=True, random_state=1).reset_index(drop=True)
    n = len(rows)
    rows["bad_mental_days"] = rng.normal(10, 25, n)               # negative, fractional, > 30
    rows["bad_physical_days"] = rng.choice([-3.0, 31.0, 4.5, np.inf, -np.inf], n)
    rows["age_band"] = rng.uniform(-5, 20, n)                     # between and beyond levels
    rows["income_band"] = np.where(rng.random(n) < 0.5, np.nan, 12.4)  # far too many missing
    rows["smoker"] = rng.uniform(-1, 2, n)                        # a binary of 0.7
    rows["glucose"] = rng.choice([1e9, -1e9, np.nan, 100.0], n)
    rows["annual_cost"] = rows["annual_cost"].astype(object)
    rows.loc[::7, "annual_cost"] = "n/a"                          # text in a number column
    rows["region"] = rng.choice(["mars", "North", None, "south"], n)
    rows["insurance"] = 7                                         # a number for a category
    return rows


def test_clean_rows_obey_every_bound_and_level_on_broken_input(demo):
    validated, schema = validate_raw_table(demo, {"source": "demo"})
    train, _, _ = split_rows(validated, schema, {"test_size": 0.3}, 0)
    broken = _broken_rows(train, np.random.default_rng(0))
    catalog = DataCatalog({"train_rows": MemoryDataset(train), "schema": MemoryDataset(schema),
                           "synthetic_raw": MemoryDataset(broken),
                           "params:postprocessing": MemoryDataset({}),
                           "params:seed": MemoryDataset(0)})
    SequentialRunner().run(postprocessing.create_pipeline(), catalog)
    clean = catalog.load("synthetic_rows")
    rules = fit_cleaning_rules(train, schema)  # what the run fitted (released after use)
    assert len(clean) == len(broken)
    for col in rules.columns:
        values = clean[col.name].dropna()
        if col.low is not None or col.high is not None:
            numbers = pd.to_numeric(values, errors="raise").astype(float)
            assert numbers.between(col.low, col.high).all(), col.name
        if col.levels:
            assert set(values) <= set(col.levels), col.name
        share = clean[col.name].isna().mean()
        assert share <= max(2 * col.missing_rate, 0.02), (col.name, share, col.missing_rate)
        assert str(clean[col.name].dtype) == col.dtype or clean[col.name].isna().any(), col.name
    assert catalog.load("postprocess_metrics")["postprocess.values_fixed"] > len(broken)


# ------------------------------------------------------------------ conditional rows


def _three_classes(n: int = 2400, seed: int = 0) -> pd.DataFrame:
    """Classes a (majority), b and c with clearly different rows."""
    rng = np.random.default_rng(seed)
    label = rng.choice(np.array(["a", "b", "c"]), n, p=[0.7, 0.15, 0.15])
    centre = pd.Series(label).map({"a": 0.0, "b": 4.0, "c": 8.0}).to_numpy()
    home = pd.Series(label).map({"a": "x", "b": "y", "c": "z"}).to_numpy()
    kind = np.where(rng.random(n) < 0.8, home, rng.choice(["x", "y", "z"], n))
    return pd.DataFrame({"size": centre + rng.normal(0, 1, n), "kind": kind,
                         "visits": rng.poisson(1 + centre / 2), "label": label})


def test_conditional_rows_of_each_class_are_told_to_be_of_that_class():
    table = _three_classes()
    validated, schema = validate_raw_table(table, {"source": "t.csv", "target": "label",
                                                   "minority_classes": ["b", "c"]})
    train, _, _ = split_rows(validated, schema, {"test_size": 0.3}, 0)
    transformer = fit_transformer(train, schema, {}, 0)
    validation = carve_validation(train, schema, {}, 0)
    params = {"training": {"model": "cvae", "strategy": "conditional", "epochs": 120,
                           "batch_size": 200, "check_every": 120, "hidden_dims": [64]},
              "ingest": {"minority_classes": ["b", "c"]}}
    branches = generator_branches(params)
    catalog = DataCatalog({
        "train_rows": MemoryDataset(train), "schema": MemoryDataset(schema),
        "transformer": MemoryDataset(transformer),
        "train_encoded": MemoryDataset(encode_rows(train, transformer)),
        "validation_rows": MemoryDataset(validation),
        "params:training": MemoryDataset(params["training"]),
        "params:sampling": MemoryDataset({"n_rows": 500}), "params:seed": MemoryDataset(0),
    })
    SequentialRunner().run(training.create_pipeline(branches=branches)
                           + sampling.create_pipeline(branches=branches), catalog)
    synthetic = catalog.load("synthetic_raw")
    detector = _class_detector(train)
    for cls in ("b", "c"):
        rows = synthetic[synthetic["label"] == cls]
        assert len(rows) == 500
        assigned = detector(rows)
        assert (assigned == cls).mean() > 0.8, (cls, pd.Series(assigned).value_counts())


def _class_detector(real: pd.DataFrame):
    """A classifier of real rows' class from their features, as a function of rows."""
    def features(df: pd.DataFrame) -> np.ndarray:
        return np.column_stack([df["size"], df["visits"], pd.get_dummies(df["kind"])
                                .reindex(columns=["x", "y", "z"], fill_value=0)])

    classes = np.array(sorted(real["label"].unique()))
    model = XGBClassifier(n_estimators=50, max_depth=3, random_state=0)
    model.fit(features(real), np.searchsorted(classes, real["label"]))
    return lambda df: classes[model.predict(features(df))]


# ------------------------------------------------------------------ a broken conf/


def test_a_broken_conf_stops_the_pipeline_registry_with_a_clear_error(project):
    from synthbalance.core.errors import ConfigError

    set_run_parameters(None)  # no run under way: the registry reads conf/
    local = project / "conf/local/parameters_mine.yml"
    local.write_text("training:\n  strategy: sideways\n")
    with pytest.raises(ConfigError, match=r"'training.strategy' is 'sideways'"):
        register_pipelines()
    local.write_text("training: {model: [unclosed\n")
    with pytest.raises(ConfigError, match=r"parameters.*cannot be read.*parameters_mine.yml"):
        register_pipelines()


# ------------------------------------------------------------------ validation rows


@pytest.mark.parametrize("model", ["cvae", "vae"])
def test_no_generator_trains_on_a_validation_row(demo, model):
    from synthbalance.core.models.callbacks import EpochTimer
    from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer

    validated, schema = validate_raw_table(demo, {"source": "demo"})
    train, _, _ = split_rows(validated, schema, {"test_size": 0.3}, 0)
    validation = carve_validation(train, schema, {}, 0)
    transformer = fit_transformer(train, schema, {}, 0)
    timer = EpochTimer()
    plan = TrainingPlan(model, {"epochs": 1, "hidden_dims": [8], "check_every": 1},
                        class_value=None if model == "cvae" else 1)
    train_synthesizer(train, transformer.transform(train), transformer, schema, plan,
                      progress=False, callbacks=[timer], validation=validation)
    kept = train.drop(index=validation.index)
    expected = len(kept) if model == "cvae" else int((kept["outcome"] == 1).sum())
    assert timer.n_rows == expected


def test_the_advice_never_reads_the_test_split(demo):
    """Scramble the test split's labels and features: the advice may not change."""
    from synthbalance.pipelines.advice.nodes import choose_arm
    from synthbalance.pipelines.evaluation.nodes import evaluate_utility

    validated, schema = validate_raw_table(demo, {"source": "demo"})
    train, test, held = split_rows(validated, schema, {"test_size": 0.3}, 0)
    validation = carve_validation(train, schema, {}, 0)
    scrambled = test.assign(outcome=np.random.default_rng(0).permutation(test["outcome"]),
                            glucose=test["glucose"][::-1].to_numpy())
    synthetic = train[train["outcome"] == 1].drop(index=validation.index, errors="ignore")
    evaluation = {"seeds": 1, "k_ratios": [1.0], "n_trees": 30, "n_bootstrap": 100}
    advice = []
    for rows in (test, scrambled):
        _, table, arms, _ = evaluate_utility(train, validation, rows, held, synthetic, schema,
                                             evaluation, 0)
        advice.append(choose_arm(arms, table)[0])
    chosen = ("arm", "k", "validation_pr_auc_gain", "validation_pr_auc_gain_low",
              "validation_pr_auc_gain_high", "best_rejected", "validation_pr_auc_baseline")
    assert [{key: a[key] for key in chosen} for a in advice][0] == \
        {key: advice[1][key] for key in chosen}
    assert advice[0]["pr_auc_baseline"] != advice[1]["pr_auc_baseline"]  # the test did change


def test_a_label_given_away_by_a_column_is_advised_on_as_such(demo):
    """A column that is the label in another form: the utility experiment's baseline is
    perfect on validation rows, and the advice says so instead of naming a zero gain."""
    from synthbalance.pipelines.advice.nodes import choose_arm, write_verdict
    from synthbalance.pipelines.evaluation.nodes import evaluate_utility

    leaky = demo.assign(flag=demo["outcome"].map({0: "paid", 1: "charged back"}))
    validated, schema = validate_raw_table(leaky, {"source": "demo"})
    train, test, held = split_rows(validated, schema, {"test_size": 0.3}, 0)
    validation = carve_validation(train, schema, {}, 0)
    synthetic = train[train["outcome"] == 1].drop(index=validation.index, errors="ignore")
    evaluation = {"seeds": 1, "k_ratios": [1.0], "n_trees": 30, "n_bootstrap": 100}
    _, table, arms, _ = evaluate_utility(train, validation, test, held, synthetic, schema,
                                         evaluation, 0)
    advice = choose_arm(arms, table)[0]
    assert advice["validation_pr_auc_baseline"] == 1.0 and advice["arm"] == "none"
    said = write_verdict(advice, train, held, test, schema, evaluation, {})
    assert "(validation PR AUC 1.0000; test 1.0000), so no arm can raise it" in said
    assert ("Here each value of flag, or whether it is filled in, occurs with one class "
            "only.") in said
