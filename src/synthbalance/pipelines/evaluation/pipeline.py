"""Wiring of the ``evaluation`` pipeline."""

from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from synthbalance.branches import Branch

from .nodes import (
    compare_profiles,
    evaluate_detection,
    evaluate_fidelity,
    evaluate_privacy,
    evaluate_utility,
    metrics_table,
    plot_losses,
    plot_marginals,
)

_EVAL = ["schema", "params:evaluation", "params:seed"]


def create_pipeline(branches: Sequence[Branch], **kwargs) -> Pipeline:
    """Metrics and reports (tags ``metrics``, ``reports``) and a loss plot per generator
    branch (``branches``, decided by the pipeline registry)."""
    return _metrics() + _reports() + _loss_plots(branches)


def _metrics() -> Pipeline:
    return Pipeline(
        tags="metrics",
        nodes=[
            Node(evaluate_fidelity, ["test_rows", "synthetic_rows", "schema"],
                 ["fidelity_metrics", "fidelity_columns", "correlation_plot"],
                 name="evaluate_fidelity"),
            Node(evaluate_detection, ["train_rows", "test_rows", "synthetic_rows", *_EVAL],
                 "detection_metrics", name="evaluate_detection"),
            Node(evaluate_utility,
                 ["train_rows", "validation_rows", "test_rows", "held_back_rows",
                  "synthetic_rows", *_EVAL],
                 ["utility_metrics", "utility_table", "utility_arms", "recall_gain_plot"],
                 name="evaluate_utility"),
            Node(evaluate_privacy,
                 ["train_rows", "validation_rows", "test_rows", "held_back_rows",
                  "synthetic_rows", *_EVAL],
                 "privacy_metrics", name="evaluate_privacy"),
            Node(metrics_table,
                 ["fidelity_metrics", "detection_metrics", "utility_metrics", "privacy_metrics",
                  "postprocess_metrics"],
                 "metrics_table", name="metrics_table"),
        ]
    )


def _reports() -> Pipeline:
    return Pipeline(
        tags="reports",
        nodes=[
            Node(plot_marginals, ["test_rows", "synthetic_rows", "schema"], "marginals_plot",
                 name="plot_marginals"),
            Node(compare_profiles, ["test_rows", "synthetic_rows", *_EVAL], "comparison_report",
                 name="compare_profiles"),
        ]
    )


def _loss_plots(branches: Sequence[Branch]) -> Pipeline:
    return sum(
        (
            Pipeline([Node(plot_losses, "generator", "loss_plot", name="plot_losses")],
                     namespace=b.namespace)
            for b in branches
        ),
        Pipeline([]),
    )
