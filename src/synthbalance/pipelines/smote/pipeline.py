"""Wiring of the ``smote`` pipeline; ``smote_reference`` in the registry runs it end to end."""

from kedro.pipeline import Node, Pipeline

from .nodes import smote_synthetic


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=smote_synthetic,
                inputs=["train_rows", "schema", "params:sampling", "params:seed"],
                outputs="synthetic_raw",
                name="smote_synthetic",
            )
        ]
    )
