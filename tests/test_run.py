"""The whole project through a Kedro session on small demo settings, read back from MLflow."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from synthbalance.core.errors import StageOutputError
from synthbalance.mlflow_ui import serve_mlflow_ui

from .conftest import mlflow_runs, run_kedro

CONTRACT_METRICS = [
    "fidelity.wasserstein_mean", "fidelity.correlation_distance",
    "detection.accuracy", "detection.accuracy_low", "detection.accuracy_high",
    "detection.scored_rows", "detection.auc",
    "utility.pr_auc_baseline", "utility.pr_auc_gain", "utility.recall_gain",
    "utility.recall_gain_at_base_precision",
    "utility.smote_pr_auc_gain", "utility.smote_recall_gain",
    "utility.smote_recall_gain_at_base_precision",
    "privacy.exact_copies", "privacy.mia_auc", "postprocess.values_fixed",
    "privacy.exact_copy_share", "privacy.holdout_exact_copy_share", "privacy.unique_row_copies",
    "privacy.unique_row_chance_share", "privacy.unique_row_copies_beyond_chance",
    "privacy.dcr_auc", "privacy.dcr_tpr_at_fpr10", "privacy.domias_auc",
    "privacy.domias_tpr_at_fpr10", "privacy.real_identifier_values",
    *(f"utility.{arm}_{gain}" for arm in ("class_weights", "random_oversampling", "smote")
      for gain in ("pr_auc_gain", "pr_auc_gain_low", "pr_auc_gain_high", "brier",
                   "recall_gain_at_base_precision", "validation_pr_auc_gain")),
    "utility.pr_auc_gain_low", "utility.pr_auc_gain_high", "utility.brier_baseline",
    "utility.recall_gain_at_base_precision_test_threshold",
    "advice.k", "advice.validation_pr_auc_gain", "advice.validation_pr_auc_gain_low",
    "advice.validation_pr_auc_gain_high", "advice.test_pr_auc_gain",
    "sampling.oversample", "sampling.kept_rows", "sampling.ess_share",
]
ARTIFACTS = [
    "data/schema.json", "data/synthetic_rows.parquet", "model/transformer.json",
    "plots/correlation.png", "plots/losses_conditional.png", "plots/marginals.png",
    "plots/recall_gain.png",
    "reports/profile.html", "reports/real_vs_synthetic_profile.html", "tables/metrics.csv",
    "tables/postprocess_fixes.csv", "tables/utility_runs.csv", "tables/fidelity_columns.csv",
    "tables/utility_arms.csv", "advice/advice.json", "advice/advice.txt",
]


@pytest.fixture(scope="module")
def finished_run(ran_project):
    """One full default run (cvae, conditional) on small settings, typed as ``kedro run``, the
    project the cwd; what it printed is in ``kedro_run.log`` beside the project."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(ran_project)
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield ran_project


def test_run_logs_every_contract_metric_tag_and_artifact(finished_run):
    runs = mlflow_runs(finished_run)
    assert len(runs) == 1
    run = runs.iloc[0]
    for name in CONTRACT_METRICS:
        assert np.isfinite(run[f"metrics.{name}"]), name
    assert (run["tags.model"], run["tags.strategy"], run["tags.dataset"]) == (
        "cvae", "conditional", "demo")
    assert run["tags.runner"] == "SequentialRunner"  # not the runner object's repr
    assert run["metrics.training.seconds"] > 0
    assert run["params.training.model"] == "cvae"
    client = MlflowClient(tracking_uri=f"sqlite:///{finished_run / 'mlflow.db'}")
    assert run["tags.advice.arm"] in ("none", "class_weights", "random_oversampling", "smote",
                                      "synthetic")
    found = {a.path for d in ("data", "model", "plots", "reports", "tables", "advice")
             for a in client.list_artifacts(run["run_id"], d)}
    assert set(ARTIFACTS) <= found
    history = client.get_metric_history(run["run_id"], "loss.reconstruction")
    assert sorted(m.step for m in history) == [1, 2]  # one value per epoch, at the epoch
    curve = client.get_metric_history(run["run_id"], "utility.curve.synthetic.pr_auc_gain")
    assert len(curve) == 2 and all(m.step > 0 for m in curve)  # k is the step


