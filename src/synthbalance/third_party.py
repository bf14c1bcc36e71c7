"""The one place where third-party warnings that the project cannot prevent are hidden.

A ``kedro run`` should print only what a user can act on. Warnings the project causes are
fixed where they arise (an explicit model signature, OmegaConf's current resolver API);
the ones below come from inside Kedro, kedro-mlflow or MLflow themselves. Called by
``settings.py``, before Kedro builds its config loader.
"""

from __future__ import annotations

import warnings

#: Third-party warnings the project cannot fix at their source, as (message regex, category,
#: module that warns). Each is a notice to the library's own authors, not to our users.
THIRD_PARTY_WARNINGS = (
    # OmegaConf 2.4 deprecated register_new_resolver(); Kedro 1.7 still calls it for its
    # own "globals" and "runtime_params" resolvers, and kedro-mlflow 2.0.3 for
    # "km.random_name". The project's resolvers use register_resolver() (settings.py).
    (r"register_new_resolver\(\) is deprecated", UserWarning, r"kedro(_mlflow)?\."),
)

_TYPE_HINT_HINT = "Add type hints to the `predict` method"


def quiet_third_party_warnings() -> None:
    """Hide the warnings of :data:`THIRD_PARTY_WARNINGS`, matched by message, category and
    the module that warns, so a run's log shows only what a user can act on.

    Also imports kedro-mlflow's pipeline model without MLflow's "Add type hints to the
    ``predict`` method" hint: MLflow 3 gives it when a ``PythonModel`` subclass is
    defined, and kedro-mlflow 2.0.3's ``KedroPipelineModel.predict`` has none (the
    project's own model is typed, :mod:`synthbalance.mlflow_model`). MLflow raises it under
    its own ``simplefilter("once")``, which overrides any filter, so the import's warnings
    are recorded and all but that one shown again.
    """
    for message, category, module in THIRD_PARTY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401
    for warning in caught:
        if _TYPE_HINT_HINT not in str(warning.message):
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)
