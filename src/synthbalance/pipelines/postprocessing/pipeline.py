"""Wiring of the ``postprocessing`` pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import clean_rows, fit_cleaning_rules


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=fit_cleaning_rules,
                inputs=["train_rows", "schema"],
                outputs="cleaning_rules",
                name="fit_cleaning_rules",
            ),
            Node(
                func=clean_rows,
                inputs=["synthetic_raw", "cleaning_rules", "schema", "params:postprocessing",
                        "params:seed"],
                outputs=["synthetic_rows", "postprocess_fixes", "postprocess_metrics"],
                name="clean_rows",
            ),
        ]
    )
