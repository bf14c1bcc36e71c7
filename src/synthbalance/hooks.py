"""Project hooks: parameter checks, the raw-source dataset, MLflow run tags, a closing hint.

Nodes stay free of tracking code; the few MLflow calls the project makes outside catalog
datasets (run tags) live here, as kedro-mlflow recommends.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from synthbalance.branches import set_run_parameters
from synthbalance.datasets import SourceTableDataset
from synthbalance.params import Params, parse_params

logger = logging.getLogger(__name__)


class SynthBalanceHooks:
    """Checks parameters before anything runs and wires what depends on them."""

    def __init__(self) -> None:
        self._params: Params | None = None
        self._run_id: str | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Reject unknown or mistyped parameters at once, then shape the pipelines."""
        raw = dict(context.params)
        self._params = parse_params(raw)
        set_run_parameters(raw)
        _rebuild_pipelines()

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        """Register ``raw_table`` from ``ingest.source`` and its read options."""
        if self._params is None:
            return
        ingest = self._params.ingest
        catalog["raw_table"] = SourceTableDataset(
            source=ingest.source,
            read_options=ingest.read_options.pandas_options(),
            format=ingest.format,
            demo_rows=ingest.demo_rows,
            seed=self._params.seed,
        )

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Tag the MLflow run kedro-mlflow opened, so runs filter by model and dataset."""
        run = mlflow.active_run()
        self._run_id = run.info.run_id if run else None
        if self._params is None or run is None:
            return
        smote = "smote_reference" in (run_params.get("pipeline_names") or [])
        training = self._params.training
        mlflow.set_tags(
            {
                "model": "smote" if smote else training.model,
                "strategy": "none" if smote else training.strategy,
                "dataset": self._params.ingest.name,
            }
        )

    @hook_impl(trylast=True)  # after kedro-mlflow has closed the run
    def after_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """Close what is left of the run, say where to look at it, and end with the advice."""
        set_run_parameters(None)  # later pipelines of this process follow conf/ again
        if self._run_id is not None:
            _close_run(self._run_id)
            logger.info(
                "Done: MLflow run %s. Compare runs with: mlflow ui --backend-store-uri %s",
                self._run_id,
                mlflow.get_tracking_uri(),
            )
        if "advice_verdict" in pipeline.all_outputs():
            # printed, not logged: the log handler wraps it at a narrow width, and it is the
            # one paragraph of the run meant to be read as it is
            print(f"\n{catalog.get('advice_verdict').load().strip()}\n", flush=True)

    @hook_impl(trylast=True)
    def on_pipeline_error(self) -> None:
        """Mark the MLflow run failed."""
        set_run_parameters(None)
        if self._run_id is not None:
            _close_run(self._run_id, status="FAILED")


def _close_run(run_id: str, status: str = "FINISHED") -> None:
    """End every copy of ``run_id`` still on MLflow's active-run stack.

    kedro-mlflow re-opens the run before each node (for threaded runners); with MLflow 3 each
    re-open stacks another copy and only one is closed, so a second Kedro session in the same
    process would log into this run. Seen with kedro-mlflow 2.0.3 and MLflow 3.17.
    """
    while (run := mlflow.active_run()) is not None and run.info.run_id == run_id:
        mlflow.end_run(status)


def _rebuild_pipelines() -> None:
    """Make Kedro rebuild its pipelines with this run's parameters (see branches.py)."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    if PACKAGE_NAME:
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
