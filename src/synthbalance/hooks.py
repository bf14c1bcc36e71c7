"""Project hooks: parameter checks, the raw-source guard, MLflow run names and tags, a
closing link to the run, and the guards that keep runs from destroying or mixing data (see
guards.py).

Nodes stay free of tracking code; the few MLflow calls the project makes outside catalog
datasets (run tags, the experiment's kind, a run's end status) live here, as kedro-mlflow
recommends.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.framework.hooks import hook_impl
from mlflow.tracking import MlflowClient
from rich.logging import RichHandler

from synthbalance.branches import set_run_parameters
from synthbalance.core.errors import StageOutputError
from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import (
    Synthesizer,
    check_one_training_run,
    check_rows_made_for,
    check_rows_of_schema,
    check_trained_for,
)
from synthbalance.guards import (
    InterruptGuard,
    ProjectLocks,
    close_run,
    refuse_half_made_store,
    refuse_output_source,
    refuse_unready_inputs,
)
from synthbalance.mlflow_ui import EXPERIMENT_KIND, run_url, ui_base, ui_command
from synthbalance.params import Params, parse_params
from synthbalance.pipeline_registry import STAGES
from synthbalance.pipelines.grid.pipeline import cell_of
from synthbalance.pipelines.smote.pipeline import REFERENCE, reference_note
from synthbalance.run_names import run_name
from synthbalance.tracking_server import STORE_ENV

logger = logging.getLogger(__name__)
#: Columns of a log that goes to a file or a pipe. Rich assumes 80 there, which splits
#: MLflow run ids, links and node names across lines; a terminal keeps its own width.
FILE_LOG_WIDTH = 160

#: Pipelines that train nothing: a run of only these is named and tagged for its stages,
#: not for ``training.model`` (``ingest-data-demo-seed42``, tag ``model: none``).
DATA_STAGES = ("ingest", "profiling", "preprocessing")


class SynthBalanceHooks:
    """Checks parameters before anything runs and wires what depends on them."""

    def __init__(self) -> None:
        self._params: Params | None = None
        self._run_id: str | None = None
        self._locks: ProjectLocks | None = None
        self._guard = InterruptGuard()
        self._mlflow: Any = None  # kedro-mlflow's configuration of this session
        self._configured_name: str | None = None  # mlflow.yml's tracking.run.name
        self._generator_versions: dict[str, str] = {}  # this run's loaded generators

    # a wrapper: its code before ``yield`` runs before kedro-mlflow opens the MLflow store
    @hook_impl(wrapper=True)
    def after_context_created(self, context: Any) -> Generator[None, Any, Any]:
        """Reject unknown or mistyped parameters at once, then shape the pipelines.

        The store lock is held around every plugin's ``after_context_created`` (kedro-mlflow
        creates and migrates ``mlflow.db`` there, and sets the experiment this hook then
        marks as a model-training one).
        """
        self._end_interrupted_run()
        _widen_file_logs()
        self._locks = ProjectLocks(Path(context.project_path))
        with self._locks.store():
            if not os.environ.get("MLFLOW_TRACKING_URI"):  # else the store is not mlflow.db
                refuse_half_made_store(Path.cwd())  # where conf/base/mlflow.yml puts it
            raw = dict(context.params)
            self._params = parse_params(raw)
            set_run_parameters(raw)
            _rebuild_pipelines()
            result = yield
            self._mlflow = getattr(context, "mlflow", None)  # set by kedro-mlflow's hook
            if self._mlflow is not None:
                self._configured_name = self._mlflow.tracking.run.name
                _mark_training_experiment(self._mlflow)
            return result

    @hook_impl
    def after_catalog_created(self, catalog: Any, conf_catalog: dict[str, Any]) -> None:
        """Refuse an ``ingest.source`` that a run writes, before anything is written.

        ``raw_table`` itself is declared in ``conf/base/catalog.yml`` from the same
        parameters (``${params:ingest.source}``).

        Raises:
            ConfigError: ``ingest.source`` is a file a run of this project writes.
        """
        if self._params is not None:
            refuse_output_source(self._params.ingest.source, conf_catalog, Path.cwd())

    # a wrapper: the run lock is taken and the run named before kedro-mlflow opens the
    # MLflow run, the tags are set after
    @hook_impl(wrapper=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any
                            ) -> Generator[None, Any, Any]:
        """Wait for any other run of this project, refuse one that reads what earlier
        stages have not saved, or outputs of two runs
        (:func:`~synthbalance.guards.refuse_unready_inputs`), name the MLflow run
        kedro-mlflow is about to open
        (:func:`~synthbalance.run_names.run_name`, unless ``mlflow.yml`` sets
        ``tracking.run.name``), then tag and watch it."""
        if self._locks is not None:
            self._locks.hold_run()
        try:
            refuse_unready_inputs(pipeline, catalog, _stage_pipelines())
        except StageOutputError:
            self._release()
            raise
        self._generator_versions = {}
        if self._mlflow is not None and self._params is not None:
            self._mlflow.tracking.run.name = (self._configured_name
                                              or _run_name(self._params, run_params))
        try:
            result = yield
        except BaseException:
            self._release()
            raise
        run = mlflow.active_run()
        self._run_id = run.info.run_id if run else None
        if self._run_id is not None:
            self._guard.watch(self._run_id)
        self._tag_run(run_params)
        return result

    def _tag_run(self, run_params: dict[str, Any]) -> None:
        """Tag the MLflow run kedro-mlflow opened, so runs filter by model and dataset."""
        if self._params is None or self._run_id is None:
            return
        kind = _reference_kind(run_params)
        # grid: the cells' parent; data: stages that train nothing
        model, strategy = {"smote": ("smote", "none"), "grid": ("grid", "grid"),
                           "data": ("none", "none")}.get(
            kind or "", (self._params.training.model, self._params.training.strategy))
        mlflow.set_tags(
            {
                "model": model,
                "strategy": strategy,
                "dataset": self._params.ingest.name,
                # Kedro gives kedro-mlflow the runner object's repr ("<kedro.runner.
                # sequential_runner.SequentialRunner object at 0x7f...>"); its class reads
                "runner": _runner_name(str(run_params.get("runner", ""))),
            }
        )

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any]) -> None:
        """Refuse a saved generator, or its rows, that this run's parameters do not describe.

        Raises:
            ModelFileError: a node's generator was trained as another model or strategy,
                or on another table, or saved by another training run than a generator
                this run already loaded; or its synthetic rows were made by such a
                generator (see :func:`check_trained_for`, :func:`check_one_training_run`,
                :func:`check_rows_made_for`).
            DataValidationError: a table of rows lacks columns of the node's schema
                (:func:`check_rows_of_schema`).
        """
        if self._params is None:
            return
        training = self._params.training
        # a grid cell's own model and strategy (pipelines/grid), else the run's
        model, strategy = cell_of(node.namespace) or (training.model, training.strategy)
        for name, value in inputs.items():
            if isinstance(value, Synthesizer):
                check_trained_for(value, model, strategy, inputs.get("schema"))
                check_one_training_run(name, value, self._generator_versions)
            elif isinstance(value, pd.DataFrame):
                check_rows_made_for(name, value, model, strategy)
                schema = inputs.get("schema")
                if isinstance(schema, Schema):
                    check_rows_of_schema(name, value, schema, f"ingest.source="
                                         f"{self._params.ingest.source},ingest.target="
                                         f"{schema.target}")

    @hook_impl(trylast=True)  # after kedro-mlflow has closed the run
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Close what is left of the run, say where to look at it, and end with the advice."""
        set_run_parameters(None)  # later pipelines of this process follow conf/ again
        if self._run_id is not None:
            close_run(self._run_id)
            self._print_run_link()
        if "advice_verdict" in pipeline.all_outputs():
            # printed, not logged: the log handler wraps it at a narrow width, and it is the
            # one paragraph of the run meant to be read as it is
            print(f"\n{catalog.get('advice_verdict').load().strip()}\n", flush=True)
        elif f"{REFERENCE}.synthetic_rows" in pipeline.all_outputs():
            print(f"\n{reference_note()}\n", flush=True)
        self._release()  # last: the verdict above is still this run's file

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        """Mark the MLflow run failed, or killed when the user's Ctrl-C or SIGTERM is what
        a library turned into this error."""
        set_run_parameters(None)
        if self._run_id is not None and self._guard.signalled:
            # kedro-mlflow's own error hook, which runs first, has ended the run FAILED
            MlflowClient().set_terminated(self._run_id, status="KILLED")
            self._end_interrupted_run()
            return
        if self._run_id is not None:
            close_run(self._run_id, status="FAILED")
        self._release()

    def _print_run_link(self) -> None:
        """Where to see the run: its page in the classic training view, and the command
        that serves a local store (the store behind a server the command started and
        stops, :data:`~synthbalance.tracking_server.STORE_ENV`). Printed, not logged: the
        log handler would break the link across lines."""
        run = MlflowClient().get_run(self._run_id)
        uri = os.environ.get(STORE_ENV) or mlflow.get_tracking_uri()
        ui = self._mlflow.ui if self._mlflow is not None else None
        host, port = (ui.host, ui.port) if ui is not None else ("127.0.0.1", 5000)
        url = run_url(ui_base(uri, host, port), run.info.experiment_id, run.info.run_id)
        command = ui_command(uri, host, port)
        print(f"\nMLflow run {run.info.run_name}: {url}", flush=True)
        if command:
            print(f"(start the MLflow UI first: {command})", flush=True)

    def _release(self) -> None:
        """The run ended through a hook: stop watching it and free the run lock."""
        self._guard.release()
        if self._locks is not None:
            self._locks.release_run()

    def _end_interrupted_run(self) -> None:
        """A run of this process stopped by Ctrl-C (a notebook): mark it, free its lock."""
        self._guard.end_interrupted()
        if self._locks is not None:
            self._locks.release_run()


