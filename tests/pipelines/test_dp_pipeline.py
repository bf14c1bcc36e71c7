"""training.privacy through the real Kedro project: ε reaches MLflow, and what it leaves out."""

from __future__ import annotations

import pandas as pd
import pytest

from synthbalance.core.dp_scope import NOT_COVERED
from synthbalance.core.errors import ConfigError

from ..conftest import mlflow_runs


def test_privacy_epsilon_and_the_not_covered_tags_reach_mlflow(project, run_project):
    hints = {"bad_mental_days": {"bounds": [0, 30]}}
    run_project(["ingest", "preprocessing", "training"], params={
        "ingest": {"columns": hints},
        "training": {"privacy": {"epsilon": 4.0, "max_grad_norm": 0.5}}})
    run = mlflow_runs(project).iloc[0]
    assert 0 < run["metrics.privacy.epsilon"] <= 4.0  # the last epoch's value
    assert 0 < run["metrics.privacy.delta"] < 1e-3
    assert run["metrics.training.epochs_planned"] == run["metrics.training.epochs_run"] == 2
    assert run["metrics.training.seconds"] > 0
    assert run["tags.privacy.dp"] == "dp-sgd"
    assert run["tags.privacy.not_covered"] == "; ".join(NOT_COVERED)
    assert "bad_mental_days" in run["tags.privacy.bounds_public"].split(", ")
    assert "bad_mental_days" not in run["tags.privacy.bounds_from_data"].split(", ")
    assert run["params.training.privacy.epsilon"] == "4.0"
    # not a plain run's name, nor a whole run's
    assert run["tags.mlflow.runName"] == "ingest+preprocessing+training-cvae-conditional-eps4-" \
                                         "demo-seed42"

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    history = client.get_metric_history(run["run_id"], "privacy.epsilon")
    values = [m.value for m in sorted(history, key=lambda m: m.step)]
    assert len(values) == 2 and values[0] < values[1]  # one per epoch (SMALL_RUN: 2)

    # the importance resampling reads real rows without DP: off for this generator
    run_project(["sampling"])
    sampled = mlflow_runs(project).iloc[0]
    assert sampled["metrics.sampling.oversample"] == 1
    assert "metrics.sampling.ess_share" not in sampled.dropna()
    with pytest.raises(ConfigError, match="sampling.oversample=3 reweights the rows of a "
                                          "generator trained with training.privacy"):
        run_project(["sampling"], params={"sampling": {"oversample": 3}})
    run_project(["sampling"])  # auto: the plain draws
    assert len(pd.read_parquet(project / "data/07_model_output/synthetic_raw.parquet")) > 0



def test_a_run_without_privacy_is_tagged_off(demo):
    from synthbalance.pipelines.ingest.nodes import validate_raw_table
    from synthbalance.pipelines.training.nodes import privacy_scope

    _, schema = validate_raw_table(demo, {"source": "demo"})
    assert privacy_scope(schema, {"model": "cvae"}) == {"privacy.dp": "off"}
