"""Train and evaluate every generator family on the same split and seed, side by side.

    python -m synthbalance.compare                       # all seven families + SMOTE, demo data
    python -m synthbalance.compare --env brfss --params "training.epochs=100"
    python -m synthbalance.compare --families wcgan_gp cvae --experiment my-comparison
    python -m synthbalance.compare --runner dask         # cells in parallel on Dask

A thin front for ``kedro run --pipelines=grid`` (docs/cluster.md): one split, one cell per
family (its default strategy; ``--params "grid.seeds=[1,2]"`` adds seeds), each cell its
own MLflow run (tagged ``model``, ``strategy``, ``seed``) nested under the grid's run, plus
a ``smote_reference`` run that evaluates SMOTE rows the same way, all in one MLflow
experiment. The same ``seed`` gives every run the same split. With ``--runner dask`` the
cells run on a Dask ``LocalCluster`` (``dask_client`` parameters) and log through a local
``mlflow server`` this command starts and stops (or the one ``MLFLOW_TRACKING_URI``
names). Open the experiment in the MLflow UI, or read it with
``notebooks/compare_models.ipynb``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pandas as pd

from synthbalance.core.config import MODEL_NAMES
from synthbalance.core.errors import ConfigError
from synthbalance.core.naming import HEADLINE_METRICS
from synthbalance.mlflow_ui import ui_command
from synthbalance.runtime import configure_openmp
from synthbalance.tracking_server import STORE_ENV, tracking_server

#: The columns of the printed comparison (the contract's headline metrics).
HEADLINE = HEADLINE_METRICS
#: The printed comparison's order: what the advice maximises, read on the test split.
RANKED_BY = "utility.pr_auc_gain"
RUNNERS = ("sequential", "dask")
#: The advice column of a run that advises nothing (the SMOTE reference).
NO_ADVICE = "—"


def compare(
    families: Sequence[str] | None = None,
    experiment: str = "synthbalance-compare",
    env: str | None = None,
    params: dict[str, Any] | None = None,
    smote: bool = True,
    project_path: Path | None = None,
    runner: str = "sequential",
) -> pd.DataFrame:
    """Run the grid of ``families`` (``None``: ``grid.models`` of ``params``, else all
    seven) and the SMOTE reference; one row of metrics per run this call made.

    Raises:
        ConfigError: an unknown family or runner, families given both ways and different,
            or a bad parameter.
    """
    if runner not in RUNNERS:
        raise ConfigError(f"Unknown runner {runner!r}; choose from {', '.join(RUNNERS)}.")
    params = dict(params or {})
    grid = {**params.get("grid", {}), "models": _families(families, params)}
    project_path = (project_path or Path.cwd()).resolve()
    os.environ["SYNTHBALANCE_EXPERIMENT"] = experiment  # read by conf/base/mlflow.yml
    started = int(time.time() * 1000)  # MLflow's start times are in milliseconds
    tracking = tracking_server(project_path) if runner == "dask" else nullcontext()
    with tracking:
        _run(project_path, env, ["grid"], {**params, "grid": grid}, runner)
        if smote:
            _run(project_path, env, ["smote_reference"], params, "sequential")
        table = experiment_table(experiment, mlflow_tracking_uri(), since=started)
        # the store the runs went to: behind a server this function started, the server's
        table.attrs["store"] = os.environ.get(STORE_ENV) or mlflow_tracking_uri()
        return table


def _families(families: Sequence[str] | None, params: Mapping[str, Any]) -> list[str]:
    """The grid's families: ``families``, else ``grid.models`` of ``params``, else all.

    Raises:
        ConfigError: an unknown family, or both given and different.
    """
    declared = params.get("grid", {}).get("models")
    if families is not None and declared is not None and list(declared) != list(families):
        raise ConfigError(
            f"The families are given twice: --families {' '.join(families)} and "
            f"grid.models={list(declared)}; give them once.")
    chosen = list(families if families is not None else declared or MODEL_NAMES)
    unknown = [f for f in chosen if f not in MODEL_NAMES]
    if unknown:
        raise ConfigError(f"Unknown families {unknown}; choose from {', '.join(MODEL_NAMES)}.")
    return chosen


def _run(project: Path, env: str | None, pipelines: list[str], params: dict[str, Any],
         runner: str) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
        if runner == "dask":
            from synthbalance.runners import DaskRunner

            session.run(pipeline_names=pipelines, runner=DaskRunner())
        else:
            from kedro.runner import SequentialRunner

            # an instance, as `kedro run` passes: with none, the run's "runner" reads "None"
            # and kedro-viz warns that workflow tracking is off for a non-sequential runner
            session.run(pipeline_names=pipelines, runner=SequentialRunner())


def mlflow_tracking_uri() -> str:
    """The tracking URI of the last session (kedro-mlflow sets it from conf/base/mlflow.yml)."""
    import mlflow

    return mlflow.get_tracking_uri()


def experiment_table(experiment: str, tracking_uri: str | None = None,
                     since: int | None = None) -> pd.DataFrame:
    """The newest run of each model, strategy and seed in ``experiment`` (grid cells and
    references, not the grids' parent runs; ``since``: only runs started at or after this
    time, in milliseconds since the epoch), indexed by model: its strategy, its seed, its
    advice (the tag ``advice.arm``; ``—`` for a run without one) and the headline metrics.

    Empty, with ``attrs["message"]`` saying what to run, when :func:`comparison_runs` is.
    """
    runs = comparison_runs(experiment, tracking_uri, since)
    if runs.empty:
        empty = pd.DataFrame(columns=HEADLINE, index=pd.Index([], name="model"))
        empty.attrs["message"] = runs.attrs["message"]
        return empty
    # one row per model, strategy and seed: a grid's seeds and ddpm's two strategies stay
    keys = [c for c in ("tags.model", "tags.strategy", "params.seed") if c in runs.columns]
    runs = runs.drop_duplicates(keys).set_index("tags.model")
    columns = [c for c in ("tags.strategy", "params.seed", "tags.advice.arm")
               if c in runs.columns] + [
        f"metrics.{m}" for m in HEADLINE if f"metrics.{m}" in runs.columns]
    table = runs[columns].rename(
        columns=lambda c: c.removeprefix("metrics.").removeprefix("tags.").removeprefix(
            "params.")).rename(columns={"advice.arm": "advice"})
    if "advice" in table:
        table["advice"] = table["advice"].fillna(NO_ADVICE)
    table.index.name = "model"
    return table.sort_values(["model", *table.columns[:len(keys) - 1]])


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (:func:`experiment_table`) best first by :data:`RANKED_BY`, the test PR AUC
    gain of adding a model's rows (missing values last); as it is without that column."""
    if RANKED_BY not in table.columns:
        return table
    return table.sort_values(RANKED_BY, ascending=False, na_position="last", kind="stable")


