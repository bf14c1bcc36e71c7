"""Project hooks: parameter checks, the raw-source guard, MLflow run tags, a closing hint,
and the guards that keep runs from destroying or mixing data (see guards.py).

Nodes stay free of tracking code; the few MLflow calls the project makes outside catalog
datasets (run tags, a run's end status) live here, as kedro-mlflow recommends.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.framework.hooks import hook_impl

from synthbalance.branches import set_run_parameters
from synthbalance.core.synthesizer import Synthesizer, check_rows_made_for, check_trained_for
from synthbalance.guards import InterruptGuard, ProjectLocks, close_run, refuse_output_source
from synthbalance.params import Params, parse_params
from synthbalance.pipelines.grid.pipeline import cell_of

logger = logging.getLogger(__name__)


class SynthBalanceHooks:
    """Checks parameters before anything runs and wires what depends on them."""

    def __init__(self) -> None:
        self._params: Params | None = None
        self._run_id: str | None = None
        self._locks: ProjectLocks | None = None
        self._guard = InterruptGuard()

    # a wrapper: its code before ``yield`` runs before kedro-mlflow opens the MLflow store
    @hook_impl(wrapper=True)
    def after_context_created(self, context: Any) -> Generator[None, Any, Any]:
        """Reject unknown or mistyped parameters at once, then shape the pipelines.

        The store lock is held around every plugin's ``after_context_created`` (kedro-mlflow
        creates and migrates ``mlflow.db`` there).
        """
        self._end_interrupted_run()
        self._locks = ProjectLocks(Path(context.project_path))
        with self._locks.store():
            raw = dict(context.params)
            self._params = parse_params(raw)
            set_run_parameters(raw)
            _rebuild_pipelines()
            return (yield)

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

    # a wrapper: the run lock is taken before kedro-mlflow opens the MLflow run, the tags
    # are set after
    @hook_impl(wrapper=True)
    def before_pipeline_run(self, run_params: dict[str, Any]) -> Generator[None, Any, Any]:
        """Wait for any other run of this project, then tag and watch the MLflow run."""
        if self._locks is not None:
            self._locks.hold_run()
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
        names = run_params.get("pipeline_names") or []
        smote, grid = "smote_reference" in names, "grid" in names  # grid: the cells' parent
        training = self._params.training
        mlflow.set_tags(
            {
                "model": "smote" if smote else "grid" if grid else training.model,
                "strategy": "none" if smote else "grid" if grid else training.strategy,
                "dataset": self._params.ingest.name,
            }
        )

    @hook_impl
    def before_node_run(self, node: Any, inputs: dict[str, Any]) -> None:
        """Refuse a saved generator, or its rows, that this run's parameters do not describe.

        Raises:
            ModelFileError: a node's generator was trained as another model or strategy,
                or on another table; or its synthetic rows were made by such a generator
                (see :func:`check_trained_for`, :func:`check_rows_made_for`).
        """
        if self._params is None:
            return
        training = self._params.training
        # a grid cell's own model and strategy (pipelines/grid), else the run's
        model, strategy = cell_of(node.namespace) or (training.model, training.strategy)
        for name, value in inputs.items():
            if isinstance(value, Synthesizer):
                check_trained_for(value, model, strategy, inputs.get("schema"))
            elif isinstance(value, pd.DataFrame):
                check_rows_made_for(name, value, model, strategy)

    @hook_impl(trylast=True)  # after kedro-mlflow has closed the run
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Close what is left of the run, say where to look at it, and end with the advice."""
        set_run_parameters(None)  # later pipelines of this process follow conf/ again
        if self._run_id is not None:
            close_run(self._run_id)
            logger.info(
                "Done: MLflow run %s. Compare runs with: mlflow ui --backend-store-uri %s",
                self._run_id,
                mlflow.get_tracking_uri(),
            )
        if "advice_verdict" in pipeline.all_outputs():
            # printed, not logged: the log handler wraps it at a narrow width, and it is the
            # one paragraph of the run meant to be read as it is
            print(f"\n{catalog.get('advice_verdict').load().strip()}\n", flush=True)
        self._release()  # last: the verdict above is still this run's file

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        """Mark the MLflow run failed."""
        set_run_parameters(None)
        if self._run_id is not None:
            close_run(self._run_id, status="FAILED")
        self._release()

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


def _rebuild_pipelines() -> None:
    """Make Kedro rebuild its pipelines with this run's parameters (see branches.py)."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    if PACKAGE_NAME:
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
