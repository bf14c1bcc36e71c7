"""MLflow run names that say what ran: ``cvae-conditional-brfss-seed42``, with DP-SGD
``cvae-conditional-eps4-brfss-seed42``, after a scarce cut of 1,000 minority rows
``cvae-conditional-brfss-scarce1000-seed42``.

One scheme for every run the project opens: a ``kedro run``, each run of the comparison,
and each cell of the grid. The MLflow UI lists runs by name, so two runs of different
families, strategies, tables or seeds never share one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def run_name(model: str, strategy: str, dataset: str, seed: int,
             epsilon: float | None = None, *, scarce: int | None = None,
             prevalence: float | Mapping[Any, float] | None = None) -> str:
    """``<model>-<strategy>-<dataset>-seed<seed>``, e.g. ``cvae-conditional-brfss-seed42``;
    with ``epsilon`` (DP-SGD's budget, ``training.privacy.epsilon``) ``eps<epsilon>`` comes
    after the strategy: ``cvae-conditional-eps4-brfss-seed42``. What changes the rows a run
    trains and judges on follows the table: ``scarce<n>`` (``preprocessing.
    scarce_minority_rows``) and ``prev<share>`` (``evaluation.deployment_prevalence``; one
    share per minority class with several), e.g. ``cvae-conditional-brfss-scarce1000-
    prev0.02-seed42``.

    Args:
        model: the generator family (``training.model``), or a reference such as ``smote``.
        strategy: ``conditional`` or ``per_class`` (``training.strategy``), or ``reference``.
        dataset: the table's name (``ingest.dataset_name``, else the source file's stem).
        seed: the run's ``seed``.
        epsilon: the DP-SGD budget, if any.
        scarce: the minority rows the scarce cut keeps, if any.
        prevalence: the declared deployment prevalence, if any.

    Returns:
        The name, with any run of characters other than letters, digits, ``_`` and ``.`` in
        ``dataset`` replaced by one ``_`` (file stems can hold spaces and dashes).
    """
    table = _UNSAFE.sub("_", dataset).strip("_") or "table"
    private = "" if epsilon is None else f"eps{epsilon:g}-"
    rows = "" if scarce is None else f"-scarce{scarce}"
    if isinstance(prevalence, Mapping):
        rows += "-prev" + "_".join(f"{share:g}" for share in prevalence.values())
    elif prevalence is not None:
        rows += f"-prev{prevalence:g}"
    return f"{model}-{strategy}-{private}{table}{rows}-seed{seed}"