HEADLINE = ["fidelity.wasserstein_mean", "detection.accuracy", "utility.pr_auc_gain",
            "utility.recall_gain_at_base_precision", "privacy.mia_auc"]


def test_the_run_is_named_for_what_ran_and_its_model_carries_the_evaluation(finished_run):
    run = mlflow_runs(finished_run).iloc[0]
    assert run["tags.mlflow.runName"] == "cvae-conditional-demo-seed42"
    client = MlflowClient(tracking_uri=f"sqlite:///{finished_run / 'mlflow.db'}")
    experiment = client.get_experiment(run["experiment_id"])
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (model,) = client.search_logged_models([run["experiment_id"]])
    assert model.source_run_id == run["run_id"] and model.name == "generator_conditional"
    linked = {m.key: m.value for m in model.metrics}
    for name in HEADLINE:
        assert linked[name] == pytest.approx(run[f"metrics.{name}"]), name
    assert not any(k.startswith(("loss.", "check.")) for k in linked)  # histories stay


def test_a_run_prints_no_warning_and_ends_with_a_link_to_its_page(finished_run):
    printed = (finished_run.parent / "kedro_run.log").read_text()
    warnings = [line for line in printed.splitlines()
                if re.search(r"\bWARNING\b|\w+Warning\b", line)]
    assert not warnings, "\n".join(warnings)
    # output to a file, not a terminal: no progress bar redrawn with carriage returns (ours,
    # the utility arms', MLflow's artifact download), but the training's log lines instead
    assert b"\r" not in (finished_run.parent / "kedro_run.log").read_bytes()
    assert re.search(r"cvae: epoch 2 of 2, loss ", printed)
    # conf/logging.yml: node progress, not a line per dataset load and save
    assert re.search(r"Completed (\d+) out of \1 tasks", printed)
    assert "Loading data from" not in printed
    assert "No typed parameter requirements" not in printed  # Kedro's, at WARNING here
    run = mlflow_runs(finished_run).iloc[0]
    link = (f"MLflow run cvae-conditional-demo-seed42: http://127.0.0.1:5000/#/experiments/"
            f"{run['experiment_id']}/runs/{run['run_id']}?workflowType=machine_learning")
    assert link in printed.splitlines()
    # log lines as wide as hooks.FILE_LOG_WIDTH, not rich's 80: the run id is not split
    assert f"- '{run['run_id']}' has started" in printed
    assert f"mlflow ui --backend-store-uri sqlite:///{finished_run / 'mlflow.db'}" in printed


def test_the_mlflow_ui_shows_the_run_its_metrics_artifacts_and_model(finished_run):
    """What a user sees, through the REST API the UI's pages call (mlflow ui, one worker)."""
    experiment = [mlflow_runs(finished_run).iloc[0]["experiment_id"]]
    with serve_mlflow_ui(f"sqlite:///{finished_run / 'mlflow.db'}") as base:
        (found,) = _api(base, "runs/search", {"experiment_ids": experiment})["runs"]
        assert found["info"]["run_name"] == "cvae-conditional-demo-seed42"
        metrics = {m["key"]: m["value"] for m in found["data"]["metrics"]}
        assert all(np.isfinite(metrics[name]) for name in HEADLINE)
        run_id = found["info"]["run_id"]
        listed = {f["path"] for folder in ("data", "reports")
                  for f in _api(base, f"artifacts/list?run_id={run_id}&path={folder}")["files"]}
        assert {"data/synthetic_rows.parquet", "reports/profile.html",
                "reports/real_vs_synthetic_profile.html"} <= listed
        (model,) = _api(base, "logged-models/search", {"experiment_ids": experiment})["models"]
        assert model["info"]["source_run_id"] == run_id
        assert set(HEADLINE) <= {m["key"] for m in model["data"]["metrics"]}
        files = _api(base, f"logged-models/{model['info']['model_id']}/artifacts/directories")
        assert {"MLmodel", "artifacts"} <= {f["path"] for f in files["files"]}


