"""Wiring of the ``sampling`` pipeline: sample in each generator branch, then combine."""

import warnings
from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from synthbalance.branches import Branch

from .nodes import combine_rows, sample_rows


def create_pipeline(branches: Sequence[Branch], **kwargs) -> Pipeline:
    """Sampling in each of ``branches`` (decided by the pipeline registry), then one table."""
    template = Pipeline(
        [
            Node(
                func=sample_rows,
                inputs=["generator", "train_rows", "validation_rows", "schema", "params:sampling",
                        "params:seed"],
                outputs=["synthetic_branch", "sampling_metrics"],
                name="sample_rows",
            )
        ]
    )
    sampled = sum(
        (
            Pipeline(template, namespace=b.namespace,
                     inputs={"train_rows", "validation_rows", "schema"},
                     parameters={"params:sampling", "params:seed"})
            for b in branches
        ),
        Pipeline([]),
    )
    slots = {f"branch_{i}": f"{b.namespace}.synthetic_branch" for i, b in enumerate(branches)}
    with warnings.catch_warnings():
        # Kedro warns about '.' in dataset names; these are the namespaced outputs Kedro
        # itself names, collected across branches, which is what namespaces are for.
        warnings.filterwarnings("ignore", message=".*contain '.' characters")
        combine = Pipeline(
            [Node(combine_rows, list(slots), "synthetic_raw", name="combine_rows")],
            inputs=slots,
        )
    return sampled + combine
