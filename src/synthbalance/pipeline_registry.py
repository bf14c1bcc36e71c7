"""Project pipelines."""

from kedro.pipeline import Pipeline

from synthbalance.pipelines import (
    evaluation,
    ingest,
    postprocessing,
    preprocessing,
    profiling,
    sampling,
    smote,
    training,
)

#: The stages of ``__default__``, in order. (Listed rather than found with
#: ``find_pipelines``: Kedro 1.7 loads only requested pipeline folders, and the
#: ``smote_reference`` composite needs several of them.)
_STAGES = {
    "ingest": ingest,
    "profiling": profiling,
    "preprocessing": preprocessing,
    "training": training,
    "sampling": sampling,
    "postprocessing": postprocessing,
    "evaluation": evaluation,
}


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``__default__`` runs everything from the raw table to the evaluation with the generator
    chosen by ``training.model``; ``smote_reference`` puts SMOTE rows (not part of the
    default, as they also write ``synthetic_raw``) through the same cleaning and evaluation.
    """
    pipelines = {name: module.create_pipeline() for name, module in _STAGES.items()}
    pipelines["smote"] = smote.create_pipeline()
    pipelines["__default__"] = sum(pipelines[name] for name in _STAGES)
    evaluation_ = pipelines["evaluation"]
    pipelines["smote_reference"] = (
        pipelines["ingest"] + pipelines["preprocessing"] + pipelines["smote"]
        + pipelines["postprocessing"] + evaluation_.only_nodes_with_tags("metrics", "reports")
    )
    return pipelines
