"""Order rules between date columns: found in the real rows, kept in the synthetic ones.

A generator learns each column, and how the columns go together only as well as it can: on
a claims table, 21 % of the synthetic frauds had their claim date before their contract
start, where no real row has one. An *order rule* ``low <= high`` names two ``datetime``
columns whose first is at most the second in every training row that holds both. Rules are
found, not declared (:func:`find_order_rules`): a pair is one when at least
:data:`MIN_ROWS` training rows hold both dates, none has them the other way round, and not
all are equal (two copies of one date are a copied column, which ingest warns of).

Two stages keep them, so that no synthetic row breaks one:

- sampling draws rows and drops those that break a rule before it importance-resamples
  (:func:`~synthbalance.core.reweight.reweighted_sample`), drawing again for the ones
  dropped. This is rejection sampling: the kept rows follow the generator's distribution
  restricted to the rows the rules allow, so both dates keep the spacing the generator
  learned; logged as ``sampling.order_broken_share``;
- postprocessing swaps the two dates of a row that still breaks one (a missing date filled
  by a draw, or the rare rows left when rejection runs out of draws), counted as the rule
  ``order`` on the ``high`` column (:func:`swap_broken`). A swap keeps both dates within
  their clip bounds, because the training bounds of ``low`` are at most those of ``high``.

Only date columns are searched: among numeric columns, a pair ordered in every training row
by chance (two unrelated amounts of different sizes) would be taken for a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from synthbalance.core.dates import from_seconds, to_seconds

#: Training rows holding both dates needed before a pair is taken for a rule.
MIN_ROWS = 20


class DateColumn(Protocol):
    """What the rules read of a date column (its schema spec or postprocessing stats)."""

    name: str
    format: str | None


class WrittenDateColumn(DateColumn, Protocol):
    """A date column's postprocessing stats: also the dtype its values are written in."""

    dtype: str


@dataclass(frozen=True)
class OrderRule:
    """``low <= high``, both ``datetime`` columns, in every row holding both."""

    low: str
    high: str

    def __str__(self) -> str:
        return f"{self.low} <= {self.high}"

    def broken(self, seconds: Mapping[str, np.ndarray]) -> np.ndarray:
        """Rows (bool, shape ``(n,)``) whose ``low`` is after their ``high``; a missing
        date breaks nothing. ``seconds`` maps column names to seconds since the epoch."""
        return seconds[self.low] > seconds[self.high]  # NaN compares False


def date_seconds(rows: pd.DataFrame, columns: Sequence[DateColumn]) -> dict[str, np.ndarray]:
    """Seconds since 1970-01-01 of each of ``columns`` in ``rows`` (``NaN`` where missing
    or unparsable), read in the column's format."""
    return {c.name: to_seconds(rows[c.name], c.format) for c in columns}


def find_order_rules(seconds: Mapping[str, np.ndarray]) -> tuple[OrderRule, ...]:
    """Every order rule among the date columns of ``seconds`` (name to seconds since the
    epoch, one value per training row), in the columns' order. See the module docstring
    for when a pair is one."""
    rules = []
    for low, x in seconds.items():
        for high, y in seconds.items():
            both = ~np.isnan(x) & ~np.isnan(y)
            if low == high or np.count_nonzero(both) < MIN_ROWS:
                continue
            a, b = x[both], y[both]
            if (a <= b).all() and (a < b).any():
                rules.append(OrderRule(low, high))
    return tuple(rules)


def broken_rows(rows: pd.DataFrame, rules: Sequence[OrderRule],
                columns: Sequence[DateColumn]) -> np.ndarray:
    """Rows of ``rows`` (bool, shape ``(len(rows),)``) that break any of ``rules``."""
    out = np.zeros(len(rows), dtype=bool)
    if not rules:
        return out
    seconds = date_seconds(rows, [c for c in columns if _named(c, rules)])
    for rule in rules:
        out |= rule.broken(seconds)
    return out


def swap_broken(rows: pd.DataFrame, rules: Sequence[OrderRule],
                columns: Sequence[WrittenDateColumn]) -> tuple[pd.DataFrame, dict[OrderRule, int]]:
    """``rows`` with the two dates swapped in every row that breaks a rule, each written in
    its own column's format or dtype, rule by rule in order; and how many rows each rule
    swapped. ``rows`` is not modified (and is returned as it is when no row breaks one)."""
    by_name = {c.name: c for c in columns}
    out, counts = rows, {}
    for rule in rules:
        low, high = by_name[rule.low], by_name[rule.high]
        seconds = date_seconds(out, [low, high])
        broken = rule.broken(seconds)
        counts[rule] = int(np.count_nonzero(broken))
        if counts[rule]:
            out = out.copy() if out is rows else out
            for col, value in ((low, seconds[high.name]), (high, seconds[low.name])):
                written = from_seconds(value[broken], col.format, col.dtype)
                out.loc[broken, col.name] = pd.Series(written, index=out.index[broken])
    return out, counts


def _named(column: DateColumn, rules: Sequence[OrderRule]) -> bool:
    return any(column.name in (r.low, r.high) for r in rules)
