"""Wiring of the ``advice`` pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import augment_training_rows, choose_arm, write_verdict


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=choose_arm,
                inputs=["utility_arms", "utility_table"],
                outputs=["advice", "advice_metrics", "advice_tags"],
                name="choose_arm",
            ),
            Node(
                func=augment_training_rows,
                inputs=["train_rows", "synthetic_rows", "schema", "advice", "params:seed"],
                outputs="augmented_train",
                name="augment_training_rows",
            ),
            Node(
                func=write_verdict,
                inputs=["advice", "train_rows", "held_back_rows", "test_rows", "schema",
                        "params:evaluation", "privacy_metrics", "detection_metrics",
                        "fidelity_metrics", "validation_rows", "params:training"],
                outputs="advice_verdict",
                name="write_verdict",
            ),
        ]
    )
