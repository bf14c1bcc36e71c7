"""Order rules between date columns: found in the real rows, kept in the synthetic ones.

A generator learns each column, and how the columns go together only as well as it can: on
a claims table, 21 % of the synthetic frauds had their claim date before their contract
start, where no real row has one. An *order rule* ``low <= high`` names two ``datetime``
columns whose first is at most the second in every training row that holds both. Rules are
found, not declared (:func:`find_order_rules`): a pair is one when at least
:data:`MIN_ROWS` training rows hold both dates, none has them the other way round, and not
all are equal (two copies of one date are a copied column, which ingest warns of).

Three stages keep them, so that no synthetic row breaks one:

- the transformer encodes a rule's later date as the seconds after its earlier one (its
  anchor; :mod:`~synthbalance.core.transformer`), so a generator learns how far apart the
  two are and seldom breaks the rule at all;
- sampling draws rows and drops those that break a rule before it importance-resamples
  (:func:`~synthbalance.core.reweight.reweighted_sample`), drawing again for the ones
  dropped. This is rejection sampling: the kept rows follow the generator's distribution
  restricted to the rows the rules allow; logged as ``sampling.order_broken_share``;
- postprocessing fills a missing date of a rule, where the other date is present, with
  that date plus (or minus) a draw of the days between the two among the training rows
  (:func:`refill`), not with a date drawn from the whole column; then swaps the two dates
  of a row that still breaks a rule (the rare rows left when rejection runs out of draws;
  :func:`swap_broken`). A swap keeps both dates within their clip bounds, because the
  training bounds of ``low`` are at most those of ``high``.

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
    """A date column's postprocessing stats: also the dtype its values are written in, its
    clip bounds (seconds; ``None``: none) and the unit its values are whole multiples of
    (seconds; ``None``: none)."""

    dtype: str
    low: float | None
    high: float | None
    step: float | None


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


def gap_quantiles(seconds: Mapping[str, np.ndarray], rules: Sequence[OrderRule],
                  n_quantiles: int) -> tuple[tuple[float, ...], ...]:
    """Per rule, ``n_quantiles`` evenly spaced quantiles (0 to 1) of ``high - low`` in
    seconds, over the rows holding both dates."""
    grid = np.linspace(0.0, 1.0, n_quantiles)
    out = []
    for rule in rules:
        gap = seconds[rule.high] - seconds[rule.low]
        out.append(tuple(float(q) for q in np.quantile(gap[~np.isnan(gap)], grid)))
    return tuple(out)


def refill(rows: pd.DataFrame, filled: Mapping[str, np.ndarray], rules: Sequence[OrderRule],
           gaps: Sequence[Sequence[float]], columns: Sequence[WrittenDateColumn],
           rng: np.random.Generator) -> pd.DataFrame:
    """``rows`` with each date of a rule that was filled in (``filled``: column name to a
    row mask), where the rule's other date is present, replaced by that date plus (for
    ``high``) or minus (for ``low``) a draw of the rule's training gap (``gaps``, the
    quantiles of :func:`gap_quantiles`) among the gaps that keep the date within the
    column's bounds (a contract started late in the range gets one of the shorter gaps,
    where clipping a long one would pile such dates on the last training day), on the
    column's unit (a day, say: the gaps' quantiles fall between whole days) and clipped to
    its bounds (only where even the shortest gap leaves them). Rules run in order,
    so a date under several rules ends up placed against the last one's other date (the
    nearest, in the columns' order). ``rows`` is not modified."""
    by_name = {c.name: c for c in columns}
    out = rows
    for rule, quantiles in zip(rules, gaps, strict=True):
        for col, other, sign in ((rule.high, rule.low, 1.0), (rule.low, rule.high, -1.0)):
            seconds = date_seconds(out, [by_name[col], by_name[other]])
            redo = filled[col] & ~np.isnan(seconds[other]) & ~filled[other]
            if not redo.any():
                continue
            anchor = seconds[other][redo]
            room = _room(by_name[col], anchor, sign)
            known = np.asarray(quantiles)
            grid = np.linspace(0.0, 1.0, known.size)
            # a draw of the gap below ``room``: a uniform draw below the room's rank
            rank = np.interp(room, known, grid, left=0.0, right=1.0)
            gap = np.interp(rng.random(anchor.size) * rank, grid, known)
            out = _write(out, by_name[col], redo, anchor + sign * gap)
    return out


def _room(col: WrittenDateColumn, anchor: np.ndarray, sign: float) -> np.ndarray:
    """The largest gap from ``anchor`` (seconds) that keeps ``col``'s date within its
    bound on the side ``sign`` points to (after the anchor: +1), infinite without one."""
    bound = col.high if sign > 0 else col.low
    return np.full(anchor.size, np.inf) if bound is None else sign * (bound - anchor)


def _write(rows: pd.DataFrame, col: WrittenDateColumn, mask: np.ndarray,
           seconds: np.ndarray) -> pd.DataFrame:
    """``rows`` (copied) with ``col`` set to ``seconds`` (rounded to its step, clipped to
    its bounds, written in its format or dtype) where ``mask``."""
    low = -np.inf if col.low is None else col.low
    high = np.inf if col.high is None else col.high
    if col.step is not None:  # the bounds are multiples of it, so clipping keeps it
        seconds = np.round(seconds / col.step) * col.step
    written = from_seconds(np.clip(seconds, low, high), col.format, col.dtype)
    out = rows.copy()
    out.loc[mask, col.name] = pd.Series(written, index=out.index[mask])
    return out


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
                columns: Sequence[WrittenDateColumn]) -> pd.DataFrame:
    """``rows`` with the two dates swapped in every row that breaks a rule, each written in
    its own column's format or dtype, rule by rule in order. ``rows`` is not modified (and
    is returned as it is when no row breaks one)."""
    by_name = {c.name: c for c in columns}
    out = rows
    for rule in rules:
        low, high = by_name[rule.low], by_name[rule.high]
        seconds = date_seconds(out, [low, high])
        broken = rule.broken(seconds)
        if broken.any():
            out = _write(out, low, broken, seconds[high.name][broken])
            out = _write(out, high, broken, seconds[low.name][broken])
    return out


def changed_values(before: pd.DataFrame, after: pd.DataFrame,
                   names: Sequence[str]) -> dict[str, int]:
    """Per column of ``names``: how many values differ between ``before`` and ``after``
    (two missing values are equal)."""
    out = {}
    for name in names:
        a, b = before[name], after[name]
        out[name] = int((~((a == b) | (a.isna() & b.isna()))).sum())
    return out


def _named(column: DateColumn, rules: Sequence[OrderRule]) -> bool:
    return any(column.name in (r.low, r.high) for r in rules)
