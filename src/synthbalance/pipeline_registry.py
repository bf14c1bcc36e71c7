"""Project pipelines, and the one place where their shape is decided."""

from kedro.pipeline import Pipeline, pipeline

from synthbalance.branches import generator_branches, run_parameters
from synthbalance.pipelines import (
    advice,
    evaluation,
    grid,
    ingest,
    postprocessing,
    preprocessing,
    profiling,
    sampling,
    smote,
    training,
)

#: The stages of ``__default__``, in order. (Listed rather than found with
#: ``find_pipelines``: Kedro 1.7 loads only requested pipeline folders, the
#: ``smote_reference`` composite needs several of them, and three stages take the
#: generator branches as an argument.)
STAGES = ("ingest", "profiling", "preprocessing", "training", "sampling", "postprocessing",
          "evaluation", "advice")


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    The generator branches (one per minority class for ``per_class``, one ``conditional``
    model otherwise) follow from the run's parameters and are decided here, once, for the
    training, sampling and evaluation stages. ``__default__`` runs everything from the raw
    table to the evaluation and the advice; ``grid`` is the comparison grid (``grid.*``,
    namespaced cells, docs/cluster.md); ``smote_reference`` puts SMOTE rows through the
    same stages from the raw table, cleaning and evaluation, in the namespace
    ``smote_reference`` (:func:`smote_reference`).

    Raises:
        ConfigError: the parameters in ``conf/`` cannot be read or are invalid.
    """
    params = run_parameters()
    branches = generator_branches(params)
    pipelines = {
        "ingest": ingest.create_pipeline(),
        "profiling": profiling.create_pipeline(),
        "preprocessing": preprocessing.create_pipeline(),
        "training": training.create_pipeline(branches=branches),
        "sampling": sampling.create_pipeline(branches=branches),
        "postprocessing": postprocessing.create_pipeline(),
        "evaluation": evaluation.create_pipeline(branches=branches),
        "advice": advice.create_pipeline(),
        "grid": grid.create_pipeline(cells=grid.grid_cells(params)),
    }
    pipelines["__default__"] = sum(pipelines[name] for name in STAGES)
    pipelines["smote_reference"] = smote_reference(
        pipelines["ingest"] + pipelines["preprocessing"] + smote.create_pipeline()
        + pipelines["postprocessing"]
        + pipelines["evaluation"].only_nodes_with_tags("metrics", "reports")
    )
    return pipelines


def smote_reference(stages: Pipeline) -> Pipeline:
    """``stages`` in the namespace ``smote_reference``: every dataset they make is
    ``smote_reference.<name>`` (files under ``data/*/smote_reference/``,
    ``conf/base/catalog_smote_reference.yml``, or kept in memory), so a SMOTE run never
    rewrites, or mixes its rows with, a generator run's files. The raw table and the
    parameters are the run's own."""
    parameters = {name for name in stages.inputs() if name.startswith("params:")}
    return pipeline(stages, namespace=smote.REFERENCE, inputs={"raw_table"},
                    parameters=parameters)
