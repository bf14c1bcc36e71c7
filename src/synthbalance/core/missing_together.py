"""Columns missing together: found in the real rows, kept in the synthetic ones.

Fields are often missing as a block: the approval date and the first payment of a declined
loan, every value of a lab panel that was not ordered. A generator learns each column's
missing share, and how the columns' gaps go together only as well as it can; postprocessing
then restores each column's share on its own. On a loans table whose approval and first
payment dates were missing in the same 3 % of rows, 4.1 % of the synthetic rows held one of
the two without the other.

A *missing-together group* is two or more columns missing in exactly the same training
rows, at least :data:`MIN_ROWS` of them and not all (:func:`find_missing_together`). Learned
columns and identifiers alike: an identifier, which no generator makes, is then missing
where the rest of its group is.
Postprocessing decides once per row whether the group is missing (:func:`group_missing`)
and then blanks or fills each of its columns to match, so no synthetic row holds part of a
group; the group's missing share is restored to the training share as one column's would
be. Gaps are filled from another synthetic row of the same class with the whole group
present (:func:`donor_rows`, a hot deck).

A column or group can also be missing exactly where another column holds given values: the
last claim date of a customer with no claims, the end date of an active contract
(:func:`find_missing_when`, a :class:`MissingWhen` rule). Postprocessing then decides each
row by that column's synthetic value instead of by a vote, so the rule holds in every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from synthbalance.core.values import sorted_levels

#: Training rows with the group missing (and with it present) needed before columns are
#: taken for a group: fewer could share their gaps by chance.
MIN_ROWS = 20


def find_missing_together(rows: pd.DataFrame, names: Sequence[str]
                          ) -> tuple[tuple[str, ...], ...]:
    """The groups of ``names`` whose columns are missing in exactly the same ``rows``, at
    least :data:`MIN_ROWS` of them and at least as many rows not; in ``names``' order.

    Returns:
        One tuple of two or more column names per group; ``()`` when there is none.
    """
    by_mask: dict[bytes, list[str]] = {}
    for name in names:
        missing = rows[name].isna().to_numpy()
        if MIN_ROWS <= np.count_nonzero(missing) <= len(missing) - MIN_ROWS:
            by_mask.setdefault(np.packbits(missing).tobytes(), []).append(name)
    return tuple(tuple(group) for group in by_mask.values() if len(group) > 1)


class MissingWhen(NamedTuple):
    """``columns`` (one, or a missing-together group) are missing in exactly the training
    rows where column ``by`` holds one of ``levels``."""

    columns: tuple[str, ...]
    by: str
    levels: tuple[Any, ...]


#: Largest chance, were a column's gaps independent of another column's values, that every
#: value of it would hold only rows with the gaps or only rows without: a rule needs less.
MAX_CHANCE = 1e-6


def find_missing_when(rows: pd.DataFrame, candidates: Sequence[tuple[str, ...]],
                      by_names: Sequence[str]) -> tuple[MissingWhen, ...]:
    """The rules "``columns`` missing exactly where ``by`` holds one of ``levels``" the
    ``rows`` show, one per candidate at most.

    A candidate (a column with gaps, or a missing-together group, with at least
    :data:`MIN_ROWS` rows missing and as many not) gets a rule from a column of ``by_names``
    with no missing values whose every value holds only rows with the candidate missing or
    only rows without, when that is more than chance: were the gaps independent of the
    column, every value would be so with probability ``prod_v (p^n_v + (1 - p)^n_v)``
    (``p`` the missing share, ``n_v`` the rows holding value ``v``), which must be at most
    :data:`MAX_CHANCE`. A column of a hundred values held by a row or two each says nothing;
    a status of two values held by hundreds of rows each says a lot. Of several such
    columns, the least likely by chance (then the first) is taken.

    Args:
        rows: the training rows.
        candidates: the columns or groups to find rules for (:func:`find_missing_together`'s
            groups, and the columns with gaps in none).
        by_names: the columns a rule may read: learned columns with levels.

    Returns:
        The rules, in the order of ``candidates``; ``()`` when there is none.
    """
    coded = {by: pd.factorize(rows[by]) for by in by_names if rows[by].notna().all()}
    rules = []
    for columns in candidates:
        missing = rows[columns[0]].isna().to_numpy()
        if not MIN_ROWS <= np.count_nonzero(missing) <= missing.size - MIN_ROWS:
            continue
        found = [(chance, i, by, levels) for i, (by, (codes, uniques)) in enumerate(coded.items())
                 if by not in columns
                 for chance, levels in [_levels_where(missing, codes, uniques)] if levels]
        if found:
            _, _, by, levels = min(found, key=lambda f: f[:2])
            rules.append(MissingWhen(tuple(columns), by, levels))
    return tuple(rules)


def _levels_where(missing: np.ndarray, codes: np.ndarray, uniques: Any
                  ) -> tuple[float, tuple[Any, ...]]:
    """``(log chance, levels)``: the values (``uniques``, the rows' ``codes`` into them)
    that hold exactly the ``missing`` rows, and the log of the chance that each value would
    hold only rows with or only rows without the gaps, were they independent; ``(0.0, ())``
    when no such levels exist, or when the chance exceeds :data:`MAX_CHANCE`."""
    size = np.bincount(codes)
    gaps = np.bincount(codes, weights=missing, minlength=size.size)
    if not np.all((gaps == 0) | (gaps == size)):
        return 0.0, ()
    share = float(missing.mean())
    chance = float(np.logaddexp(size * np.log(share), size * np.log1p(-share)).sum())
    if chance > np.log(MAX_CHANCE):
        return 0.0, ()
    return chance, sorted_levels(np.asarray(uniques)[gaps == size])


def group_missing(missing: np.ndarray, share: np.ndarray, tolerance: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Whether each row's group is missing, from which of its columns are.

    A row with every column missing, or none, keeps that; a row with some missing is
    missing with the probability of the share of its columns that are (a vote); with no
    columns (a group of identifiers, which are not generated) every row is present. Then, as
    ``restore_missing`` does for one column, the rows' missing share is brought to the
    training ``share`` when it lies outside ``tolerance`` times it: present rows are made
    missing, or missing ones present, each with the probability that closes the gap.

    Args:
        missing: ``(rows, columns)`` booleans, the group's columns missing in the rows.
        share: ``(rows,)`` the training share of rows with the group missing, each row's
            class's.
        tolerance: a share within this factor of the training share is left alone.
        rng: the draws.

    Returns:
        A ``(rows,)`` boolean array.
    """
    # a group of identifiers alone has no learned column to vote: present, then restored
    votes = missing.mean(axis=1) if missing.shape[1] else np.zeros(missing.shape[0])
    decided = rng.random(votes.size) < votes  # 0 and 1 decide themselves
    for target in np.unique(share):
        rows = share == target
        decided[rows] = restored_missing(decided[rows], float(target), tolerance, rng)
    return decided


def donor_rows(missing: np.ndarray, decided: np.ndarray, classes: Sequence[np.ndarray | None],
               rng: np.random.Generator) -> np.ndarray:
    """For each row whose group is to be present but has a column missing, another row of
    its class with the whole group present, drawn at random, whose values fill the gaps:
    values the generator made for that class, and that go together, where a draw from the
    training column would come from every class's rows.

    Args:
        missing: ``(rows, columns)`` booleans, the group's columns missing in the rows.
        decided: ``(rows,)`` whether each row's group is to be missing
            (:func:`group_missing`).
        classes: row masks of the classes (``None``: every row), covering each row once.
        rng: the draws.

    Returns:
        A ``(rows,)`` integer array: the donor's row position, or -1 (no gap to fill, or
        no row of the class to take it from).
    """
    donors = np.full(decided.size, -1, dtype=np.int64)
    gaps, whole = ~decided & missing.any(axis=1), ~decided & ~missing.any(axis=1)
    for mask in classes:
        rows = np.ones(decided.size, dtype=bool) if mask is None else mask
        pool, need = np.flatnonzero(whole & rows), gaps & rows
        if pool.size and need.any():
            donors[need] = rng.choice(pool, int(np.count_nonzero(need)))
    return donors


def restored_missing(missing: np.ndarray, target: float, tolerance: float,
                     rng: np.random.Generator) -> np.ndarray:
    """``missing`` with its share brought to ``target``, for postprocessing's
    ``restore_missing``: a share within ``tolerance`` times the target is left alone (the
    same array is returned); below it, each present value is made missing with probability
    ``(target - share) / (1 - share)``; above it, each missing one present with
    probability ``(share - target) / share`` (all of them when the target is 0). One draw
    per row from ``rng``, none when left alone.

    Returns:
        A boolean array shaped like ``missing``: ``missing`` itself when left alone.
    """
    n = missing.size
    share = float(np.count_nonzero(missing)) / n if n else 0.0
    low, high = (1 - tolerance) * target, (1 + tolerance) * target
    if n == 0 or share == target or (target > 0 and low <= share <= high):
        return missing
    if share < target:
        return missing | (rng.random(n) < (target - share) / (1 - share))
    return missing & ~(rng.random(n) < (share - target) / share)
