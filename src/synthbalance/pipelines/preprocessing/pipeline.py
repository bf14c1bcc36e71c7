"""Wiring of the ``preprocessing`` pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import carve_validation, encode_rows, fit_transformer, split_rows


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=split_rows,
                inputs=["validated_table", "schema", "params:preprocessing", "params:seed"],
                outputs=["train_rows", "test_rows", "held_back_rows"],
                name="split_rows",
            ),
            Node(
                func=carve_validation,
                inputs=["train_rows", "schema", "params:preprocessing", "params:seed"],
                outputs="validation_rows",
                name="carve_validation",
            ),
            Node(
                func=fit_transformer,
                inputs=["train_rows", "schema", "params:preprocessing", "params:seed"],
                outputs="transformer",
                name="fit_transformer",
            ),
            Node(
                func=encode_rows,
                inputs=["train_rows", "transformer"],
                outputs="train_encoded",
                name="encode_rows",
            ),
        ]
    )