def _widen_file_logs(width: int = FILE_LOG_WIDTH) -> None:
    """Rich log handlers that write to a file or a pipe (``kedro run > run.log``, a CI log)
    print lines ``width`` columns wide instead of rich's 80; handlers on a terminal, and
    every handler when ``COLUMNS`` is set (rich reads it), are left as they are."""
    if os.environ.get("COLUMNS"):
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, RichHandler) and not handler.console.is_terminal:
            handler.console.width = max(handler.console.width, width)


def _run_name(params: Params, run_params: dict[str, Any]) -> str:
    """``cvae-conditional-demo-seed0``; the SMOTE reference run: ``smote-reference-demo-seed0``;
    the parent run of a grid: ``grid-cells-demo-seed0`` (its cells name their own runs); a
    run of stages before training: ``ingest+preprocessing-data-demo-seed0``; a run of some
    of the other stages puts them first (``evaluation-cvae-conditional-demo-seed0``,
    ``training+sampling-cvae-...``), apart from a whole run's name; a scarce cut and a
    declared deployment prevalence join the name (``run_names``)."""
    kind = _reference_kind(run_params)
    rows = {"scarce": params.preprocessing.scarce_minority_rows,
            "prevalence": params.evaluation.deployment_prevalence}
    if kind is not None:
        what = {"smote": ("smote", "reference"), "grid": ("grid", "cells")}.get(
            kind, ("+".join(run_params["pipeline_names"]), "data"))
        return run_name(*what, params.ingest.name, params.seed, **rows)
    privacy = params.training.privacy
    name = run_name(params.training.model, params.training.strategy, params.ingest.name,
                    params.seed, privacy.epsilon if privacy is not None else None, **rows)
    stages = run_params.get("pipeline_names") or []
    if stages and "__default__" not in stages and not set(STAGES) <= set(stages):
        ordered = sorted(stages, key=lambda s: STAGES.index(s) if s in STAGES else len(STAGES))
        return f"{'+'.join(ordered)}-{name}"  # some stages: apart from a whole run's name
    return name


