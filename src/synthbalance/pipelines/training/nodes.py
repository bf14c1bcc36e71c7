"""Nodes of the ``training`` pipeline."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from synthbalance.core.dp_scope import privacy_tags
from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import Synthesizer, TrainingPlan, train_synthesizer
from synthbalance.core.transformer import TabularTransformer
from synthbalance.params import TrainingParams


def train_generator(
    train_rows: pd.DataFrame,
    train_encoded: pd.DataFrame,
    transformer: TabularTransformer,
    schema: Schema,
    validation_rows: pd.DataFrame,
    training: dict[str, Any],
    seed: int,
    class_value: Any = None,
) -> tuple[Synthesizer, Synthesizer, dict[str, dict[int, float]]]:
    """Train ``training.model`` and return it (twice: the model file and the MLflow model)
    with its per-epoch histories as ``loss.*``, per-check histories as ``check.*`` and,
    with ``training.privacy``, the accountant's ``privacy.epsilon`` per epoch; each value
    keyed by its epoch (1-based), the step MLflow plots it at. Beside them, single values:
    ``training.epochs_planned``, ``training.epochs_run``, ``training.best_epoch`` and
    ``training.seconds`` (wall seconds of the fit, periodic checks included).

    A per-class branch learns ``class_value`` (default: the least frequent class) from that
    class's rows only; the conditional branch learns every class at once. Neither trains
    on the validation rows, which the periodic checks compare with.
    """
    params = TrainingParams.from_dict(training)
    if params.strategy == "per_class" and class_value is None:
        class_value = schema.minority_classes[0]
    plan = TrainingPlan(
        model=params.model,
        config=params.generator_config,
        class_value=class_value if params.strategy == "per_class" else None,
        strategy=params.strategy,
        check_max_rows=params.check_max_rows,
        seed=seed,
    )
    start = time.perf_counter()
    synthesizer = train_synthesizer(train_rows, train_encoded.to_numpy(), transformer, schema,
                                    plan, validation=validation_rows)
    return synthesizer, synthesizer, _metrics(synthesizer, time.perf_counter() - start)


def privacy_scope(schema: Schema, training: dict[str, Any]) -> dict[str, str]:
    """MLflow tags: whether DP-SGD trained the generators (``privacy.dp``) and, when it
    did, what its ε does not cover (statistics the preprocessing took from real rows)."""
    params = TrainingParams.from_dict(training)
    return privacy_tags(schema, params.privacy is not None)


def _metrics(synthesizer: Synthesizer, seconds: float) -> dict[str, Any]:
    """The histories (:func:`_history_metrics`), the budget's single values and
    ``training.seconds``."""
    histories = _history_metrics(synthesizer.generator.history)
    return {**histories, **_budget_metrics(synthesizer, histories), "training.seconds": seconds}


def _budget_metrics(synthesizer: Synthesizer,
                    histories: dict[str, dict[int, float]]) -> dict[str, float]:
    """``training.epochs_planned`` (``training.epochs``, or what ``auto`` resolved to),
    ``training.epochs_run`` (fewer after an early stop) and ``training.best_epoch`` (the
    epoch whose weights were kept; NaN, so not logged, for a generator never fitted)."""
    run = max((max(h) for k, h in histories.items() if k.startswith("loss.") and h),
              default=0)
    best = synthesizer.generator.best_epoch
    return {"training.epochs_planned": float(synthesizer.generator.epochs),
            "training.epochs_run": float(run),
            "training.best_epoch": float("nan") if best is None else float(best)}


def _history_metrics(history: dict[str, list[float]]) -> dict[str, dict[int, float]]:
    """Every history at its epochs (1, 2, ...), so MLflow plots them on one epoch axis:
    ``loss.<name>`` and ``privacy.*`` (ε, δ) once per epoch, ``check.*`` at the epochs of
    the periodic checks (``check.epoch``, which is then the step, not a metric of its own).
    """
    checked = [int(epoch) for epoch in history.get("check.epoch", [])]
    out: dict[str, dict[int, float]] = {}
    for key, values in history.items():
        if key == "check.epoch":
            continue
        epochs = checked if key.startswith("check.") else range(1, len(values) + 1)
        name = key if key.startswith(("check.", "privacy.")) else f"loss.{key}"
        out[name] = dict(zip(epochs, values, strict=True))
    return out