def comparison_runs(experiment: str, tracking_uri: str | None = None,
                    since: int | None = None) -> pd.DataFrame:
    """The runs of ``experiment`` tagged with a model (``since``: started at or after this
    time, in milliseconds since the epoch), newest first (``mlflow.search_runs`` columns),
    grids' parent runs left out. A missing experiment, or one without such runs, gives an
    empty frame whose ``attrs["message"]`` is :func:`no_runs_message`."""
    import mlflow

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    wanted = "tags.model != ''" + (f" and attributes.start_time >= {since}" if since else "")
    runs = pd.DataFrame() if found is None else mlflow.search_runs(
        [found.experiment_id], filter_string=wanted, order_by=["start_time DESC"])
    if "tags.synthbalance.grid" in runs:
        runs = runs[runs["tags.synthbalance.grid"] != "parent"]
    if runs.empty:
        runs.attrs["message"] = no_runs_message(experiment, mlflow.get_tracking_uri())
    return runs


def latest_comparison_start(experiment: str, tracking_uri: str | None = None) -> int | None:
    """When the newest comparison of ``experiment`` began: the start time (milliseconds
    since the epoch) of its newest grid parent run, ``None`` if it has none. With
    :func:`comparison_runs`' ``since``, that comparison's cells and the SMOTE reference
    run after them, without earlier comparisons' runs."""
    import mlflow

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.get_experiment_by_name(experiment)
    parents = pd.DataFrame() if found is None else mlflow.search_runs(
        [found.experiment_id], filter_string="tags.`synthbalance.grid` = 'parent'",
        order_by=["start_time DESC"], max_results=1)
    return None if parents.empty else int(parents["start_time"].iloc[0].timestamp() * 1000)


