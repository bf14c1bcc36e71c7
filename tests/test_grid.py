"""The comparison grid: one MLflow run per cell under one parent, the same numbers on Kedro's
sequential runner and on the Dask runner (a LocalCluster of 2 worker processes)."""

from __future__ import annotations

import logging

import pytest

from synthbalance.core.errors import ConfigError
from synthbalance.params import parse_params
from synthbalance.tracking_server import tracking_server

from .conftest import mlflow_runs

#: Two tiny cells: a per-class and a conditional family, one seed, 2 epochs.
TINY_GRID = {"grid": {"models": ["vae", "cvae"], "seeds": [5]},
             "ingest": {"demo_rows": 1500}, "evaluation": {"compare_profile": False}}


def _cells(project, runner=None) -> dict:
    """Run the grid; the cell runs of its parent run, by name, and the parent's id."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from .conftest import SMALL_RUN, _merge

    bootstrap_project(project)
    with KedroSession.create(project_path=project,
                             runtime_params=_merge(SMALL_RUN, TINY_GRID)) as session:
        session.run(pipeline_names=["grid"], runner=runner)
    runs = mlflow_runs(project)  # newest first: this run's parent
    parents = runs[runs["tags.synthbalance.grid"] == "parent"]
    parent = parents.iloc[0]
    assert parent["tags.model"] == "grid"
    # nothing stray: every run is a grid's parent or a cell nested under one
    assert runs["tags.mlflow.parentRunId"].fillna(runs["run_id"]).isin(parents["run_id"]).all()
    cells = runs[runs["tags.mlflow.parentRunId"] == parent["run_id"]]
    return {row["tags.mlflow.runName"]: row for _, row in cells.iterrows()}


def test_grid_cells_are_nested_runs_with_equal_metrics_on_dask(project, capsys):
    pytest.importorskip("distributed")
    from synthbalance.runners import DaskRunner

    sequential = _cells(project)
    assert sorted(sequential) == ["cvae-conditional-demo-seed5", "vae-per_class-demo-seed5"]
    capsys.readouterr()
    with tracking_server(project) as server:  # parallel writers log through a server
        dask = _cells(project, DaskRunner(cluster_args={"n_workers": 2}))
    assert sorted(dask) == sorted(sequential)
    # the server stops with the command: the closing link is to `mlflow ui` on its store
    printed = capsys.readouterr().out
    assert server not in printed and "View run" not in printed
    assert f"mlflow ui --backend-store-uri sqlite:///{project / 'mlflow.db'}" in printed
    for name, run in sequential.items():
        assert run["tags.model"] == name.split("-")[0] and run["tags.seed"] == "5"
        assert run["params.training.model"] == run["tags.model"]
        metrics = run.filter(like="metrics.").dropna()
        for key in ("fidelity.wasserstein_mean", "detection.accuracy", "utility.pr_auc_gain",
                    "utility.recall_gain_at_base_precision", "privacy.mia_auc",
                    "sampling.ess_share", "training.epochs_run"):
            assert f"metrics.{key}" in metrics
        same = dask[name].filter(like="metrics.").dropna()
        timing = [k for k in metrics.index if k.endswith("training.seconds")]  # wall time
        assert timing and metrics.drop(timing).to_dict() == same.drop(timing).to_dict()
    # each run's generators in a version folder of their own: neither run overwrote the other
    generators = list((project / "data/06_models/grid").glob("*/*/generator.pt"))
    assert len(generators) == 2  # cvae's conditional branch, vae's minority branch
    for generator in generators:
        versions = sorted(p.name for p in generator.iterdir())
        assert len(versions) == 2 and all((generator / v / "generator.pt").is_file()
                                          for v in versions), (generator, versions)


def test_grid_parameters_name_the_bad_key():
    with pytest.raises(ConfigError, match=r"grid.models names \['wgan'\]"):
        parse_params({"grid": {"models": ["wgan"]}})
    with pytest.raises(ConfigError, match="grid.strategies.cvae.*supports conditional"):
        parse_params({"grid": {"strategies": {"cvae": ["per_class"]}}})
    cells = parse_params({"seed": 1, "grid": {"models": ["ddpm"], "strategies": "all"}})
    assert cells.grid.cells(1) == [("ddpm", "conditional", 1), ("ddpm", "per_class", 1)]


def test_kedro_airflow_builds_a_dag_file_with_one_task_per_cell(project):
    """``kedro airflow create`` on the grid writes a DAG file that compiles, with one Airflow
    task per cell (``--group-by=memory``). Airflow itself is not installed, so the file is
    compiled and its syntax tree read rather than imported."""
    import ast
    import py_compile
    import subprocess
    import sys

    pytest.importorskip("kedro_airflow")
    subprocess.run([sys.executable, "-m", "kedro", "airflow", "create", "--pipelines=grid",
                    "--group-by=memory", "--target-dir=dags"],
                   cwd=project, check=True, capture_output=True)
    [dag] = (project / "dags").glob("*.py")
    py_compile.compile(str(dag), doraise=True)
    tree = ast.parse(dag.read_text())
    assert "airflow.sdk" in {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    tasks = [ast.literal_eval(call.keywords[0].value) for call in ast.walk(tree)
             if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "_run_kedro_node"]
    cells_of_task = [{name.split(".")[1] for name in names if name.count(".") >= 2}
                     for names in tasks]
    cells = [c for c in cells_of_task if c]
    assert all(len(c) == 1 for c in cells)  # no task mixes cells
    assert sorted(c.pop() for c in cells) == sorted(
        f"{m}_{s}_seed42" for m, s, _ in parse_params({}).grid.cells(42))


def test_dask_runner_refuses_datasets_that_log_to_the_active_run(project):
    """The default pipeline logs through the process's active MLflow run, which a Dask
    worker does not have: one clear error before any cluster work, naming the datasets."""
    pytest.importorskip("distributed")
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from synthbalance.runners import DaskRunner

    bootstrap_project(project)
    with KedroSession.create(project_path=project) as session, pytest.raises(
            ConfigError, match=r"DaskRunner cannot run datasets .*\(data_summary, schema\)"):
        session.run(pipeline_names=["ingest"], runner=DaskRunner())


def _worker_threads() -> tuple[int, str | None]:
    import os

    import torch

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")


def _kedro_logging_level() -> int:
    import logging

    import kedro.framework.project  # noqa: F401  (what a worker imports: it logs its config)

    return logging.getLogger("kedro").getEffectiveLevel()


def _exit_slowly() -> None:
    """Make this worker take longer than Dask's 4 s to exit, as a loaded worker can."""
    import atexit
    import time

    atexit.register(time.sleep, 8)


