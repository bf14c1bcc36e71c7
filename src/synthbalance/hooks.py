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
            read_options=ingest.read_options,
            format=ingest.format,
            demo_rows=ingest.demo_rows,
            seed=self._params.seed,
        )

    @hook_impl(trylast=True)  # after kedro-mlflow has opened the run
    def before_pipeline_run(self) -> None:
        """Tag the MLflow run kedro-mlflow opened, so runs filter by model and dataset."""
        if self._params is None or mlflow.active_run() is None:
            return
        mlflow.set_tags(
            {
                "model": self._params.training.model,
                "strategy": self._params.training.strategy,
                "dataset": self._params.ingest.name,
            }
        )

    @hook_impl(tryfirst=True)  # before kedro-mlflow closes the run
    def after_pipeline_run(self) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        logger.info(
            "Done. MLflow run %s. Compare runs with: mlflow ui --backend-store-uri %s",
            run.info.run_id,
            mlflow.get_tracking_uri(),
        )


def _rebuild_pipelines() -> None:
    """Make Kedro rebuild its pipelines with this run's parameters (see branches.py)."""
    from kedro.framework.project import PACKAGE_NAME, pipelines

    if PACKAGE_NAME:
        pipelines.configure(f"{PACKAGE_NAME}.pipeline_registry")
