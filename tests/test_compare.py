"""The comparison command and the notebook that reads its experiment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from synthbalance.compare import (
    NO_ADVICE,
    _families,
    closing_line,
    compare,
    comparison_runs,
    experiment_table,
    latest_comparison_start,
    parse_params,
    ranked,
    summary,
)
from synthbalance.core.config import MODEL_NAMES
from synthbalance.core.errors import ConfigError
from synthbalance.pipelines.smote import reference_note

from .conftest import PROJECT, SMALL_RUN, mlflow_runs


def test_compare_leaves_one_run_per_family_and_smote_in_one_experiment(project, monkeypatch,
                                                                       capfd):
    table = compare(["wcgan_gp", "vae"], experiment="cmp", params=SMALL_RUN,
                    project_path=project)
    printed = capfd.readouterr()
    assert reference_note() in printed.out  # the reference says where it wrote
    assert "non-sequential runners" not in printed.out + printed.err  # kedro-viz, misled
    assert sorted(table.index) == ["smote", "vae", "wcgan_gp"]
    assert table.notna().all().all()
    assert table.loc["smote", "advice"] == NO_ADVICE  # SMOTE's run advises nothing
    store = f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    assert table.attrs["store"] == store  # the closing line's command serves this store
    assert closing_line("cmp", store).endswith(
        f"\nMLflow experiment 'cmp': mlflow ui --backend-store-uri {store}")
    assert "notebooks/compare_models.ipynb" in closing_line("cmp", store)
    # the next command keeps the comparison's settings, the grid's aside
    hint = closing_line("cmp", store, {"training": {"epochs": 2}, "grid": {"models": ["vae"]},
                                       "grid_seeds": [1, 2]})
    assert ('training.strategy=<strategy>,training.epochs=2,grid_seeds=[1,2]"' in hint
            and "grid.models" not in hint)
    # best first by the test PR AUC gain; each cell's advice beside its figures
    order = ranked(table)["utility.pr_auc_gain"]
    assert order.is_monotonic_decreasing and sorted(order.index) == sorted(table.index)
    assert table.loc[["vae", "wcgan_gp"], "advice"].notna().all()
    assert closing_line("cmp", "http://10.0.0.5:5000").endswith(": on http://10.0.0.5:5000")
    runs = mlflow_runs(project)  # the grid's parent run, its two cells, the SMOTE reference
    assert len(runs) == 4 and runs["experiment_id"].nunique() == 1
    strategies = dict(zip(runs["tags.model"], runs["tags.strategy"], strict=True))
    assert strategies == {"wcgan_gp": "conditional", "vae": "per_class", "smote": "none",
                          "grid": "grid"}
    parent = runs.loc[runs["tags.model"] == "grid", "run_id"].item()
    cells = runs[runs["tags.model"].isin(["vae", "wcgan_gp"])]
    assert (cells["tags.mlflow.parentRunId"] == parent).all()
    # same seed, same split: every run's baseline is the same classifier on the same rows
    assert runs["metrics.utility.pr_auc_baseline"].nunique() == 1
    assert sorted(runs["tags.mlflow.runName"]) == [  # one naming scheme (run_names.py)
        "grid-cells-demo-seed42", "smote-reference-demo-seed42", "vae-per_class-demo-seed42",
        "wcgan_gp-conditional-demo-seed42"]

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{project / 'mlflow.db'}")
    monkeypatch.setenv("SYNTHBALANCE_EXPERIMENT", "cmp")
    outputs = _execute_notebook(project)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    # two cells and SMOTE; not the grid's parent, nor an earlier comparison's runs
    assert "3 runs of the newest comparison in experiment 'cmp'" in text
    assert "advice.arm" in text  # the advice of every run
    tables = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "random oversampling" in tables and "synthetic (vae)" in tables
    assert any("image/png" in o.get("data", {}) for o in outputs)


def _execute_notebook(project: Path) -> list:
    notebook = nbformat.read(PROJECT / "notebooks/compare_models.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(project)}}).execute()
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def test_before_any_comparison_the_notebook_says_in_one_line_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("SYNTHBALANCE_EXPERIMENT", "never-run")
    outputs = _execute_notebook(tmp_path)  # raises CellExecutionError if a cell fails
    printed = [line for o in outputs if o.get("name") == "stdout"
               for line in o.text.splitlines() if line.strip()]
    assert len(printed) == 1, printed
    assert "'never-run'" in printed[0] and "python -m synthbalance.compare" in printed[0]

    table = experiment_table("never-run", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert table.empty and list(table.columns)[:2] == ["fidelity.wasserstein_mean",
                                                        "detection.accuracy"]
    assert "python -m synthbalance.compare" in table.attrs["message"]


def test_params_use_the_kedro_syntax():
    assert parse_params("training.epochs=5,seed=7,ingest.source=x.csv") == {
        "training": {"epochs": 5}, "seed": 7, "ingest": {"source": "x.csv"}}
    # lists, as kedro run reads them (a plain split on commas broke these)
    assert parse_params("grid.seeds=[1,2],grid.models=[vae,cvae],training.epochs=1") == {
        "grid": {"seeds": [1, 2], "models": ["vae", "cvae"]}, "training": {"epochs": 1}}
    with pytest.raises(ConfigError, match="key=value"):
        parse_params("training.epochs")
    with pytest.raises(ConfigError, match="Unknown families"):
        compare(["wgan"], project_path=Path("."))
    with pytest.raises(ConfigError, match="Unknown runner 'ray'"):
        compare(["vae"], project_path=Path("."), runner="ray")


def test_the_families_are_given_once_by_the_option_or_by_grid_models():
    """``--params grid.models=[...]`` was overridden by --families' default, all seven."""
    assert _families(None, {"grid": {"models": ["vae", "cvae"]}}) == ["vae", "cvae"]
    assert _families(None, {}) == list(MODEL_NAMES)
    assert _families(["vae"], {"grid": {"models": ["vae"]}}) == ["vae"]
    with pytest.raises(ConfigError, match="given twice: --families vae and grid.models"):
        _families(["vae"], {"grid": {"models": ["cvae"]}})
    with pytest.raises(ConfigError, match=r"Unknown families \['wgan'\]"):
        _families(None, {"grid": {"models": ["wgan"]}})


