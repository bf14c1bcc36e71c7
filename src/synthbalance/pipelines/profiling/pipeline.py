"""Wiring of the ``profiling`` pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import profile_table


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=profile_table,
                inputs=["validated_table", "schema", "params:profiling", "params:seed"],
                outputs="profile_report",
                name="profile_table",
            )
        ]
    )
