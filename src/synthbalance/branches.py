"""Which generator branches a run has: one per minority class, or one conditional model.

Kedro builds pipelines before nodes see parameters, but the shape of the training,
sampling and evaluation pipelines depends on ``training.strategy`` (and on
``ingest.minority_classes``). The pipeline registry decides the branches, and only it:
it calls :func:`generator_branches` on :func:`run_parameters` and hands the result to each
``create_pipeline(branches=...)``.

:func:`run_parameters` is the run's own parameters (``--params`` included), which the
project hook hands over once Kedro has merged them; without a run (``kedro viz``, which
builds pipelines with hooks off) they are read from ``conf/`` with the project's config
loader. A ``conf/`` that cannot be read or holds a bad parameter raises one ConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthbalance.core.errors import ConfigError, SynthBalanceError
from synthbalance.core.naming import class_namespace

#: Set by the project hook for the run under way (Kedro has no other channel from the
#: merged parameters to ``register_pipelines``); ``None`` outside a run.
_run_parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class Branch:
    """A generator branch: its Kedro namespace and the class it learns (None: all / least)."""

    namespace: str
    class_value: Any = None


def set_run_parameters(params: Mapping[str, Any] | None) -> None:
    """Called by the project hook once the run's parameters are known (``None``: no run)."""
    global _run_parameters  # noqa: PLW0603 - see _run_parameters
    _run_parameters = None if params is None else dict(params)


def run_parameters() -> dict[str, Any]:
    """The current run's parameters, or those in ``conf/`` when no run is under way.

    Raises:
        ConfigError: ``conf/`` cannot be read (a YAML error, a missing resolver...) or a
            parameter in it is unknown or invalid.
    """
    if _run_parameters is not None:
        return _run_parameters
    return _parameters_in_conf(Path.cwd())


def generator_branches(params: Mapping[str, Any]) -> list[Branch]:
    """The branches of the training, sampling and evaluation pipelines for ``params``."""
    from synthbalance.params import parse_params

    parsed = parse_params(params)
    if parsed.training.strategy == "conditional":
        return [Branch("conditional")]
    classes = parsed.ingest.minority_classes
    if not classes or len(classes) == 1:  # one class: the usual name, so metric names match
        return [Branch("minority", classes[0] if classes else None)]
    return [Branch(class_namespace(c), c) for c in classes]


def _parameters_in_conf(project: Path) -> dict[str, Any]:
    """The parameters of ``project/conf`` (env ``KEDRO_ENV``), read as a run would."""
    from kedro.framework.project import settings

    conf = project / settings.CONF_SOURCE
    if not conf.is_dir():
        return {}
    env = os.environ.get("KEDRO_ENV")
    try:
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=str(conf), env=env, **settings.CONFIG_LOADER_ARGS
        )
        return dict(loader["parameters"])
    except SynthBalanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - YAML, resolver and merge errors alike
        raise ConfigError(
            f"The parameters in {conf} (environment {env or 'local'}) cannot be read: "
            f"{type(exc).__name__}: {exc}. Fix the file it names."
        ) from exc
