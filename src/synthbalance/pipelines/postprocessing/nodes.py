"""Nodes of the ``postprocessing`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from synthbalance.core.postprocess import PostprocessStats, fit_postprocess, fix_totals, postprocess
from synthbalance.core.schema import Schema
from synthbalance.params import PostprocessingParams

logger = logging.getLogger(__name__)


def fit_cleaning_rules(train_rows: pd.DataFrame, schema: Schema) -> PostprocessStats:
    """Bounds (declared hints first, else the training range), levels and missing rates;
    logs the groups of columns missing together (one line), which the rows keep."""
    stats = fit_postprocess(train_rows, schema)
    if stats.together:
        logger.info("Columns missing in the same training rows, kept missing together in "
                    "every synthetic row (postprocessing.missing_together): %s.",
                    "; ".join(", ".join(group) for group in stats.together))
    return stats


def clean_rows(
    synthetic_raw: pd.DataFrame,
    stats: PostprocessStats,
    schema: Schema,
    postprocessing: dict[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Apply the cleaning rules; return clean rows, per-column fix counts and their totals.

    The totals include ``postprocess.values_fixed`` and, per bounded column, the share of
    raw synthetic values below the low bound (``postprocess.negative_share.<column>``).
    """
    params = PostprocessingParams.from_dict(postprocessing)
    clean, fixes = postprocess(synthetic_raw, stats, schema, **params.to_dict(), seed=seed)
    return clean, fixes, fix_totals(fixes)