def test_the_summary_says_whether_any_rows_helped_and_what_the_runs_advised():
    def table(rows):
        frame = pd.DataFrame(rows, columns=["model", "strategy", "advice", "utility.pr_auc_gain"])
        return frame.set_index("model")

    none_helped = table([("smote", "none", NO_ADVICE, -0.01), ("vae", "per_class", "none", -0.03),
                         ("cvae", "conditional", "none", -0.05)])
    assert summary(none_helped) == (
        "No model's rows raised the test PR AUC (every utility.pr_auc_gain <= 0). Each run's "
        "advice, chosen on its validation rows: do not augment (none), for every model: "
        "train on the real rows as they are.")
    one_helped = table([("smote", "none", NO_ADVICE, -0.01), ("cvae", "conditional",
                                                              "synthetic", 0.02),
                        ("vae", "per_class", "none", 0.001)])
    assert summary(one_helped) == (
        "Highest test PR AUC gain: cvae (conditional), +0.0200. Each run's advice, chosen on "
        "its validation rows: cvae: synthetic; none (do not augment) for the others.")
    assert summary(table([("smote", "none", NO_ADVICE, 0.01)])).startswith(
        "Highest test PR AUC gain: smote")


def test_the_table_holds_only_the_runs_since_the_comparison_began(tmp_path):
    """An experiment reused by several comparisons: earlier runs are not this one's."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("reused")

    def run(model: str, advice: str | None) -> int:
        tags = {"model": model, "strategy": "x", **({"advice.arm": advice} if advice else {})}
        started = client.create_run(experiment, tags=tags)
        client.log_metric(started.info.run_id, "utility.pr_auc_gain", 0.1)
        client.set_terminated(started.info.run_id)
        return started.info.start_time

    run("ddpm", "none")
    time.sleep(0.01)
    since = run("vae", "smote")
    run("smote", None)
    assert sorted(experiment_table("reused", uri).index) == ["ddpm", "smote", "vae"]
    table = experiment_table("reused", uri, since=since)
    assert sorted(table.index) == ["smote", "vae"]
    assert table["advice"].to_dict() == {"smote": NO_ADVICE, "vae": "smote"}
    # the notebook reads the newest comparison: from its grid's parent run on
    assert latest_comparison_start("reused", uri) is None  # no grid yet: every run
    time.sleep(0.01)
    parent = client.create_run(experiment, tags={"model": "grid", "synthbalance.grid": "parent"})
    run("cvae", "none")
    assert latest_comparison_start("reused", uri) == parent.info.start_time
    newest = comparison_runs("reused", uri, since=latest_comparison_start("reused", uri))
    assert list(newest["tags.model"]) == ["cvae"]


def test_the_table_keeps_every_seed_and_strategy_of_a_model(tmp_path):
    """Two seeds of vae and both strategies of ddpm: five rows, none dropped as a repeat."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("seeds")
    cells = [("vae", "per_class", 1, 0.1), ("vae", "per_class", 2, 0.2),
             ("ddpm", "conditional", 1, 0.3), ("ddpm", "per_class", 1, 0.4),
             ("vae", "per_class", 1, 0.5)]  # a later run of the first cell
    for model, strategy, seed, value in cells:
        run = client.create_run(experiment, tags={"model": model, "strategy": strategy})
        client.log_param(run.info.run_id, "seed", seed)
        client.log_metric(run.info.run_id, "detection.accuracy", value)
        client.set_terminated(run.info.run_id)
    table = experiment_table("seeds", uri)
    rows = {(m, r.strategy, r.seed): r["detection.accuracy"] for m, r in table.iterrows()}
    assert rows == {("vae", "per_class", "1"): 0.5, ("vae", "per_class", "2"): 0.2,
                    ("ddpm", "conditional", "1"): 0.3, ("ddpm", "per_class", "1"): 0.4}


def test_a_bad_parameter_is_one_message_without_a_traceback(project):
    done = subprocess.run(
        [sys.executable, "-m", "synthbalance.compare", "--families", "vae", "--no-smote",
         "--params", "training.epocs=1"],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"})
    assert done.returncode != 0
    assert "Unknown parameter 'training.epocs'" in done.stderr
    assert "Did you mean 'training.epochs'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
