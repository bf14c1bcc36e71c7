"""Wiring of the ``training`` pipeline: one namespaced branch per generator.

``per_class`` gives one branch per minority class (``minority`` when there is one, else
``class_<value>``), so kedro-viz shows a branch per class; ``conditional`` gives the single
``conditional`` branch.
"""

from collections.abc import Sequence
from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from synthbalance.branches import Branch

from .nodes import privacy_scope, train_generator


def create_pipeline(branches: Sequence[Branch], **kwargs) -> Pipeline:
    """One training branch per item of ``branches`` (decided by the pipeline registry),
    and the run's privacy tags (what DP covers)."""
    scope = Pipeline([Node(func=privacy_scope, inputs=["schema", "params:training"],
                           outputs="privacy_tags", name="privacy_scope")])
    return sum((_branch(b) for b in branches), scope)


def _branch(branch: Branch) -> Pipeline:
    template = Pipeline(
        [
            Node(
                # a named partial: the branch's class, fixed when the pipeline is built
                func=update_wrapper(partial(train_generator, class_value=branch.class_value),
                                    train_generator),
                inputs=["train_rows", "train_encoded", "transformer", "schema",
                        "validation_rows", "params:training", "params:seed"],
                outputs=["generator", "generator_mlflow", "training_history"],
                name="train_generator",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=branch.namespace,
        inputs={"train_rows", "train_encoded", "transformer", "schema", "validation_rows"},
        parameters={"params:training", "params:seed"},
    )
