"""The comparison grid on Kedro's sequential runner vs the Dask runner, side by side (issue 16,
item 5): same cells, same seeds, the same numbers, and the speed-up.

    python -m benchmarks.grid_speed                      # the full check (lead, quiet machine)
    python -m benchmarks.grid_speed --epochs 2 --rows 2000 --families vae cvae   # a smoke run
    python -m benchmarks.grid_speed --json grid_speed.json

Both legs run ``kedro run --pipelines=grid`` on the built-in table in one fresh project copy
(a temporary folder: the checkout's data and ``mlflow.db`` are untouched), with the default
``grid.models`` (every family, its default strategy) unless ``--families`` says otherwise:

- sequential: Kedro's ``SequentialRunner`` in this process, torch with ``--threads`` (2)
  threads;
- dask: ``synthbalance.runners.DaskRunner`` on a ``LocalCluster`` of ``--workers`` (2)
  worker processes with 1 thread each (torch too), logging through a local
  ``mlflow server`` (``synthbalance.tracking_server``).

Each leg's wall time covers the whole ``kedro run`` (Dask: cluster start and stop included;
the MLflow server's start is not). Then every cell's MLflow metrics of one leg must equal the
other's (same name, same keys, same values) when both legs have one torch thread
(``--threads 1``); with more sequential threads, the GAN families' figures differ in the last
bits that their training amplifies, and the differences are listed, not an error. Prints a
Markdown table per cell and the ratio sequential / dask; ``--json PATH`` (``-`` for stdout)
writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_leg(project: Path, runner: str, params: dict[str, Any], threads: int,
            workers: int) -> tuple[float, dict[str, dict[str, float]]]:
    """Run the grid once; its wall seconds and its cells' metrics by run name."""
    import torch
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from synthbalance.runners import DaskRunner

    torch.set_num_threads(threads)
    bootstrap_project(project)
    chosen = DaskRunner(cluster_args={"n_workers": workers, "threads_per_worker": 1}) \
        if runner == "dask" else None
    start = time.perf_counter()
    with KedroSession.create(project_path=project, runtime_params=params) as session:
        session.run(pipeline_names=["grid"], runner=chosen)
    return time.perf_counter() - start, cell_metrics(project)


def cell_metrics(project: Path) -> dict[str, dict[str, float]]:
    """The metrics of the newest grid's cells, by run name."""
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    parent = client.search_runs(experiments, "tags.`synthbalance.grid` = 'parent'",
                                order_by=["attributes.start_time DESC"], max_results=1)[0]
    cells = client.search_runs(experiments,
                               f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    return {run.info.run_name: dict(run.data.metrics) for run in cells}


def compare_legs(seq: dict[str, dict[str, float]], dask: dict[str, dict[str, float]]
                 ) -> list[str]:
    """Every difference between the legs' cells (empty: the same numbers)."""
    problems = [f"{name}: only in one leg" for name in sorted(set(seq) ^ set(dask))]
    for name in sorted(set(seq) & set(dask)):
        differ = sorted(k for k in set(seq[name]) | set(dask[name])
                        if seq[name].get(k) != dask[name].get(k))
        problems += [f"{name}: {k} {seq[name].get(k)} vs {dask[name].get(k)}" for k in differ]
    return problems


HEADLINE = ("fidelity.wasserstein_mean", "detection.accuracy", "utility.pr_auc_gain",
            "privacy.mia_auc")


def markdown(result: dict[str, Any]) -> str:
    """The side-by-side table: the legs' times, the ratio, each cell's headline metrics."""
    lines = ["| runner | wall s |", "|---|---:|",
             f"| sequential, {result['threads']} torch threads | {result['sequential_s']:.1f} |",
             f"| Dask, {result['workers']} workers x 1 thread | {result['dask_s']:.1f} |",
             f"| **ratio** sequential / Dask | **{result['ratio']:.2f}x** |", "",
             "| cell | " + " | ".join(HEADLINE) + " |", "|---" + "|---:" * len(HEADLINE) + "|"]
    for name, metrics in sorted(result["cells"].items()):
        values = " | ".join(f"{metrics.get(k, float('nan')):.4f}" for k in HEADLINE)
        lines.append(f"| {name} | {values} |")
    same = "equal, cell by cell" if not result["differences"] else "DIFFERENT"
    cells = sorted({d.split(":", 1)[0] for d in result["differences"]})
    why = ("" if not cells or result["threads"] == 1 else
           f" ({', '.join(cells)}: the sequential leg had {result['threads']} torch threads, "
           "a Dask worker 1; the GAN families' numbers depend on the thread count, see "
           "docs/cluster.md; --threads 1 compares like with like)")
    return "\n".join([*lines, "", f"Metrics of the two legs: {same}{why}."])


def measure(args: argparse.Namespace, project: Path) -> dict[str, Any]:
    """Both legs in ``project``; the figures (times, ratio, cells, differences)."""
    from synthbalance.tracking_server import tracking_server

    params: dict[str, Any] = {"ingest": {"demo_rows": args.rows}}
    if args.families:
        params["grid"] = {"models": args.families}
    if args.epochs:
        params["training"] = {"epochs": args.epochs}
    seq_s, seq = run_leg(project, "sequential", params, args.threads, args.workers)
    with tracking_server(project):
        dask_s, dask = run_leg(project, "dask", params, args.threads, args.workers)
    return {"sequential_s": seq_s, "dask_s": dask_s, "ratio": seq_s / dask_s,
            "threads": args.threads, "workers": args.workers, "rows": args.rows,
            "epochs": args.epochs, "cells": seq, "differences": compare_legs(seq, dask)}


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); exit 1 if the legs' metrics differ at
    the same thread count (``--threads 1``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=None,
                        help="grid.models (default: conf's, every family)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the built-in table")
    parser.add_argument("--epochs", type=int, default=None, help="default: conf's")
    parser.add_argument("--threads", type=int, default=2, help="torch threads, sequential")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (1 thread each)")
    parser.add_argument("--json", default=None, help="write the figures here ('-': stdout)")
    args = parser.parse_args(argv)
    project = Path(tempfile.mkdtemp(prefix="grid_speed_"))
    shutil.copytree(ROOT / "conf", project / "conf")
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    here = Path.cwd()
    try:
        os.chdir(project)  # conf/base/mlflow.yml puts mlflow.db in the working directory
        result = measure(args, project)
    finally:
        os.chdir(here)
        shutil.rmtree(project, ignore_errors=True)
    print(markdown(result))
    if args.json:
        text = json.dumps(result, indent=2)
        print(text) if args.json == "-" else Path(args.json).write_text(text + "\n")
    return 1 if result["differences"] and args.threads == 1 else 0


if __name__ == "__main__":
    from synthbalance.runtime import configure_openmp

    configure_openmp()  # before torch loads, as kedro run does
    sys.exit(main())
