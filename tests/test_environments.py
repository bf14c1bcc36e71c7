"""Real runs through a Kedro session: the dataset environments, MLflow records, bad params."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.errors import ConfigError

from .conftest import BRFSS, mlflow_runs

DATA_PIPELINES = ["ingest", "profiling", "preprocessing"]


def test_brfss_environment_declares_day_counts_and_is_tracked(run_project, project):
    run_project(DATA_PIPELINES, env="brfss",
                params={"ingest": {"source": str(BRFSS)}, "profiling": {"sample_rows": 2000}})
    schema = json.loads((project / "data/02_intermediate/schema.json").read_text())
    assert schema["target"] == "Diabetes_binary" and schema["minority_classes"] == [1.0]
    assert schema["columns"]["MentHlth"] == {
        "kind": "count", "bounds": [0.0, 30.0], "levels": [float(d) for d in range(31)]}
    assert (project / "data/08_reporting/profile.html").stat().st_size > 10_000
    runs = mlflow_runs(project)
    assert len(runs) == 1
    run = runs.iloc[0]
    assert run["tags.dataset"] == "brfss"
    assert run["params.ingest.target"] == "Diabetes_binary"
    assert run["metrics.data.rows"] == 253_680
    assert run["metrics.data.minority_share"] == pytest.approx(0.1393, abs=1e-4)


def test_creditcard_environment_on_a_table_of_that_schema(run_project, project):
    rng = np.random.default_rng(0)
    n = 3000
    table = pd.DataFrame({"Time": np.sort(rng.uniform(0, 172_792, n))})
    for i in range(1, 29):
        table[f"V{i}"] = rng.normal(size=n)
    table["Amount"] = rng.exponential(88, n).round(2)
    table["Class"] = (rng.random(n) < 0.02).astype(int)
    (project / "data/01_raw").mkdir(parents=True)
    table.to_csv(project / "data/01_raw/creditcard.csv", index=False)
    run_project(["ingest", "preprocessing"], env="creditcard")
    schema = json.loads((project / "data/02_intermediate/schema.json").read_text())
    assert schema["target"] == "Class"
    assert {c["kind"] for c in schema["columns"].values()} == {"continuous"}
    assert schema["columns"]["Amount"]["bounds"] == [0.0, None]
    run = mlflow_runs(project).iloc[0]
    assert run["tags.dataset"] == "creditcard" and run["tags.model"] == "none"  # trained nothing
    assert run["tags.mlflow.runName"] == "ingest+preprocessing-data-creditcard-seed42"


def test_any_csv_through_params(run_project, project, demo):
    path = project / "mine.csv"
    demo.rename(columns={"outcome": "label"}).to_csv(path, sep=";", index=False, na_rep="?")
    run_project(["ingest"], params={"ingest": {
        "source": str(path), "target": "label",
        "read_options": {"sep": ";", "na_values": ["?"]}}})
    validated = pd.read_parquet(project / "data/02_intermediate/validated_table.parquet")
    assert validated["glucose"].isna().sum() == demo["glucose"].isna().sum()
    run = mlflow_runs(project).iloc[0]
    assert run["tags.dataset"] == "mine" and run["tags.mlflow.runName"] == "ingest-data-mine-seed42"


def test_a_typo_in_a_parameter_stops_the_run_before_anything_runs(run_project, project):
    with pytest.raises(ConfigError, match="Did you mean 'training.epochs'"):
        run_project(["ingest"], params={"training": {"epocs": 3}})
    assert not (project / "data/02_intermediate/validated_table.parquet").exists()


def test_an_environment_and_params_override_only_the_keys_they_set(project):
    """`kedro run --env=mine --params=training.privacy.epsilon=4`, with conf/mine setting
    ingest keys only: conf/base's other keys stay (Kedro's default merge left `training`
    holding epsilon alone, and `ingest` holding the environment's keys alone)."""
    import yaml
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    (project / "conf/mine").mkdir()
    (project / "conf/mine/parameters_ingest.yml").write_text(
        "ingest:\n  source: demo\n  drop_columns: [region]\n")
    bootstrap_project(project)
    runtime = {"training": {"privacy": {"epsilon": 4}}, "seed": 7}
    with KedroSession.create(project_path=project, env="mine", runtime_params=runtime) as session:
        params = session.load_context().params
    base = yaml.safe_load((project / "conf/base/parameters_training.yml").read_text())
    assert params["training"] == {**base["training"], "privacy": {"epsilon": 4}}
    assert params["ingest"]["drop_columns"] == ["region"]
    assert params["ingest"]["demo_rows"] == 20_000 and params["seed"] == 7
