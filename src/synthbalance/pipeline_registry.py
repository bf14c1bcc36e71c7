"""Project pipelines, and the one place where their shape is decided."""

from kedro.pipeline import Pipeline

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
    namespaced cells, docs/cluster.md); ``smote_reference`` puts SMOTE rows (not part
    of the default, as they also write ``synthetic_raw``) through the same cleaning and
    evaluation.

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
        "smote": smote.create_pipeline(),
        "grid": grid.create_pipeline(cells=grid.grid_cells(params)),
    }
    pipelines["__default__"] = sum(pipelines[name] for name in STAGES)
    pipelines["smote_reference"] = (
        pipelines["ingest"] + pipelines["preprocessing"] + pipelines["smote"]
        + pipelines["postprocessing"]
        + pipelines["evaluation"].only_nodes_with_tags("metrics", "reports")
    )
    return pipelines
