"""Nodes of the ``evaluation`` pipeline.

Real reference rows are the minority rows of the untouched test split: generators never saw
them, so a generator that memorised its training rows gains nothing here. Every metric is
computed per minority class and averaged over classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from ydata_profiling import ProfileReport

from synthbalance.core import plots
from synthbalance.core.metrics import (
    correlation_difference,
    detection,
    fidelity,
    privacy,
    recall_gain_experiment,
)
from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.params import EvaluationParams

HEADLINE_PRIVACY = ("exact_copies", "exact_copy_share", "mia_auc", "dcr_ratio",
                    "dcr_synthetic_median", "dcr_holdout_median", "holdout_exact_copy_share")


def evaluate_fidelity(
    test_rows: pd.DataFrame, synthetic_rows: pd.DataFrame, schema: Schema
) -> tuple[dict[str, float], pd.DataFrame, Figure]:
    """Per-column distances (std-scaled Wasserstein, total variation), their mean and the
    correlation distance, real test minority rows vs synthetic rows; plus the heatmap."""
    per_class = {c: fidelity(*_pair(test_rows, synthetic_rows, schema, c), schema)
                 for c in schema.minority_classes}
    columns = pd.DataFrame(
        [{"class": c, "column": col, "kind": schema[col].kind, "distance": d}
         for c, result in per_class.items() for col, d in result["columns"].items()]
    )
    metrics = {
        "fidelity.wasserstein_mean": _mean(r["wasserstein_mean"] for r in per_class.values()),
        "fidelity.correlation_distance": _mean(
            r["correlation_distance"] for r in per_class.values()),
        **{f"fidelity.column.{col}": d
           for col, d in columns.groupby("column", sort=False)["distance"].mean().items()},
    }
    first = schema.minority_classes[0]
    heatmap = plots.correlation_heatmap(
        correlation_difference(*_pair(test_rows, synthetic_rows, schema, first), schema),
        title=f"|corr(real) - corr(synthetic)|, class {first}",
    )
    return metrics, columns, heatmap


def evaluate_detection(
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    """xgboost real-vs-synthetic accuracy and ROC AUC (0.5: indistinguishable), and the same
    test on real training vs real test rows as the reference a perfect generator reaches."""
    params = EvaluationParams.from_dict(evaluation)
    options = {"n_jobs": params.n_jobs, "max_rows": params.max_rows}
    found, reference = [], []
    for c in schema.minority_classes:
        real, synth = _pair(test_rows, synthetic_rows, schema, c)
        found.append(detection(real, synth, schema, seed, **options))
        reference.append(detection(real, _rows(train_rows, schema, c), schema, seed, **options))
    return {
        "detection.accuracy": _mean(d["accuracy"] for d in found),
        "detection.auc": _mean(d["auc"] for d in found),
        "detection.reference_accuracy": _mean(d["accuracy"] for d in reference),
        "detection.reference_auc": _mean(d["auc"] for d in reference),
    }


def evaluate_utility(
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    held_back_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> tuple[dict[str, Any], pd.DataFrame, Figure]:
    """The recall-gain experiment: baseline xgboost vs. + k synthetic, SMOTE and held-back
    real minority rows, scored on the real test split, over ``evaluation.seeds`` seeds."""
    params = EvaluationParams.from_dict(evaluation)
    k_grid, headline_k = _k_grid(train_rows, schema, params)
    result = recall_gain_experiment(
        train_rows, test_rows, schema, synthetic_rows,
        held_back_rows if len(held_back_rows) else None,
        k_grid, [seed + i for i in range(params.seeds)], headline_k,
        smote=params.smote, xgb_params={"n_estimators": params.n_trees}, n_jobs=params.n_jobs,
    )
    curve = result.curve()
    metrics: dict[str, Any] = {f"utility.{k}": v for k, v in result.summary().items()}
    metrics["utility.headline_k"] = float(headline_k)
    for column in ("pr_auc_gain_mean", "recall_at_base_precision_gain_mean"):
        for method, rows in curve[curve["method"] != "baseline"].groupby("method"):
            name = f"utility.curve.{method}.{column.removesuffix('_mean')}"
            metrics[name] = dict(zip(rows["k"].astype(int), rows[column], strict=True))
    return metrics, result.table, plots.recall_gain_curve(curve)


def evaluate_privacy(
    train_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    """Exact copies of training rows, distance to closest record vs real hold-out rows,
    and the distance-based membership-inference AUC (0.5: no leak)."""
    params = EvaluationParams.from_dict(evaluation)
    results = [
        privacy(_rows(train_rows, schema, c), *_pair(test_rows, synthetic_rows, schema, c),
                schema, seed, max_rows=params.max_rows)
        for c in schema.minority_classes
    ]
    out = {f"privacy.{k}": _mean(r[k] for r in results) for k in HEADLINE_PRIVACY}
    out["privacy.exact_copies"] = float(sum(r["exact_copies"] for r in results))
    return out


def plot_marginals(
    test_rows: pd.DataFrame, synthetic_rows: pd.DataFrame, schema: Schema
) -> Figure:
    """Real (test) vs synthetic minority rows, one panel per column."""
    return plots.marginals(*_pair(test_rows, synthetic_rows, schema, schema.minority_classes[0]),
                           schema)


def plot_losses(generator: Synthesizer) -> Figure:
    """The generator's per-epoch losses and its periodic checks."""
    return plots.loss_curves(generator.generator.history,
                             title=f"{generator.generator.name}: training losses")


def compare_profiles(
    test_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> str:
    """A ydata-profiling comparison report: real test minority rows vs synthetic rows."""
    params = EvaluationParams.from_dict(evaluation)
    if not params.compare_profile:
        return "<html><body>evaluation.compare_profile is false.</body></html>"
    real, synth = _pair(test_rows, synthetic_rows, schema, schema.minority_classes[0])
    n = params.compare_sample_rows
    real = real.sample(min(n, len(real)), random_state=seed)[schema.names]
    synth = synth.sample(min(n, len(synth)), random_state=seed)[schema.names]
    reports = [ProfileReport(df, title=name, minimal=True, progress_bar=False)
               for df, name in ((real, "real minority rows"), (synth, "synthetic rows"))]
    return reports[0].compare(reports[1]).to_html()


def metrics_table(*metric_sets: dict[str, Any]) -> pd.DataFrame:
    """Every single-valued metric of the run in one table (the MLflow ``metrics.csv``)."""
    rows = [{"metric": k, "value": float(v)} for metrics in metric_sets for k, v in metrics.items()
            if not isinstance(v, dict | list)]
    table = pd.DataFrame(rows, columns=["metric", "value"])
    return table.drop_duplicates("metric").sort_values("metric", ignore_index=True)


def _rows(df: pd.DataFrame, schema: Schema, cls: Any) -> pd.DataFrame:
    return df[df[schema.target] == cls]


def _pair(
    real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, cls: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _rows(real, schema, cls), _rows(synth, schema, cls)


def _mean(values: Any) -> float:
    values = [float(v) for v in values]
    return float(np.nanmean(values)) if values and np.isfinite(values).any() else float("nan")


def _k_grid(train_rows: pd.DataFrame, schema: Schema, params: EvaluationParams
            ) -> tuple[list[int], int]:
    counts = train_rows[schema.target].value_counts()
    n = int(min(counts.get(c, 0) for c in schema.minority_classes))
    headline = max(1, round(params.headline_ratio * n))
    grid = sorted({max(1, round(r * n)) for r in params.k_ratios} | {headline})
    return grid, headline
