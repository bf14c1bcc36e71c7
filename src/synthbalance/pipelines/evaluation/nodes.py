"""Nodes of the ``evaluation`` pipeline.

Real reference rows are the minority rows of the untouched test split: generators never saw
them, so a generator that memorised its training rows gains nothing here. Every metric is
computed per minority class and averaged over classes.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from synthbalance.core import plots
from synthbalance.core.metrics import (
    correlation_difference,
    detection,
    fidelity_by_class,
    privacy,
    real_identifier_values,
    recall_gain_experiment,
)
from synthbalance.core.metrics.per_class import class_mean, per_class
from synthbalance.core.naming import HEADLINE_METRICS
from synthbalance.core.schema import Schema
from synthbalance.core.split import validation_mask
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.core.tables import rows_of
from synthbalance.params import EvaluationParams
from synthbalance.profiles import no_column_bars, profile_report

#: Privacy metrics averaged over classes; :data:`PRIVACY_COUNTS` are summed instead (the
#: attacked members too: a coin flip's AUC averaged over K classes of m members each
#: spreads about as one over K m, which is what the verdict's leak bar reads).
HEADLINE_PRIVACY = ("exact_copy_share", "mia_auc", "dcr_ratio", "dcr_synthetic_median",
                    "dcr_holdout_median", "holdout_exact_copy_share", "dcr_auc",
                    "dcr_tpr_at_fpr10", "domias_auc", "domias_tpr_at_fpr10",
                    "unique_row_chance_share")
PRIVACY_COUNTS = ("exact_copies", "unique_row_copies", "unique_row_copies_beyond_chance",
                  "attack_members")
#: Detection metrics averaged over classes (the interval's ends too); rows scored are summed.
DETECTION = ("accuracy", "accuracy_low", "accuracy_high", "auc")


def evaluate_fidelity(
    test_rows: pd.DataFrame, synthetic_rows: pd.DataFrame, schema: Schema
) -> tuple[dict[str, float], pd.DataFrame, Figure]:
    """Per-column distances (std-scaled Wasserstein, total variation), their mean and the
    correlation distance, real test minority rows vs synthetic rows; plus the heatmap."""
    metrics, columns = fidelity_by_class(test_rows, synthetic_rows, schema)
    first = schema.minority_classes[0]
    heatmap = plots.correlation_heatmap(
        correlation_difference(*_first_class(schema, test_rows, synthetic_rows), schema),
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
    detect = partial(detection, schema=schema, seed=seed, n_jobs=params.n_jobs,
                     max_rows=params.max_rows)
    found = per_class(detect, schema, test_rows, synthetic_rows)
    reference = per_class(detect, schema, test_rows, train_rows)
    return {
        **class_mean(found, DETECTION, prefix="detection.", totals=("scored_rows",)),
        **class_mean(reference, ("accuracy", "auc"), prefix="detection.reference_"),
    }


def evaluate_utility(
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    held_back_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, Figure]:
    """The utility experiment's arms (baseline, class weights, random oversampling, SMOTE,
    synthetic and held-back real rows), fitted without the validation rows and scored on
    the real test split over ``evaluation.seeds`` seeds: the metrics, the table of runs,
    the table of arms with their intervals, and the gain curves."""
    params = EvaluationParams.from_dict(evaluation)
    k_grid, headline_k = _k_grid(train_rows, schema, params)
    result = recall_gain_experiment(
        train_rows, test_rows, schema, synthetic_rows,
        held_back_rows if len(held_back_rows) else None,
        k_grid, [seed + i for i in range(params.seeds)], headline_k,
        validation=validation_rows, smote=params.smote, n_boot=params.n_bootstrap,
        xgb_params={"n_estimators": params.n_trees}, n_jobs=params.n_jobs,
        deployment_prevalence=params.deployment_prevalence, progress=True,
    )
    return (result.metrics("utility."), result.table, result.arms,
            plots.recall_gain_curve(result.curve()))


def evaluate_privacy(
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    held_back_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    seed: int,
) -> dict[str, float]:
    """Exact copies of training rows beside the test rows' own rate, distance to closest
    record, the DCR and DOMIAS membership attacks (AUC 0.5: no leak) and real identifier
    values in synthetic rows (0: none). Members: the rows the generator trained on (the
    training rows but the validation rows); attacked non-members: test rows, only scored,
    never fitted on; DOMIAS reference: validation and held-back rows."""
    params = EvaluationParams.from_dict(evaluation)
    held_out = validation_mask(train_rows, validation_rows)
    parts = [train_rows[held_out]] + ([held_back_rows] if len(held_back_rows) else [])
    reference = pd.concat(parts)
    attack = partial(privacy, schema=schema, seed=seed, max_rows=params.max_rows)
    results = per_class(attack, schema, train_rows[~held_out], test_rows, synthetic_rows,
                        reference)
    leaked = real_identifier_values(synthetic_rows, schema, train_rows, test_rows,
                                    held_back_rows)
    return {**class_mean(results, HEADLINE_PRIVACY, prefix="privacy.", totals=PRIVACY_COUNTS),
            "privacy.real_identifier_values": float(leaked)}


def plot_marginals(
    test_rows: pd.DataFrame, synthetic_rows: pd.DataFrame, schema: Schema
) -> Figure:
    """Real (test) vs synthetic minority rows, one panel per column."""
    return plots.marginals(*_first_class(schema, test_rows, synthetic_rows), schema)


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
    """A ydata-profiling comparison report: real test minority rows vs synthetic rows, with
    columns typed as the schema's kinds (:func:`~synthbalance.profiles.profile_types`)."""
    params = EvaluationParams.from_dict(evaluation)
    if not params.compare_profile:
        return "<html><body>evaluation.compare_profile is false.</body></html>"
    real, synth = _first_class(schema, test_rows, synthetic_rows)
    n = params.compare_sample_rows
    real = real.sample(min(n, len(real)), random_state=seed)[schema.names]
    synth = synth.sample(min(n, len(synth)), random_state=seed)[schema.names]
    reports = [profile_report(df, schema, title=name, minimal=True)
               for df, name in ((real, "real minority rows"), (synth, "synthetic rows"))]
    with no_column_bars():
        return reports[0].compare(reports[1]).to_html()


