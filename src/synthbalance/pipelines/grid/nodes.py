"""Nodes of the ``grid`` pipeline: thin wrappers around the stages' own node functions.

A cell trains, samples, cleans and evaluates with the same functions as ``kedro run``; the
wrappers only pick a cell's settings and drop the outputs a cell does not keep (the MLflow
copy of the generator, figures and tables), so no cell output needs an MLflow run of its
process: everything a cell logs goes into its record, which ``MlflowCellRunDataset`` writes
as one MLflow run with an explicit run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.params import IngestParams
from synthbalance.pipelines.evaluation.nodes import evaluate_fidelity, evaluate_utility
from synthbalance.pipelines.training.nodes import train_generator
from synthbalance.run_names import run_name


def cell_settings(training: dict[str, Any], model: str, strategy: str, seed: int
                  ) -> tuple[dict[str, Any], int]:
    """The cell's ``training`` section (its ``model`` and ``strategy``) and its seed."""
    return {**training, "model": model, "strategy": strategy}, seed


def train_cell(*inputs: Any, class_value: Any = None
               ) -> tuple[Synthesizer, dict[str, list[float]]]:
    """:func:`train_generator` for one branch of a cell (same inputs: the training rows,
    their encoding, the transformer, the schema, the validation rows, the cell's
    ``training`` section and seed): the generator and its histories."""
    generator, _, history = train_generator(*inputs, class_value=class_value)
    return generator, history


def fidelity_metrics(test_rows: pd.DataFrame, synthetic_rows: pd.DataFrame, schema: Schema
                     ) -> dict[str, float]:
    """The metrics of :func:`evaluate_fidelity` (the per-column table and heatmap dropped)."""
    return evaluate_fidelity(test_rows, synthetic_rows, schema)[0]


def utility_metrics(*inputs: Any) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """:func:`evaluate_utility`, same inputs: its metrics, runs and arms (the curves dropped;
    the advice chooses from the runs and arms)."""
    return evaluate_utility(*inputs)[:3]


def cell_record(
    ingest: dict[str, Any],
    training: dict[str, Any],
    seed: int,
    parent: dict[str, Any],
    advice_tags: dict[str, Any],
    *metrics_and_histories: dict[str, Any],
    branches: Sequence[str] = (),
) -> dict[str, Any]:
    """What the cell's MLflow run holds: name, tags (with the advice's), params, metrics and
    the parent run.

    ``metrics_and_histories``: the metric dicts, then one training history per branch of
    ``branches``, then one dict of sampling metrics per branch (a single branch logs plain
    ``loss.*`` and ``sampling.*`` names, several prefix their class).
    """
    metrics: dict[str, Any] = {}
    per_branch = 2 * len(branches)
    for values in metrics_and_histories[: len(metrics_and_histories) - per_branch]:
        metrics.update(values)
    tail = metrics_and_histories[len(metrics_and_histories) - per_branch:]
    for branch, values in zip(2 * list(branches), tail, strict=True):
        prefix = "" if len(branches) == 1 else f"{branch}."
        metrics.update({prefix + k: v for k, v in values.items()})
    model, strategy = training["model"], training["strategy"]
    dataset = IngestParams.from_dict(ingest).name
    epsilon = (training.get("privacy") or {}).get("epsilon")
    return {"parent": parent, "name": run_name(model, strategy, dataset, seed, epsilon),
            "tags": {**advice_tags, "model": model, "strategy": strategy, "seed": seed,
                     "dataset": dataset},
            "params": {"seed": seed, "training": training}, "metrics": metrics}
