"""Names that outside systems accept.

MLflow allows letters, digits, ``_``, ``-``, ``.``, ``/``, ``:`` and spaces in metric names
(no ``:`` on Windows), and no name that reads as another path (``a//b``, ``a/``). A column
such as ``BMI (kg/m2)`` would make the run fail, so metric names built from column names go
through :func:`metric_names`, which also keeps them apart: ``a(b`` and ``a_b`` would both
become ``a_b``, and one column's value would overwrite the other's.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

_NOT_IN_METRIC_NAMES = re.compile(r"[^\w\-./ ]")
#: The headline metrics of a run (DESIGN.md, "the user-facing contract"), in the order
#: tables show them first: the run's metrics table (kedro-viz previews its first rows) and
#: ``python -m synthbalance.compare``.
HEADLINE_METRICS: tuple[str, ...] = (
    "fidelity.wasserstein_mean",
    "detection.accuracy",
    "utility.pr_auc_gain",
    "utility.recall_gain_at_base_precision",
    "privacy.mia_auc",
    "postprocess.values_fixed",
)
#: MLflow's limit on a metric name's length (``MAX_ENTITY_KEY_LENGTH``).
MAX_METRIC_NAME = 250
#: A column's part of a metric name is cut to this many characters, leaving room for the
#: metric's prefix (``postprocess.negative_share.``) within :data:`MAX_METRIC_NAME`.
MAX_COLUMN_PART = 160
#: Hex digits of the suffix that tells apart names made equal by :func:`metric_key`.
SUFFIX_DIGITS = 6


def class_namespace(value: Any) -> str:
    """The name of class ``value`` in branch and metric names: ``class_<value>``, with every
    character that is not a letter, digit or ``_`` replaced by ``_`` (a per-class
    generator's branch, ``class_died``; its figures, ``utility.class_died.pr_auc_gain``)."""
    return "class_" + re.sub(r"\W", "_", str(value))


def metric_key(name: str) -> str:
    """``name`` with every character MLflow refuses in a metric name replaced by ``_``, and
    every ``/`` too when the name would not be a path of its own (``a//b``, ``a/``)."""
    key = _NOT_IN_METRIC_NAMES.sub("_", name)
    if "/" in key and (posixpath.normpath(key) != key or key.startswith("/")):
        key = key.replace("/", "_")
    return key


def metric_names(names: Iterable[str], max_length: int = MAX_COLUMN_PART) -> dict[str, str]:
    """Each of ``names`` -> a metric name MLflow accepts, distinct from the others.

    A name of letters, digits, ``_``, ``-``, ``.``, ``/`` and spaces (at most ``max_length``
    characters long, and no path such as ``a//b``) is kept as it is. Any other becomes
    :func:`metric_key` of it, cut to ``max_length``; if that equals what another of
    ``names`` becomes, it gets ``-`` and the first :data:`SUFFIX_DIGITS` hex digits of the
    SHA-1 of the original name (``a(b`` -> ``a_b-ab8099`` beside a column ``a_b``). The
    suffix depends on the name alone, so it is the same in every run and in every metric
    of a column; it is added only where two names would collide.

    Returns ``{name: metric name}``, in the order of ``names`` (repeats once).
    """
    unique = list(dict.fromkeys(str(n) for n in names))
    safe = {n: metric_key(n)[:max_length] for n in unique}
    counts = Counter(safe.values())
    out = {}
    for name in unique:
        key = safe[name]
        if key != name and counts[key] > 1:
            digest = hashlib.sha1(name.encode()).hexdigest()[:SUFFIX_DIGITS]
            key = f"{key[: max_length - SUFFIX_DIGITS - 1]}-{digest}"
        out[name] = key
    return out
