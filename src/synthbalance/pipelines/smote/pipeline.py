"""Wiring of the ``smote`` pipeline; ``smote_reference`` in the registry runs it end to end."""

from kedro.pipeline import Node, Pipeline

from .nodes import smote_synthetic

#: The namespace of ``smote_reference`` (pipeline_registry.py) and the folders its files go
#: to (conf/base/catalog_smote_reference.yml; a test keeps the two equal).
REFERENCE = "smote_reference"
REFERENCE_FOLDERS = (f"data/07_model_output/{REFERENCE}", f"data/08_reporting/{REFERENCE}")


def reference_note() -> str:
    """What a ``smote_reference`` run ends with: where its files are, and that it advises
    nothing."""
    rows, tables = REFERENCE_FOLDERS
    return (f"SMOTE reference: its rows are in {rows}/, its metrics, arms and plots in "
            f"{tables}/; a generator run's files are left as they were. It advises nothing: "
            "its figures are a yardstick for a generator run's (python -m "
            "synthbalance.compare puts both in one table).")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=smote_synthetic,
                inputs=["train_rows", "validation_rows", "schema", "params:sampling",
                        "params:seed"],
                outputs="synthetic_raw",
                name="smote_synthetic",
            )
        ]
    )
