"""Names that outside systems accept.

MLflow allows letters, digits, ``_``, ``-``, ``.``, ``/`` and spaces in metric names; a column
such as ``BMI (kg/m2)`` would make the run fail, so metric names built from column names go
through :func:`metric_key`.
"""

from __future__ import annotations

import re

_NOT_IN_METRIC_NAMES = re.compile(r"[^\w\-./ ]")


def metric_key(name: str) -> str:
    """``name`` with every character MLflow refuses in a metric name replaced by ``_``."""
    return _NOT_IN_METRIC_NAMES.sub("_", name)
