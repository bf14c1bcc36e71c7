"""Which generator branches a run has: one per minority class, or one conditional model.

Kedro builds pipelines before nodes see parameters, but the shape of the training and
sampling pipelines depends on ``training.strategy`` (and on ``ingest.minority_classes``).
The project hook hands the run's parameters (``--params`` included) to this module before
the pipelines are built; without a run (``kedro viz``) they are read from ``conf/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader

_run_parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class Branch:
    """A generator branch: its Kedro namespace and the class it learns (None: all / least)."""

    namespace: str
    class_value: Any = None


def set_run_parameters(params: dict[str, Any] | None) -> None:
    """Called by the project hook once the run's parameters are known."""
    global _run_parameters  # noqa: PLW0603 - Kedro offers no other channel, see module doc
    _run_parameters = params


def run_parameters() -> dict[str, Any]:
    """The current run's parameters, or those in ``conf/`` when no run is under way."""
    if _run_parameters is not None:
        return _run_parameters
    conf = Path.cwd() / "conf"
    if not conf.is_dir():
        return {}
    loader = OmegaConfigLoader(
        conf_source=str(conf),
        base_env="base",
        default_run_env="local",
        env=os.environ.get("KEDRO_ENV"),
    )
    try:
        return dict(loader["parameters"])
    except Exception:  # noqa: BLE001 - a broken conf is reported by the run itself
        return {}


def generator_branches(params: dict[str, Any] | None = None) -> list[Branch]:
    """The branches of the training and sampling pipelines for these parameters."""
    params = run_parameters() if params is None else params
    training = params.get("training") or {}
    if training.get("strategy", "conditional") == "conditional":
        return [Branch("conditional")]
    classes = (params.get("ingest") or {}).get("minority_classes")
    if not classes or len(classes) == 1:  # one class: the usual name, so metric names match
        return [Branch("minority", classes[0] if classes else None)]
    return [Branch("class_" + re.sub(r"\W", "_", str(c)), c) for c in classes]