def metrics_table(*metric_sets: dict[str, Any]) -> pd.DataFrame:
    """Every single-valued metric of the run in one table (the MLflow ``metrics.csv``).

    The headline metrics come first, in the order of
    :data:`~synthbalance.core.naming.HEADLINE_METRICS`, then the rest by name.
    """
    rows = [{"metric": k, "value": float(v)} for metrics in metric_sets for k, v in metrics.items()
            if not isinstance(v, dict | list)]
    table = pd.DataFrame(rows, columns=["metric", "value"]).drop_duplicates("metric")
    rank = table["metric"].map({m: i for i, m in enumerate(HEADLINE_METRICS)})
    order = table.assign(rank=rank.fillna(len(HEADLINE_METRICS))).sort_values(["rank", "metric"])
    return order.drop(columns="rank").reset_index(drop=True)


def _first_class(schema: Schema, *frames: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Each frame's rows of the first minority class (the one plots and reports show)."""
    return tuple(rows_of(df, schema.target, schema.minority_classes[0]) for df in frames)


def _k_grid(train_rows: pd.DataFrame, schema: Schema, params: EvaluationParams
            ) -> tuple[list[int], int]:
    counts = train_rows[schema.target].value_counts()
    n = int(min(counts.get(c, 0) for c in schema.minority_classes))
    headline = max(1, round(params.headline_ratio * n))
    grid = sorted({max(1, round(r * n)) for r in params.k_ratios} | {headline})
    return grid, headline
