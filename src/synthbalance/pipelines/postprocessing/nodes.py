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
    """Bounds (declared hints first, else the training range), levels and missing rates."""
    return fit_postprocess(train_rows, schema)


def clean_rows(
    synthetic_raw: pd.DataFrame,
    stats: PostprocessStats,
    schema: Schema,
    postprocessing: dict[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Apply the cleaning rules; return clean rows, per-column fix counts and their totals.
    Logs the groups of columns missing together and the columns missing where another
    holds given values (a line each), and whether the rows keep them.

    The totals include ``postprocess.values_fixed`` and, per bounded column, the share of
    raw synthetic values below the low bound (``postprocess.negative_share.<column>``).
    """
    params = PostprocessingParams.from_dict(postprocessing)
    _log_missing_rules(stats, schema, on=params.missing_together and params.restore_missing)
    clean, fixes = postprocess(synthetic_raw, stats, schema, **params.to_dict(), seed=seed)
    return clean, fixes, fix_totals(fixes)


def _log_missing_rules(stats: PostprocessStats, schema: Schema, *, on: bool) -> None:
    """One log line for the missing-together groups, one for the missing-where rules,
    without the identifiers the rows lack (``synthetic: drop``); saying whether the rows
    keep them (``on``) or not."""
    dropped = {s.name for s in schema.of_unlearned("identifier") if s.synthetic == "drop"}
    groups = [", ".join(kept) for kept in ([n for n in g if n not in dropped]
                                           for g in stats.together) if len(kept) > 1]
    rules = [f"{', '.join(kept)} where {rule.by} is {_either(rule.levels)}" for rule in stats.when
             for kept in [[n for n in rule.columns if n not in dropped]] if kept]
    how = ("kept so in every synthetic row (postprocessing.missing_together)" if on else
           "not kept: postprocessing.missing_together or restore_missing is false")
    for found, what in ((groups, "Columns missing in the same training rows"),
                        (rules, "Columns missing exactly where another column holds given "
                                "values in the training rows")):
        if found:
            logger.info("%s, %s: %s.", what, how, "; ".join(found))


def _either(levels: tuple) -> str:
    """``0``, ``0 or 1``, ``0, 1 or 2``: the levels of a rule, for the log."""
    names = [str(v) for v in levels]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
