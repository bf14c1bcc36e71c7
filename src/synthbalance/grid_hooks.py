"""The hook that hands the comparison grid its parent MLflow run.

kedro-mlflow opens one MLflow run per ``kedro run`` (the grid's parent run). Each grid cell
logs its own run under it with an explicit id (``MlflowCellRunDataset``), in whatever
process the cell runs; this hook tells the cells which run is the parent, as the pipeline
input ``grid_parent_run``, once kedro-mlflow has opened it.
"""

from __future__ import annotations

from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl

from synthbalance.pipelines.grid.pipeline import PARENT


class GridHooks:
    """Registers ``grid_parent_run`` for a run of the ``grid`` pipeline."""

    @hook_impl(trylast=True)  # after kedro-mlflow's before_pipeline_run opened the run
    def before_pipeline_run(self, pipeline: Any, catalog: Any) -> None:
        """``grid_parent_run``: ``{tracking_uri, experiment_id, run_id}`` of the active run
        (``run_id`` None when tracking is off: then cells log nothing)."""
        if PARENT not in pipeline.inputs():
            return
        run = mlflow.active_run()
        if run is not None:
            mlflow.set_tag("synthbalance.grid", "parent")
        catalog[PARENT] = {
            "tracking_uri": mlflow.get_tracking_uri(),
            "experiment_id": run.info.experiment_id if run else None,
            "run_id": run.info.run_id if run else None,
        }
