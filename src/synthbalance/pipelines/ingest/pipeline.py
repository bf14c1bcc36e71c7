"""Wiring of the ``ingest`` pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import summarise_table, validate_raw_table


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=validate_raw_table,
                inputs=["raw_table", "params:ingest", "params:preprocessing",
                        "params:evaluation"],
                outputs=["validated_table", "schema"],
                name="validate_raw_table",
            ),
            Node(
                func=summarise_table,
                inputs=["validated_table", "schema"],
                outputs="data_summary",
                name="summarise_table",
            ),
        ]
    )
