"""Frames against a schema: the columns a stage needs, and which rows hold a class.

A class label given by a user (``--params``, a notebook, a saved model) may arrive as text
while the table holds numbers, or as ``1`` where the table holds ``1.0``. One rule matches
labels everywhere: equal by value first; only if nothing is equal by value, equal by text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.errors import DataValidationError


def missing_columns(df: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The columns of ``names`` that ``df`` lacks, in the order of ``names``."""
    return [name for name in names if name not in df.columns]


def require_columns(df: pd.DataFrame, names: Sequence[str], what: str) -> None:
    """Raise :class:`DataValidationError` unless ``df`` has every column of ``names``.

    ``what`` says which rows these are (``"training rows"``, ``"synthetic rows"``); the
    message names the missing columns, the ones found, and the fix.
    """
    missing = missing_columns(df, names)
    if missing:
        raise DataValidationError(
            f"The {what} lack column(s) {missing}; they have {list(df.columns)}. Pass rows "
            "with every column of the validated table's schema."
        )


def find_label(value: Any, classes: Sequence[Any]) -> Any | None:
    """The class among ``classes`` that ``value`` names (module rule), or ``None``."""
    for cls in classes:
        if _equal(cls, value):
            return cls
    text = str(value)
    return next((cls for cls in classes if str(cls) == text), None)


def label_mask(labels: pd.Series, label: Any) -> np.ndarray:
    """Boolean mask of the rows of ``labels`` that hold ``label`` (module rule)."""
    mask = (labels == label).to_numpy(dtype=bool)
    if not mask.any():
        mask = (labels.astype(str) == str(label)).to_numpy(dtype=bool)
    return mask


def rows_of(df: pd.DataFrame, target: str, label: Any) -> pd.DataFrame:
    """The rows of ``df`` whose ``target`` holds ``label`` (module rule)."""
    return df[label_mask(df[target], label)]


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # an array-like value: never a class label
        return False