def _runner_name(text: str) -> str:
    """``SequentialRunner`` from an object repr ``<kedro.runner....SequentialRunner object
    at 0x...>``; any other text as it is."""
    found = re.fullmatch(r"<(?:[\w.]+\.)?(\w+) object at 0x[0-9a-fA-F]+>", text)
    return found.group(1) if found else text


def _reference_kind(run_params: dict[str, Any]) -> str | None:
    """``"smote"`` for the SMOTE reference run, ``"grid"`` for a grid's parent, ``"data"``
    for a run of :data:`DATA_STAGES` only (``--pipelines=ingest``), else None."""
    names = run_params.get("pipeline_names") or []
    if names and set(names) <= set(DATA_STAGES):
        return "data"
    return "smote" if "smote_reference" in names else "grid" if "grid" in names else None


def _stage_pipelines() -> dict[str, Any]:
    """The project's stage pipelines by name, in run order (``pipeline_registry.STAGES``)."""
    from kedro.framework.project import pipelines

    return {name: pipelines[name] for name in STAGES if name in pipelines}


def _mark_training_experiment(config: Any) -> None:
    """Tag kedro-mlflow's experiment as model training (unless it has a kind already), so
    the MLflow UI opens it in its classic view (see synthbalance/mlflow_ui.py)."""
    experiment = getattr(config.tracking.experiment, "_experiment", None)
    key, value = EXPERIMENT_KIND
    if experiment is not None and key not in experiment.tags:
        MlflowClient().set_experiment_tag(experiment.experiment_id, key, value)


def _rebuild_pipelines() -> None:
    """Make Kedro rebuild its pipelines with this run's parameters (see branches.py)."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    if PACKAGE_NAME:
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
