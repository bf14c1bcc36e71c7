"""Wiring of the ``sampling`` pipeline: sample in each generator branch, then combine."""

from kedro.pipeline import Node, Pipeline

from synthbalance.branches import generator_branches

from .nodes import combine_rows, sample_rows


def create_pipeline(**kwargs) -> Pipeline:
    branches = generator_branches()
    template = Pipeline(
        [
            Node(
                func=sample_rows,
                inputs=["generator", "train_rows", "schema", "params:sampling", "params:seed"],
                outputs="synthetic_branch",
                name="sample_rows",
            )
        ]
    )
    sampled = sum(
        (
            Pipeline(template, namespace=b.namespace, inputs={"train_rows", "schema"},
                     parameters={"params:sampling", "params:seed"})
            for b in branches
        ),
        Pipeline([]),
    )
    combine = Node(
        func=combine_rows,
        inputs=[f"{b.namespace}.synthetic_branch" for b in branches],
        outputs="synthetic_raw",
        name="combine_rows",
    )
    return sampled + Pipeline([combine])