def _api(base: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/api/2.0/mlflow/{path}", data=json.dumps(body).encode() if body else None,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_logged_generator_samples_rows_in_the_original_schema(finished_run):
    run_id = mlflow_runs(finished_run).iloc[0]["run_id"]
    mlflow.set_tracking_uri(f"sqlite:///{finished_run / 'mlflow.db'}")
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/generator_conditional")
    rows = model.predict(pd.DataFrame({"n_rows": [40], "seed": [3]}))
    real = pd.read_parquet(finished_run / "data/05_model_input/train_rows.parquet")
    assert list(rows.columns) == list(real.columns) and len(rows) == 40
    assert (rows["outcome"] == 1).all()
    assert set(rows["region"].dropna()) <= set(real["region"].dropna())
    for column in ("glucose", "annual_cost", "bad_mental_days"):  # cleaned: inside the range
        assert rows[column].dropna().between(real[column].min(), real[column].max()).all()
    again = model.predict(pd.DataFrame({"n_rows": [40], "seed": [3]}))
    pd.testing.assert_frame_equal(rows, again)
    other = model.predict(pd.DataFrame({"n_rows": [5], "label": [0], "seed": [3]}))
    assert (other["outcome"] == 0).all()  # label is in the signature, so MLflow keeps it


def test_synthetic_rows_respect_every_bound_and_level(finished_run):
    data = finished_run / "data"
    schema = json.loads((data / "02_intermediate/schema.json").read_text())
    rows = pd.read_parquet(data / "07_model_output/synthetic_rows.parquet")
    # the rows once raw (joined over the branches), once cleaned: no per-branch copy that a
    # later run with other branches would leave behind
    assert sorted(p.name for p in (data / "07_model_output").iterdir()) == [
        "synthetic_raw.parquet", "synthetic_rows.parquet"]
    train = pd.read_parquet(data / "05_model_input/train_rows.parquet")
    ratio = 2.0  # sampling.ratio default
    assert len(rows) == round(ratio * (train["outcome"] == 1).sum())
    for name, spec in schema["columns"].items():
        values = rows[name].dropna()
        if spec.get("bounds"):
            low, high = spec["bounds"]
            assert low is None or values.min() >= low, name
            assert high is None or values.max() <= high, name
        if spec["kind"] in ("binary", "categorical", "ordinal", "count"):
            assert set(values) <= set(train[name].dropna()), name
        if spec["kind"] in ("integer", "count", "ordinal"):
            assert (values == values.round()).all(), name


def test_the_run_ends_with_the_advice_and_writes_the_advised_training_set(finished_run, capfd):
    data = finished_run / "data"
    advice = json.loads((data / "08_reporting/advice.json").read_text())
    augmented = pd.read_parquet(data / "05_model_input/augmented_train.parquet")
    train = pd.read_parquet(data / "05_model_input/train_rows.parquet")
    added = augmented["synthbalance_added"]
    assert len(augmented) == len(train) + added.sum()
    assert added.sum() == (advice["k"] if advice["arm"] in ("random_oversampling", "smote",
                                                           "synthetic") else 0)
    verdict = (data / "08_reporting/advice.txt").read_text().strip()
    capfd.readouterr()
    run_kedro(finished_run, ["advice"])  # alone: it reads the evaluation's saved metrics
    printed = capfd.readouterr().out.strip()
    assert printed.endswith(verdict)  # the rows paragraph too, with the attack figures
    assert verdict.startswith("Advice: ") and "augmented_train.parquet" in verdict
    assert "membership attacks" in verdict.split("\n\n")[-1]
    assert "deployment prevalence" not in verdict  # no cut: validation rows not weighted


def test_evaluation_alone_reads_what_postprocessing_measured(finished_run):
    table = finished_run / "data/08_reporting/metrics.csv"
    before = pd.read_csv(table)
    assert before["metric"].str.startswith("postprocess.").any()
    run_kedro(finished_run, ["evaluation"])
    pd.testing.assert_frame_equal(pd.read_csv(table), before)  # same rows, same seed
    run = mlflow_runs(finished_run).iloc[0]  # named for what ran: it trained nothing
    assert run["tags.mlflow.runName"] == "evaluation-cvae-conditional-demo-seed42"


def test_a_stage_alone_refuses_outputs_of_two_runs(finished_run):
    """Rows written again after the evaluation (another ratio), or a generator trained
    again after the rows (another family), would be advised on with the old figures."""
    import os

    data = finished_run / "data"
    rows = data / "07_model_output/synthetic_rows.parquet"
    (generator,) = (data / "06_models/conditional/generator.pt").glob("*/generator.pt")
    advice = data / "08_reporting/advice.txt"
    said = advice.read_text()
    for again, message in (
        (rows, r"synthetic_rows \(written by postprocessing\) was written again after what "
               r"is made from it: detection_metrics, fidelity_metrics, privacy_metrics, "
               r"utility_arms, \.\.\. .*e\.g\. kedro run --pipelines=evaluation,advice "
               r"with the --params and --env of the run that wrote synthetic_rows\.$"),
        (generator, r"conditional.generator \(written by training\) was written again .*: "
                    r"detection_metrics, .*e\.g\. kedro run --pipelines=sampling,"
                    r"postprocessing,evaluation,advice "),
    ):
        before = again.stat()
        os.utime(again)  # as --pipelines=postprocessing or training leaves it
        try:
            with pytest.raises(StageOutputError, match=message):
                run_kedro(finished_run, ["advice"])
        finally:
            os.utime(again, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert advice.read_text() == said
    run_kedro(finished_run, ["advice"])  # the files as a run left them: accepted


def test_a_stage_alone_before_the_stages_it_reads_stops_before_any_node(run_project, project):
    run_project(["ingest", "preprocessing"])
    with pytest.raises(StageOutputError, match=r"synthetic_rows \(written by postprocessing\)"
                       r".*--pipelines=training,sampling,postprocessing,evaluation "):
        run_project(["evaluation"])
    assert not (project / "data/08_reporting/metrics.csv").exists()
    assert len(mlflow_runs(project)) == 1  # the ingest run's: the refused one opened none


def test_same_seed_gives_byte_identical_synthetic_rows(project):
    generate = ["ingest", "preprocessing", "training", "sampling", "postprocessing"]
    out = project / "data/07_model_output/synthetic_rows.parquet"
    contents = []
    for seed in (11, 11, 12):
        run_kedro(project, generate, params={"seed": seed})
        contents.append(out.read_bytes())
    assert contents[0] == contents[1]
    assert contents[0] != contents[2]


def test_the_verdict_names_the_path_the_catalog_writes():
    import yaml

    from synthbalance.pipelines.advice.nodes import AUGMENTED_PATH, SYNTHETIC_PATH

    from .conftest import PROJECT

    catalog = yaml.safe_load((PROJECT / "conf/base/catalog.yml").read_text())
    assert catalog["augmented_train"]["filepath"] == AUGMENTED_PATH
    assert catalog["synthetic_rows"]["dataset"]["filepath"] == SYNTHETIC_PATH


def test_the_smote_reference_names_the_folders_the_catalog_writes():
    import yaml

    from synthbalance.pipelines.smote.pipeline import REFERENCE_FOLDERS, reference_note

    from .conftest import PROJECT

    catalog = yaml.safe_load((PROJECT / "conf/base/catalog_smote_reference.yml").read_text())
    paths = {entry.get("filepath") or entry["dataset"]["filepath"]
             for name, entry in catalog.items() if name.startswith("smote_reference.")
             and ("filepath" in entry or "dataset" in entry)}
    assert {str(Path(path).parent) for path in paths} == set(REFERENCE_FOLDERS)
    assert all(f"{folder}/" in reference_note() for folder in REFERENCE_FOLDERS)
