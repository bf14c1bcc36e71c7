"""Wiring of the ``grid`` pipeline: the comparison grid as namespaced modular pipelines.

``grid`` (the shared part) validates the table, splits it with the run's ``seed``, fits
the encoder and the cleaning rules once. Then one cell per ``(model, strategy, seed)`` of
``grid.*`` (:meth:`~synthbalance.params.GridParams.cells`), namespace
``grid.<model>_<strategy>_seed<seed>``, with one sub-namespace per generator branch,
trains, samples, cleans, evaluates and advises (``choose_arm``), and writes one record: an
MLflow run nested under the run kedro-mlflow opened (``grid_parent_run``, set by
:class:`~synthbalance.grid_hooks.GridHooks`). kedro-viz shows each cell as a modular
pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from synthbalance.branches import Branch, generator_branches
from synthbalance.core.config import STRATEGIES_BY_MODEL
from synthbalance.params import parse_params
from synthbalance.pipelines import ingest, postprocessing, preprocessing
from synthbalance.pipelines.advice.nodes import choose_arm
from synthbalance.pipelines.evaluation.nodes import evaluate_detection, evaluate_privacy
from synthbalance.pipelines.postprocessing.nodes import clean_rows
from synthbalance.pipelines.sampling.nodes import combine_rows, sample_rows

from .nodes import cell_record, cell_settings, fidelity_metrics, train_cell, utility_metrics

#: The shared datasets every cell reads (``grid.<name>`` outside the cells).
SHARED = ("train_rows", "train_encoded", "transformer", "schema", "validation_rows",
          "test_rows", "held_back_rows", "cleaning_rules")
PARENT = "grid_parent_run"
_EVAL = ["schema", "params:evaluation", "seed"]
_ROWS = ["train_rows", "validation_rows", "test_rows", "held_back_rows", "synthetic_rows"]


@dataclass(frozen=True)
class Cell:
    """One cell of the grid and the generator branches its strategy gives."""

    model: str
    strategy: str
    seed: int
    branches: tuple[Branch, ...]

    @property
    def namespace(self) -> str:
        return f"grid.{self.model}_{self.strategy}_seed{self.seed}"


def grid_cells(params: Mapping[str, Any]) -> list[Cell]:
    """The cells that the run's parameters (``grid.*``, ``seed``) ask for.

    Raises:
        ConfigError: an unknown family or strategy, or another bad parameter.
    """
    parsed = parse_params(params)
    cells = []
    for model, strategy, seed in parsed.grid.cells(parsed.seed):
        training = {**params.get("training", {}), "model": model, "strategy": strategy}
        branches = generator_branches({**params, "training": training})
        cells.append(Cell(model, strategy, seed, tuple(branches)))
    return cells


def cell_of(namespace: str | None) -> tuple[str, str] | None:
    """``(model, strategy)`` of the grid cell a node's ``namespace`` lies in, else None."""
    parts = (namespace or "").split(".")
    if len(parts) < 2 or parts[0] != "grid":
        return None
    return next(((m, s) for m, strategies in STRATEGIES_BY_MODEL.items() for s in strategies
                 if parts[1].startswith(f"{m}_{s}_seed")), None)


def create_pipeline(cells: Sequence[Cell], **kwargs) -> Pipeline:
    """The shared part and one namespaced cell per item of ``cells``."""
    shared = Pipeline(
        ingest.create_pipeline() + preprocessing.create_pipeline()
        + postprocessing.create_pipeline().only_nodes("fit_cleaning_rules"),
        namespace="grid", inputs={"raw_table"},
        parameters={"params:ingest", "params:preprocessing", "params:evaluation", "params:seed"},
    )
    return sum((_cell(cell) for cell in cells), shared)


def _named(func: Any, **fixed: Any) -> Any:
    """``partial(func, **fixed)`` that keeps ``func``'s name (the node's name in kedro-viz)."""
    return update_wrapper(partial(func, **fixed), func)


def _branch(branch: Branch) -> Pipeline:
    train = _named(train_cell, class_value=branch.class_value)
    inputs = ["train_rows", "train_encoded", "transformer", "schema", "validation_rows",
              "training", "seed"]
    template = Pipeline([
        Node(train, inputs, ["generator", "history"], name="train_generator"),
        Node(sample_rows, ["generator", "train_rows", "validation_rows", "schema",
                           "params:sampling", "seed"], ["rows", "sampling"], name="sample_rows"),
    ])
    return Pipeline(template, namespace=branch.namespace,
                    inputs={*SHARED[:5], "training", "seed"}, parameters={"params:sampling"})


def _cell(cell: Cell) -> Pipeline:
    names = [b.namespace for b in cell.branches]
    settings = _named(cell_settings, model=cell.model, strategy=cell.strategy, seed=cell.seed)
    record = _named(cell_record, branches=names)
    nodes = [
        Node(settings, "params:training", ["training", "seed"], name="cell_settings"),
        Node(combine_rows, [f"{n}.rows" for n in names], "synthetic_raw", name="combine_rows"),
        Node(clean_rows, ["synthetic_raw", "cleaning_rules", "schema",
                          "params:postprocessing", "seed"],
             ["synthetic_rows", "fixes", "postprocess"], name="clean_rows"),
        Node(fidelity_metrics, ["test_rows", "synthetic_rows", "schema"], "fidelity",
             name="evaluate_fidelity"),
        Node(evaluate_detection, ["train_rows", "test_rows", "synthetic_rows", *_EVAL],
             "detection", name="evaluate_detection"),
        Node(utility_metrics, [*_ROWS, *_EVAL], ["utility", "utility_runs", "utility_arms"],
             name="evaluate_utility"),
        Node(choose_arm, ["utility_arms", "utility_runs"],
             ["advice", "advice_scores", "advice_tags"], name="choose_arm"),
        Node(evaluate_privacy, [*_ROWS, *_EVAL], "privacy", name="evaluate_privacy"),
        Node(record, ["params:ingest", "training", "seed", PARENT, "advice_tags",
                      "postprocess", "fidelity", "detection", "utility", "privacy",
                      "advice_scores", *[f"{n}.history" for n in names],
                      *[f"{n}.sampling" for n in names]],
             "mlflow_run", name="cell_record"),
    ]
    body = sum((_branch(b) for b in cell.branches), Pipeline(nodes))
    return Pipeline(body, namespace=cell.namespace,
                    inputs={**{name: f"grid.{name}" for name in SHARED}, PARENT: PARENT},
                    parameters={"params:training", "params:sampling", "params:postprocessing",
                                "params:evaluation", "params:ingest"})