def no_runs_message(experiment: str, tracking_uri: str) -> str:
    """One line: the experiment holds no comparison yet, and the command that makes one."""
    return (f"No comparison runs in MLflow experiment {experiment!r} at {tracking_uri}: run "
            f"`python -m synthbalance.compare --experiment {experiment}` in the project "
            "first (or point MLFLOW_TRACKING_URI / SYNTHBALANCE_EXPERIMENT at one).")


def parse_params(text: str | None) -> dict[str, Any]:
    """``"training.epochs=50,grid.seeds=[1,2]"`` (the ``kedro run --params`` syntax, read as
    the project's ``kedro run`` reads it: :func:`synthbalance.cli.params_dict`) to a nested
    dict.

    Raises:
        ConfigError: an item is not ``key=value``.
    """
    from synthbalance.cli import params_dict

    return params_dict(text)


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``python -m synthbalance.compare [--families ...] [--params ...]``."""
    configure_openmp()  # as kedro run does; before the runs load torch and xgboost
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=None, choices=MODEL_NAMES,
                        help="default: grid.models (conf/base/parameters_grid.yml), all seven")
    parser.add_argument("--experiment", default="synthbalance-compare")
    parser.add_argument("--env", default=None, help="Kedro environment, e.g. brfss")
    parser.add_argument("--params", default=None, help='e.g. "training.epochs=50,seed=7"')
    parser.add_argument("--no-smote", action="store_true", help="skip the SMOTE reference run")
    parser.add_argument("--runner", default="sequential", choices=RUNNERS,
                        help="dask: cells in parallel on a Dask cluster (docs/cluster.md)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show the traceback of an error (or set SYNTHBALANCE_TRACEBACK=1)")
    args = parser.parse_args(argv)
    from synthbalance.cli import UserError, user_errors

    try:
        with user_errors(args.verbose):
            table = compare(args.families, args.experiment, args.env,
                            parse_params(args.params), smote=not args.no_smote,
                            runner=args.runner)
    except UserError as error:
        error.show()
        raise SystemExit(error.exit_code) from None
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(ranked(table).round(4).reset_index().to_string(index=False))
    print("\n" + summary(table))
    print(closing_line(args.experiment, table.attrs.get("store", mlflow_tracking_uri()),
                       parse_params(args.params)))


def summary(table: pd.DataFrame) -> str:
    """The comparison in words: the best test gain (or that none was above 0), and what the
    runs advised on their validation rows."""
    if table.empty or RANKED_BY not in table:
        return "No run of this comparison logged a test PR AUC gain."
    best = ranked(table).iloc[0]
    gain = (f"Highest test PR AUC gain: {best.name} ({best.get('strategy', '')}), "
            f"{best[RANKED_BY]:+.4f}." if best[RANKED_BY] > 0 else
            f"No model's rows raised the test PR AUC (every {RANKED_BY} <= 0).")
    advised = table.get("advice", pd.Series(dtype=str))
    advised = advised[advised != NO_ADVICE]
    if advised.empty:
        return gain
    augment = sorted({f"{model}: {arm}" for model, arm in advised.items() if arm != "none"})
    return gain + (" Each run's advice, chosen on its validation rows: "
                   + ("do not augment (none), for every model: train on the real rows as "
                      "they are." if not augment else
                      "; ".join(augment) + "; none (do not augment) for the others."))


def closing_line(experiment: str, store: str, params: Mapping[str, Any] | None = None) -> str:
    """How the table is ordered, where every arm is drawn side by side, how to get one
    model's advised training set with the comparison's ``params`` (``grid.*`` aside), and
    where the comparison's runs are: the ``mlflow ui`` command that serves ``store`` (a
    local store, as an absolute URI), or the server that holds them."""
    command = ui_command(store)
    from synthbalance.cli import params_items

    same = "".join(f",{key}={value}" for key, value in params_items(params or {})
                   if not key.startswith("grid."))
    return (f"\nRanked by {RANKED_BY}, the test PR AUC gain of adding each model's rows "
            "(docs/metrics.md); `advice` is each run's advised arm on its validation rows "
            f"(none: do not augment; {NO_ADVICE}: SMOTE advises nothing). Every arm side by "
            "side, for the newest comparison: notebooks/compare_models.ipynb. One model's "
            "advised training set (data/05_model_input/augmented_train.parquet): kedro run "
            f'--params "training.model=<model>,training.strategy=<strategy>{same}"'
            f"\nMLflow experiment '{experiment}': {command or f'on {store}'}")


if __name__ == "__main__":
    main()