class _Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def test_dask_workers_run_torch_on_one_thread_each_and_log_warnings_only(capfd):
    pytest.importorskip("distributed")
    from synthbalance.runners import DaskRunner

    capfd.readouterr()
    distributed, kept = logging.getLogger("distributed"), _Kept()  # scheduler, nannies
    distributed.addHandler(kept)
    with DaskRunner().client() as client:
        threads = client.run(_worker_threads)
        levels = client.run(_kedro_logging_level)
        client.run(_exit_slowly)  # their nannies kill them at close: no warning for that
    assert list(threads.values()) == [(1, "1"), (1, "1")]  # 2 workers x 1 thread
    assert set(levels.values()) == {logging.WARNING}
    printed = capfd.readouterr()
    assert "as logging configuration" not in printed.out + printed.err  # Kedro's INFO line
    distributed.removeHandler(kept)
    assert not [m for m in kept.messages if "still alive" in m]  # the kills at close
    assert not [m for m in kept.messages if m.startswith("INFO")]  # "Lost all workers", ...
    assert logging.getLogger("distributed.nanny").level == logging.NOTSET  # restored


def test_dask_runner_joins_the_scheduler_named_in_dask_client():
    """``dask_client.address`` (conf/dask): the runner uses that scheduler's workers."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster
    from kedro.io import DataCatalog

    from synthbalance.runners import DaskRunner

    catalog = DataCatalog()
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        catalog["params:dask_client"] = {"address": cluster.scheduler_address}
        with DaskRunner().client(catalog) as client:
            assert client.scheduler.address == cluster.scheduler_address
            assert list(client.run(_worker_threads).values()) == [(1, "1")]


def test_a_cell_with_several_branches_names_each_branch_s_history_and_sampling():
    from synthbalance.pipelines.grid.nodes import cell_record

    per_branch = [{"loss.loss": {1: 0.5}}, {"loss.loss": {1: 0.7}},
                  {"sampling.ess_share": 0.4}, {"sampling.ess_share": 0.9}]
    record = cell_record({}, {"model": "vae", "strategy": "per_class"}, 3, {}, {},
                         {"detection.auc": 0.6}, *per_branch, branches=["class_b", "class_c"])
    assert record["metrics"] == {
        "detection.auc": 0.6, "class_b.loss.loss": {1: 0.5}, "class_c.loss.loss": {1: 0.7},
        "class_b.sampling.ess_share": 0.4, "class_c.sampling.ess_share": 0.9}
