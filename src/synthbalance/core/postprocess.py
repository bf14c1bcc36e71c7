"""Make synthetic rows legal: clip, round, snap and restore missing values, counting each fix.

A generator's decoded rows can hold values no real row has: negative day counts, 30.7 days,
an ordinal of 12.4, a binary 0.7, a category never seen, or no missing values where the real
column had some. :func:`fit_postprocess` learns what is legal from the real *training* rows
(plain data, JSON-safe); :func:`postprocess` applies it, column by column, vectorised, and
returns the clean rows plus a table of how many values each rule changed, so a generator
that needs many fixes is visible in MLflow (:func:`fix_totals`).

Rules, in the order they run on each column:

``below_low_before_clip`` / ``above_high_before_clip``
    Diagnostics, recorded first on the raw values of every numeric column (continuous,
    integer, count, ordinal): how many lie below the low / above the high bound. They change
    nothing. For a day count bounded at 0 the first is the number of negative days.
``non_numeric``
    Values of a numeric column that are not numbers (e.g. a stray string) become missing.
``clip``
    Numeric columns are brought within their bounds. Each side separately: a declared bound
    (schema/hints) wins on its side; a side with no declared bound uses the training
    minimum or maximum. Integer and count bounds are tightened to whole numbers. A value
    beyond a bound is set to it, except beyond a training extreme of a ``continuous``,
    ``integer`` or ``datetime`` column that few training rows hold (not a point mass, see
    :func:`_reflects`): there it is mirrored back inside (``2 * high - x``, the reflection
    method of boundary correction, Schuster 1985), and set to the bound only if it is still
    beyond one. Set to the bound, a generator's overshoot piles onto the one training value
    at the end of the range: 1-5 % of the synthetic rows on dates and amounts that 1 real
    row in 4,000 holds, a step a detector finds at once.
``round``
    Integer and count columns are rounded to whole numbers (half to even).
``decimals``
    Continuous columns are rounded to the decimal places of their training values: the
    fewest places, up to :data:`MAX_DECIMALS`, at which every training value is exact (an
    amount in cents keeps 2, a glucose reading in tenths 1); a column with more places is
    left as the generator made it. The clip bounds are moved inside to that precision first,
    so rounding cannot leave them. Integer columns whose training values share a divisor
    above 1 (loan amounts in hundreds, fees in fifties) and datetime columns
    (:data:`DATETIME_STEPS`) are rounded to that ``step`` the same way. Not a fix of an
    illegal value but of a format, so it is not counted in ``postprocess.values_fixed``.
``snap``
    Columns with training levels (binary, categorical, ordinal, count) get every value that
    is not a training level replaced: numeric levels by the nearest level by value (a tie
    goes to the lower level), other levels by the level whose text matches, else by the most
    frequent training level.
``restore_missing`` / ``fill_missing``
    The missing share is brought back to the training share ``r``: the share among the
    training rows of the row's class, when the rows carry the target column and the stats
    know the class (a field filled in for one class only stays filled in for it), else
    among all training rows. A synthetic share ``s``
    within 50 % of ``r`` (``0.5 r <= s <= 1.5 r``) is left alone. If ``s`` is lower, each
    present value is masked with probability ``(r - s) / (1 - s)``; if higher, each missing
    value is filled with probability ``(s - r) / s`` (all of them when ``r`` is 0) by a
    draw from the training distribution (level frequencies, or training quantiles). Draws
    come from a ``numpy.random.Generator`` per column, seeded from ``seed``.
``missing_together``
    Columns missing in exactly the same training rows (a group,
    :mod:`~synthbalance.core.missing_together`) take the place of ``restore_missing`` /
    ``fill_missing``: whether a row's group is missing is decided once per row (a row with
    some of its columns missing is missing with the share of them that are), the group's
    missing share is restored as one column's would be, and each column of the group is
    blanked or filled to match, from another synthetic row of the class with the whole
    group present (a draw, as above, where there is none). A column or group missing exactly
    where another column holds given values in the training rows (a
    :class:`~synthbalance.core.missing_together.MissingWhen` rule: no last claim date
    where there are no claims) is decided by that column's cleaned synthetic value instead,
    then blanked or filled the same way. Counted as the values it blanked or filled, per
    column of a group or rule.
``order``
    Runs last, on whole rows, for two date columns in order in every training row (an
    order rule, :mod:`~synthbalance.core.order_rules`): a date that ``fill_missing`` filled
    in, where the rule's other date is present, is placed against it instead, by a draw of
    the days between the two among the training rows (among the gaps that keep it within
    the column's bounds); then a row still with the two the
    other way round gets them swapped. Counted as the date values it changed, per column.
    The sampling stage already drops draws that break a rule, so this fixes what the rules
    above did.

A ``datetime`` column is cleaned as seconds since the epoch, like a continuous column
(bounds from the training rows, so synthetic dates stay within the training range), and
written back in its format or dtype. Identifier and constant columns (``schema.unlearned``)
are not cleaned and not counted: they are filled in last (fresh ids numbered over all the
rows, the constant's value; :func:`~synthbalance.core.unlearned.fill_unlearned`). With
``restore_missing``, an identifier missing in some training rows is first made missing at
random at the training share of the row's class, and the ids number the rows left.

Finally each column gets its training dtype back (an ``int64`` column stays ``int64``, a
``float64`` column of whole numbers such as BRFSS's ``1.0`` stays ``float64``), unless that
would lose information (missing values or non-whole numbers in an integer column, which then
stay ``float64``). Columns not in the schema (the target, say) pass through untouched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.dates import from_seconds, to_seconds
from synthbalance.core.errors import ConfigError
from synthbalance.core.missing_together import (
    MissingWhen,
    donor_rows,
    find_missing_together,
    find_missing_when,
    group_missing,
    restored_missing,
)
from synthbalance.core.naming import metric_names
from synthbalance.core.order_rules import (
    OrderRule,
    changed_values,
    date_seconds,
    find_order_rules,
    gap_quantiles,
    refill,
    swap_broken,
)
from synthbalance.core.parallel import map_columns
from synthbalance.core.schema import DISCRETE_KINDS, ORDERED_KINDS, ColumnSpec, Schema
from synthbalance.core.tables import label_mask, require_columns
from synthbalance.core.unlearned import fill_unlearned, log_longer_ids
from synthbalance.core.values import (
    CHUNK,
    chunks,
    is_whole,
    restore_dtype,
    sorted_levels,
    to_python,
)

#: Every rule of the fixes table, in the order they run.
RULES: tuple[str, ...] = (
    "below_low_before_clip",
    "above_high_before_clip",
    "non_numeric",
    "clip",
    "round",
    "decimals",
    "snap",
    "restore_missing",
    "fill_missing",
    "missing_together",
    "order",
)
#: Rules that count values they fixed: not the two diagnostics, nor ``decimals`` (a format).
FIX_RULES: tuple[str, ...] = tuple(r for r in RULES[2:] if r != "decimals")
#: Kinds rounded to whole numbers.
WHOLE_KINDS: frozenset[str] = frozenset({"integer", "count"})
#: Kinds whose values are snapped to training levels.
LEVEL_KINDS: frozenset[str] = DISCRETE_KINDS | {"count"}
#: Points of the training quantile function kept to draw fill values of level-less columns.
N_QUANTILES = 101
#: A synthetic missing share within this factor of the training share is left as it is.
MISSING_TOLERANCE = 0.5
#: Continuous columns whose training values need more decimal places are not rounded.
MAX_DECIMALS = 6
#: Tolerance of "exact at d places" when fitting, in units in the last place of the value:
#: a value read from "0.29" is the float nearest 0.29, and a sum such as 0.1 + 0.2 lies an
#: ulp from 0.3. In ulps, not relative: 123456789.12 must not pass as whole.
DECIMALS_TOLERANCE_ULPS = 64
#: Whole-number levels spanning at most this many units are snapped with a lookup table.
MAX_TABLE_SPAN = 100_000
#: Numeric columns are cleaned this many rows at a time. Whole-column temporaries (about
#: ten per column) each cost fresh memory pages on a million rows, which made the step's
#: time swing 3x from call to call; chunks of 256 KB are reused from malloc's free lists
#: and stay in the CPU cache.
CHUNK_ROWS = CHUNK

_FIXES_COLUMNS = ["column", "rule", "count", "rows"]


@dataclass(frozen=True)
class ColumnStats:
    """What is legal in one column, learnt from the training rows.

    ``low``/``high`` are the bounds used (``None``: no bound on that side); ``levels`` the
    sorted training levels of a level column with their ``level_shares``; ``quantiles`` the
    training quantile function of a numeric column without levels; ``dtype`` the training
    column's dtype, given back after cleaning; ``decimals`` the places a continuous column
    is rounded to (``None``: not rounded); ``class_missing_rates`` the missing share among
    each class's training rows, in the order of :attr:`PostprocessStats.classes` (``None``:
    fitted without the target, or before they were kept); ``categories`` and ``ordered`` a
    ``category`` column's categories in its dtype's order (unused ones included) and
    whether they are ordered, given back with the dtype (``None``: not a ``category``
    column); ``step`` the coarsest of :data:`DATETIME_STEPS` that divides every training
    value of a datetime column, or the greatest common divisor above 1 of an integer
    column's, which its values are rounded to (``None``: none, or another kind);
    ``reflect_low`` / ``reflect_high`` whether a value beyond that bound is mirrored back
    inside rather than set to it (:func:`_reflects`; ``False`` in stats saved before).
    """

    name: str
    kind: str
    dtype: str
    missing_rate: float
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] | None = None
    level_shares: tuple[float, ...] | None = None
    quantiles: tuple[float, ...] | None = None
    format: str | None = None
    decimals: int | None = None
    class_missing_rates: tuple[float, ...] | None = None
    categories: tuple[Any, ...] | None = None
    ordered: bool = False
    step: float | None = None
    reflect_low: bool = False
    reflect_high: bool = False

    def missing_rate_of(self, class_index: int | None) -> float:
        """The training missing share of the class at ``class_index`` of
        :attr:`PostprocessStats.classes`, or of all rows (``None``, or no class shares)."""
        if class_index is None or self.class_missing_rates is None:
            return self.missing_rate
        return self.class_missing_rates[class_index]

    @property
    def numeric_levels(self) -> bool:
        """Levels are all numbers, so values snap to the nearest one by value."""
        return bool(self.levels) and all(
            isinstance(v, int | float | bool) for v in self.levels
        )


@dataclass(frozen=True)
class PostprocessStats:
    """Per-column legal values fitted on the real training rows; plain, JSON-safe data.

    ``target`` and ``classes`` name the label column and its classes, in the order of each
    column's ``class_missing_rates`` (``None`` and ``()``: fitted without them); ``orders``
    the order rules between date columns (:mod:`~synthbalance.core.order_rules`) and
    ``order_gaps`` the training quantiles of each one's ``high - low`` (seconds);
    ``together`` the groups of columns missing in the same training rows
    (:mod:`~synthbalance.core.missing_together`); ``unlearned`` the missing shares of the
    identifier columns with missing training values (only those fields are set); ``when``
    the columns or groups missing exactly where another column holds given values
    (:class:`~synthbalance.core.missing_together.MissingWhen`).
    """

    columns: tuple[ColumnStats, ...]
    target: str | None = None
    classes: tuple[Any, ...] = ()
    orders: tuple[OrderRule, ...] = ()
    order_gaps: tuple[tuple[float, ...], ...] = ()
    together: tuple[tuple[str, ...], ...] = ()
    unlearned: tuple[ColumnStats, ...] = ()
    when: tuple[MissingWhen, ...] = ()

    def __getitem__(self, name: str) -> ColumnStats:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [_stats_to_dict(c) for c in self.columns], "target": self.target,
                "classes": [to_python(c) for c in self.classes],
                "orders": [[r.low, r.high] for r in self.orders],
                "order_gaps": [list(g) for g in self.order_gaps],
                "together": [list(g) for g in self.together],
                "unlearned": [_stats_to_dict(c) for c in self.unlearned],
                "when": [{"columns": list(r.columns), "by": r.by, "levels": list(r.levels)}
                         for r in self.when]}

    def summary(self) -> pd.DataFrame:
        """One row per column: the rules postprocessing applies to synthetic values.

        Returns:
            A frame with columns ``column``, ``kind``, ``dtype``, ``low`` and ``high`` (the
            bounds values are clipped to; missing: no bound), ``levels`` (how many values
            a level column snaps to; missing: not a level column), ``decimals`` (the places
            a continuous column is rounded to; missing: not rounded) and ``missing_rate``
            (the share of missing values restored).
        """
        names = ["column", "kind", "dtype", "low", "high", "levels", "decimals",
                 "missing_rate"]
        table = pd.DataFrame(
            [(c.name, c.kind, c.dtype, c.low, c.high,
              len(c.levels) if c.levels is not None else None, c.decimals, c.missing_rate)
             for c in self.columns],
            columns=names,
        )
        return table.astype({"levels": "Int64", "decimals": "Int64"})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PostprocessStats:
        columns = tuple(_stats_from_dict(d) for d in data["columns"])
        return cls(columns=columns, target=data.get("target"),
                   classes=tuple(data.get("classes") or ()),
                   orders=tuple(OrderRule(*pair) for pair in data.get("orders") or ()),
                   order_gaps=tuple(tuple(g) for g in data.get("order_gaps") or ()),
                   together=tuple(tuple(g) for g in data.get("together") or ()),
                   unlearned=tuple(_stats_from_dict(d) for d in data.get("unlearned") or ()),
                   when=tuple(MissingWhen(tuple(r["columns"]), r["by"], tuple(r["levels"]))
                              for r in data.get("when") or ()))

    @property
    def dates(self) -> tuple[ColumnStats, ...]:
        """The ``datetime`` columns, which order rules read."""
        return tuple(c for c in self.columns if c.kind == "datetime")


def fit_postprocess(train_rows: pd.DataFrame, schema: Schema) -> PostprocessStats:
    """Learn bounds, levels, missing shares and dtypes of every schema column from real rows;
    with the target column, each class's own missing share too; the order rules between
    date columns (:func:`~synthbalance.core.order_rules.find_order_rules`); the groups
    of columns missing together
    (:func:`~synthbalance.core.missing_together.find_missing_together`); and the columns
    and groups missing where another column holds given values
    (:func:`~synthbalance.core.missing_together.find_missing_when`).

    Raises:
        DataValidationError: ``train_rows`` lacks a schema column.
    """
    require_columns(train_rows, schema.names, "training rows")
    masks = _class_masks(train_rows, schema.target, schema.classes)
    columns = tuple(_fit_column(train_rows[s.name], s, masks) for s in schema.columns)
    seconds = date_seconds(train_rows, [c for c in columns if c.kind == "datetime"])
    orders = find_order_rules(seconds)
    gaps = gap_quantiles(seconds, orders, N_QUANTILES)
    ids = [s.name for s in schema.of_unlearned("identifier") if s.name in train_rows.columns]
    together = find_missing_together(train_rows, [*schema.names, *ids])
    grouped = {name for group in together for name in group}
    alone = [(n,) for n in [*schema.names, *ids] if n not in grouped]
    by_names = [s.name for s in schema.columns if s.kind in LEVEL_KINDS]
    fields = {"orders": orders, "order_gaps": gaps, "together": together,
              "when": find_missing_when(train_rows, [*together, *alone], by_names),
              "unlearned": tuple(_fit_column(train_rows[s.name], s, masks)
                                 for s in schema.of_unlearned("identifier")
                                 if s.name in ids and train_rows[s.name].isna().any())}
    if masks is None:
        return PostprocessStats(columns, **fields)
    return PostprocessStats(columns, schema.target, schema.classes, **fields)


def _class_masks(rows: pd.DataFrame, target: str | None,
                 classes: Sequence[Any]) -> list[np.ndarray] | None:
    """One row mask per class of ``classes`` (:func:`label_mask`), or ``None`` when the
    rows lack the target column or no class is known."""
    if target is None or target not in rows.columns or not classes:
        return None
    return [label_mask(rows[target], cls) for cls in classes]


def postprocess(
    synth: pd.DataFrame,
    stats: PostprocessStats,
    schema: Schema,
    *,
    clip: bool = True,
    round: bool = True,  # noqa: A002 - the public switch is named after the rule
    decimals: bool = True,
    snap: bool = True,
    restore_missing: bool = True,
    missing_together: bool = True,
    order: bool = True,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean synthetic rows; return ``(clean rows, fixes)`` and leave ``synth`` untouched.

    ``fixes`` has one row per ``(column, rule)`` that applies to the column's kind, zeros
    included so metric names are the same in every run: ``column``, ``rule``, ``count``
    (values the rule counted) and ``rows`` (rows of ``synth``). The rules are in the module
    docstring; each switch turns its rule off (the before-clip counts are always taken).

    Raises:
        DataValidationError: ``synth`` lacks a schema column.
        ConfigError: ``stats`` were fitted on another schema.
    """
    require_columns(synth, schema.names, "synthetic rows")
    switches = {"clip": clip, "round": round, "decimals": decimals, "snap": snap,
                "restore_missing": restore_missing}
    groups = _missing_groups(synth, stats)
    seeds = np.random.SeedSequence(seed).spawn(len(schema.columns))
    forced = _together(synth, stats, groups, seed, switches,
                       enabled=missing_together and restore_missing)
    jobs = [(synth[spec.name], _stats_for(stats, spec), np.random.default_rng(child), groups,
             forced.get(spec.name)) for spec, child in zip(schema.columns, seeds, strict=True)]
    cleaned = map_columns(lambda job: _clean_column(*job, switches=switches), jobs, len(synth))
    updates = {spec.name: values for spec, (values, _) in zip(schema.columns, cleaned,
                                                              strict=True)}
    fixes = [(spec.name, rule, n, len(synth)) for spec, (_, counts) in
             zip(schema.columns, cleaned, strict=True) for rule, n in counts.items()]
    # Every column is a fresh array, so the frame is assembled without copying (and without
    # consolidating blocks, which took a third of the time).
    columns = {c: updates[c] if c in updates else synth[c].copy() for c in synth.columns}
    clean = pd.DataFrame(columns, index=synth.index, columns=synth.columns, copy=False)
    clean, changed = _keep_order(synth, clean, stats, seed, enabled=order)
    fixes += [(name, "order", n, len(synth)) for name, n in changed.items()]
    clean = _blank_ids(clean, stats, groups, seed, forced, enabled=restore_missing)
    clean = fill_unlearned(clean, schema)  # one numbering of fresh ids over all the rows
    log_longer_ids(clean, schema)
    table = pd.DataFrame(fixes, columns=_FIXES_COLUMNS).astype({"count": "int64",
                                                                 "rows": "int64"})
    return clean, table


def _together(synth: pd.DataFrame, stats: PostprocessStats, groups: MissingGroups,
              seed: int, switches: Mapping[str, bool], *, enabled: bool
              ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per column of a group of ``stats.together`` or of a rule of ``stats.when``: whether
    each row of ``synth`` is to have it missing (a group's by
    :func:`~synthbalance.core.missing_together.group_missing`; a rule's where its column,
    cleaned by ``switches``, holds one of its levels), and the row to fill its gaps from
    (:func:`~synthbalance.core.missing_together.donor_rows`). The draws come from a stream
    of their own, seeded from ``seed`` after the order rule's. None unless ``enabled``."""
    if not enabled or not (stats.together or stats.when):
        return {}
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(len(stats.columns) + 2)[-1])
    forced: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    learned, classes = {c.name for c in stats.columns}, [rows for rows, _ in groups]
    ruled = {rule.columns for rule in stats.when}
    for names in (names for names in stats.together if names not in ruled):
        share = np.zeros(len(synth))
        for rows, class_index in groups:
            share[slice(None) if rows is None else rows] = \
                _missing_stats(stats, names[0]).missing_rate_of(class_index)
        # identifiers are not generated, so only the learned columns vote (none: a draw)
        gaps = synth[[n for n in names if n in learned]].isna().to_numpy()
        missing = group_missing(gaps, share, MISSING_TOLERANCE, rng)
        forced.update(dict.fromkeys(names, (missing, donor_rows(gaps, missing, classes, rng))))
    for rule in stats.when:
        by = _clean_column(synth[rule.by], stats[rule.by], rng, groups, None,
                           switches={**switches, "restore_missing": False})[0]
        missing = by.isin(rule.levels).to_numpy()
        gaps = synth[[n for n in rule.columns if n in learned]].isna().to_numpy()
        forced.update(dict.fromkeys(rule.columns,
                                    (missing, _like_donors(gaps, missing, classes, by, rng))))
    return forced


def _like_donors(gaps: np.ndarray, missing: np.ndarray, classes: Sequence[np.ndarray | None],
                 by: pd.Series, rng: np.random.Generator) -> np.ndarray:
    """:func:`~synthbalance.core.missing_together.donor_rows` for a rule's columns, each
    from a row of the same class and the same value of the rule's column (an end reason
    from another terminated contract, not from one on leave), else of the same class."""
    values = by.to_numpy()
    cells = [np.ones(len(values), dtype=bool) if mask is None else mask
             for mask in classes]
    cells = [mask & (values == value) for mask in cells for value in pd.unique(values[~missing])]
    donors = donor_rows(gaps, missing, cells, rng)
    left = donors < 0
    if (left & ~missing & gaps.any(axis=1)).any():  # a value no other row of its class holds
        donors[left] = donor_rows(gaps, missing, classes, rng)[left]
    return donors


def _blank_ids(rows: pd.DataFrame, stats: PostprocessStats, groups: MissingGroups,
               seed: int, forced: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
               enabled: bool) -> pd.DataFrame:
    """``rows`` with each identifier column of ``stats.unlearned`` missing where its
    missing-together group is (``forced``, :func:`_together`), else at its training share,
    the share of the row's class (a random draw per row: nothing learns these columns),
    from a stream of its own seeded from ``seed`` after the groups'; ``rows`` themselves
    unless ``enabled`` (``restore_missing``)."""
    if not enabled or not stats.unlearned:
        return rows
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(len(stats.columns) + 3)[-1])
    blanks = {}
    for col in (c for c in stats.unlearned if c.name in rows.columns):
        if col.name in forced:  # missing with its group
            blank = forced[col.name][0]
        else:
            blank = np.zeros(len(rows), dtype=bool)
            for mask, class_index in groups:
                where = np.ones(len(rows), dtype=bool) if mask is None else mask
                blank[where] = rng.random(int(np.count_nonzero(where))) < \
                    col.missing_rate_of(class_index)
        # held: a stand-in that fill_unlearned numbers with a fresh id
        blanks[col.name] = pd.Series(np.where(blank, None, 0), index=rows.index, dtype=object)
    return rows.assign(**blanks)


def _keep_order(synth: pd.DataFrame, clean: pd.DataFrame, stats: PostprocessStats, seed: int,
                *, enabled: bool) -> tuple[pd.DataFrame, dict[str, int]]:
    """The ``order`` rule (module doc) on the cleaned rows, and the values it changed per
    date column named in a rule. Its draws come from a stream of its own, seeded from
    ``seed`` after the columns' streams."""
    names = list(dict.fromkeys(c for r in stats.orders for c in (r.low, r.high)))
    if not enabled or not names:
        return clean, dict.fromkeys(names, 0)
    filled = {n: synth[n].isna().to_numpy() & clean[n].notna().to_numpy() for n in names}
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(len(stats.columns) + 1)[-1])
    kept = refill(clean, filled, stats.orders, stats.order_gaps, stats.dates, rng)
    kept = swap_broken(kept, stats.orders, stats.dates)
    return kept, changed_values(clean, kept, names)


def fix_totals(fixes: pd.DataFrame) -> dict[str, float]:
    """MLflow-ready metrics of a fixes table.

    ``postprocess.values_fixed`` (the sum over every rule but the two diagnostics; a value
    rounded and then snapped counts twice), ``postprocess.<rule>`` for every rule in
    :data:`RULES`, and per numeric column
    ``postprocess.negative_share.<column>``: the share of synthetic rows whose value lay below
    the column's low bound before clipping (for a low bound of 0, the negative share). The
    column's name is made safe and unique by :func:`~synthbalance.core.naming.metric_names`.
    """
    by_rule = fixes.groupby("rule", sort=False)["count"].sum()
    out = {"postprocess.values_fixed": float(by_rule.reindex(FIX_RULES, fill_value=0).sum())}
    out.update({f"postprocess.{rule}": float(by_rule.get(rule, 0)) for rule in RULES})
    keys = metric_names(fixes["column"])  # every schema column: as in fidelity.column.*
    below = fixes[fixes["rule"] == "below_low_before_clip"]
    for name, count, rows in zip(below["column"], below["count"], below["rows"], strict=True):
        key = f"postprocess.negative_share.{keys[str(name)]}"
        out[key] = float(count / rows) if rows else 0.0
    return out


#: Rows whose missing share is restored together: (row mask or ``None`` for every row,
#: index of their class in :attr:`PostprocessStats.classes` or ``None`` for all classes).
MissingGroups = list[tuple[np.ndarray | None, int | None]]


def _missing_groups(synth: pd.DataFrame, stats: PostprocessStats) -> MissingGroups:
    """The rows of each class the stats know, each restored to its class's missing share;
    rows of a class they do not know (or all rows, without the target or class shares) to
    the share among all training rows."""
    masks = _class_masks(synth, stats.target, stats.classes)
    if masks is None:
        return [(None, None)]
    groups: MissingGroups = [(mask, i) for i, mask in enumerate(masks) if mask.any()]
    rest = ~np.logical_or.reduce(masks)
    return [*groups, (rest, None)] if rest.any() else groups


# --- fitting -----------------------------------------------------------------------------


def _fit_column(series: pd.Series, spec: ColumnSpec,
                masks: Sequence[np.ndarray] | None = None) -> ColumnStats:
    present = series.dropna()
    missing = float(series.isna().mean()) if len(series) else 0.0
    fields: dict[str, Any] = {}
    if masks is not None:  # a class without training rows gets the share of all rows
        isna = series.isna().to_numpy()
        fields["class_missing_rates"] = tuple(
            float(isna[mask].mean()) if mask.any() else missing for mask in masks)
    if spec.kind in LEVEL_KINDS:
        shares = present.value_counts(normalize=True)
        fields["levels"] = sorted_levels(shares.index)
        fields["level_shares"] = tuple(float(shares[v]) for v in fields["levels"])
    if spec.kind in ORDERED_KINDS:
        numbers = to_seconds(present, spec.format)  # plain numbers unless a datetime
        numbers = numbers[~np.isnan(numbers)]
        if spec.kind == "continuous":
            fields["decimals"] = _decimals(numbers)
        fields["step"] = (_step(numbers, DATETIME_STEPS) if spec.kind == "datetime"
                          else _whole_step(numbers) if spec.kind == "integer" else None)
        fields["low"], fields["high"] = _bounds(spec, numbers, fields.get("decimals"),
                                                fields["step"])
        fields["reflect_low"], fields["reflect_high"] = _reflects(spec, numbers)
        if spec.kind not in LEVEL_KINDS and numbers.size:
            grid = np.linspace(0.0, 1.0, N_QUANTILES)
            fields["quantiles"] = tuple(float(q) for q in np.quantile(numbers, grid))
    if spec.kind == "datetime":
        fields["format"] = spec.format
    if isinstance(series.dtype, pd.CategoricalDtype):
        fields["categories"] = tuple(to_python(c) for c in series.cat.categories)
        fields["ordered"] = bool(series.cat.ordered)
    return ColumnStats(spec.name, spec.kind, str(series.dtype), missing, **fields)


#: Units a datetime column's values may all be whole multiples of, coarsest first (s).
DATETIME_STEPS = (86_400.0, 3_600.0, 60.0, 1.0)


def _step(numbers: np.ndarray, steps: Sequence[float]) -> float | None:
    """The coarsest of ``steps`` that divides every one of ``numbers`` (a datetime's seconds
    since the epoch, UTC), with at least two distinct values not 0; ``None`` when none
    does, or there are too few values to tell."""
    if np.unique(numbers[numbers != 0]).size < 2:
        return None
    return next((step for step in steps if (np.mod(numbers, step) == 0).all()), None)


def _whole_step(numbers: np.ndarray) -> float | None:
    """The greatest common divisor of an integer column's ``numbers`` when above 1 and at
    least two distinct values are not 0 (fees in fifties: 50), else ``None``."""
    if np.unique(numbers[numbers != 0]).size < 2:
        return None
    step = int(np.gcd.reduce(np.abs(numbers).astype(np.int64)))
    return float(step) if step > 1 else None


def _decimals(numbers: np.ndarray) -> int | None:
    """The fewest decimal places (up to :data:`MAX_DECIMALS`) at which every value is exact
    within :data:`DECIMALS_TOLERANCE_ULPS`; ``None`` when none is, or there are no values."""
    if numbers.size == 0 or not np.isfinite(numbers).all():
        return None
    scale = DECIMALS_TOLERANCE_ULPS * np.spacing(np.abs(numbers))
    return next((d for d in range(MAX_DECIMALS + 1)
                 if (np.abs(numbers - np.round(numbers, d)) <= scale).all()), None)


def _bounds(spec: ColumnSpec, numbers: np.ndarray, decimals: int | None = None,
            step: float | None = None) -> tuple[float | None, float | None]:
    """Declared bound on each side, else the training extreme; whole for whole kinds, and
    moved inside to ``decimals`` places for a rounded continuous column, or to a multiple
    of ``step`` for a stepped one."""
    declared_low, declared_high = spec.bounds or (None, None)
    seen = numbers.size > 0
    low = declared_low if declared_low is not None else (numbers.min() if seen else None)
    high = declared_high if declared_high is not None else (numbers.max() if seen else None)
    if spec.kind in WHOLE_KINDS:  # so rounding after clipping cannot leave the bounds
        low = None if low is None else math.ceil(low)
        high = None if high is None else math.floor(high)
    elif decimals is not None:  # the same at ``decimals`` places; 110.00000000000001 cents
        unit, slack = 10.0 ** decimals, 1e-6  # of 1.1 must not round up to 111
        low = None if low is None else round(math.ceil(low * unit - slack) / unit, decimals)
        high = None if high is None else round(math.floor(high * unit + slack) / unit, decimals)
    if step is not None:  # training values are multiples within the bounds: none inverts
        low = None if low is None else math.ceil(low / step) * step
        high = None if high is None else math.floor(high / step) * step
    return (None if low is None else float(low), None if high is None else float(high))


#: A training extreme held by more than this many times a distinct training value's
#: average share of the rows, and by at least :data:`HEAVY_END_SHARE` of them, is a point
#: mass (a top code, a floor), kept by clipping.
HEAVY_END = 2.0
HEAVY_END_SHARE = 0.01


def _reflects(spec: ColumnSpec, numbers: np.ndarray) -> tuple[bool, bool]:
    """Whether the ``clip`` rule mirrors values beyond the low and the high bound back
    inside: for ``continuous``, ``integer`` and ``datetime`` columns, on a side whose bound
    is the training extreme (not declared), unless that extreme is a point mass (more than
    :data:`HEAVY_END` times the rows an average distinct training value holds, and at
    least :data:`HEAVY_END_SHARE` of the rows: a top code, say), which clipping keeps."""
    if spec.kind not in ("continuous", "integer", "datetime") or numbers.size == 0:
        return False, False
    declared = spec.bounds or (None, None)
    most = max(HEAVY_END * numbers.size / np.unique(numbers).size,
               HEAVY_END_SHARE * numbers.size)
    low, high = (np.count_nonzero(numbers == end) <= most
                 for end in (numbers.min(), numbers.max()))
    return declared[0] is None and bool(low), declared[1] is None and bool(high)


# --- cleaning ------------------------------------------------------------------------------


def _clean_column(
    series: pd.Series, col: ColumnStats, rng: np.random.Generator,
    groups: MissingGroups, forced: tuple[np.ndarray, np.ndarray] | None, *,
    switches: Mapping[str, bool],
) -> tuple[pd.Series, dict[str, int]]:
    """One column cleaned by the column rules, and each rule's count; ``forced``: the rows
    it is to be missing in (a missing-together group's, which replaces restoring its
    missing share), or ``None``."""
    if col.kind == "datetime":  # cleaned as seconds since the epoch, then written back
        series = pd.Series(to_seconds(series, col.format), index=series.index, name=series.name)
    if col.kind in ORDERED_KINDS or col.numeric_levels:
        values, missing, counts = _clean_numeric(series, col, switches)
    else:
        values, missing, counts = _clean_labels(series, col, switches)
    restored = (0, 0)
    if forced is not None:
        values, counts["missing_together"] = _match_missing(values, missing, forced, col, rng)
    elif switches["restore_missing"]:
        for rows, class_index in groups:
            values, restored = _restore_group(values, missing, col, rng, rows, class_index,
                                              restored)
    counts["restore_missing"], counts["fill_missing"] = restored
    if col.kind == "datetime":
        out = from_seconds(values, col.format, col.dtype)
    elif col.categories is not None:  # the training dtype's order, not the sorted levels
        out = pd.Categorical(values, categories=list(col.categories), ordered=col.ordered)
    else:
        out = restore_dtype(values, col.dtype, col.levels)
    if isinstance(series.values, np.ndarray) and np.may_share_memory(out, series.values):
        out = out.copy()  # the clean frame is built without copying; it must not alias synth
    return pd.Series(out, index=series.index, name=series.name), counts


def _clean_numeric(
    series: pd.Series, col: ColumnStats, switches: Mapping[str, bool]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Float values after clip, round and snap, their missing mask, and each rule's count.

    Cleaned ``CHUNK_ROWS`` rows at a time into one output array.
    """
    x, counts = _as_float(series)
    missing = np.isnan(x)
    out = np.empty_like(x)
    numeric = col.kind in ORDERED_KINDS
    diagnostics = ("below_low_before_clip", "above_high_before_clip") if numeric else ()
    rules = [rule for rule, kinds in (("clip", ORDERED_KINDS), ("round", WHOLE_KINDS),
                                      ("decimals", {"continuous", "integer", "datetime"}),
                                      ("snap", LEVEL_KINDS))
             if col.kind in kinds]
    counts = {**dict.fromkeys(diagnostics, 0), **counts, **dict.fromkeys(rules, 0)}
    legal = _legal_range(col)
    for rows in chunks(len(x), CHUNK_ROWS):
        if legal is not None and _all_legal(x[rows], *legal):
            out[rows] = x[rows]  # no rule would change a value: every count stays
        else:
            out[rows] = _clean_numbers(x[rows], missing[rows], col, switches, counts)
    return out, missing, counts


def _limits(col: ColumnStats) -> tuple[float, float]:
    """The column's clip bounds, infinite on a side without one."""
    return (-np.inf if col.low is None else col.low, np.inf if col.high is None else col.high)


def _legal_range(col: ColumnStats) -> tuple[float, float, int | None] | None:
    """``(low, high, places)`` such that values in ``[low, high]``, and exact at ``places``
    decimals unless it is None (0: whole), are exactly the values no rule changes; ``None``
    if no interval says that (levels with gaps, or levels that are not whole numbers)."""
    if col.step is not None:
        return None  # whole multiples of a step: no decimal places say that
    low, high = _limits(col)
    places = 0 if col.kind in WHOLE_KINDS else col.decimals
    if col.kind in LEVEL_KINDS and col.levels:
        levels = np.asarray(col.levels, dtype=np.float64)
        if not np.array_equal(levels, np.arange(levels[0], levels[0] + levels.size)):
            return None  # not a run of consecutive whole numbers
        low, high, places = max(low, levels[0]), min(high, levels[-1]), 0
    return (low, high, places) if col.kind in ORDERED_KINDS or col.levels else None


def _all_legal(x: np.ndarray, low: float, high: float, places: int | None) -> bool:
    """Every value lies in ``[low, high]`` (so none is NaN) and is exact at ``places``
    decimals unless it is None: a few vectorised reductions, much cheaper than applying
    the rules to find no change."""
    if x.size == 0:
        return True
    if not (x.min() >= low and x.max() <= high):  # NaN fails both comparisons
        return False
    if places is None:
        return True
    return is_whole(x) if places == 0 else bool((np.round(x, places) == x).all())


def _clean_numbers(
    x: np.ndarray, missing: np.ndarray, col: ColumnStats, switches: Mapping[str, bool],
    counts: dict[str, int],
) -> np.ndarray:
    """Clip, round and snap one chunk of a numeric column; add to ``counts``."""
    n_missing = int(np.count_nonzero(missing))
    if col.kind in ORDERED_KINDS:
        low, high = _limits(col)
        counts["below_low_before_clip"] += int(np.count_nonzero(x < low))
        counts["above_high_before_clip"] += int(np.count_nonzero(x > high))
        x = _apply(_into_bounds(x, col, low, high), x, n_missing, counts,
                   rule="clip", enabled=switches["clip"])
    if col.kind in WHOLE_KINDS:
        x = _apply(np.rint(x), x, n_missing, counts, rule="round", enabled=switches["round"])
    if col.kind == "continuous":
        rounded = x if col.decimals is None else np.round(x, col.decimals)
        x = _apply(rounded, x, n_missing, counts, rule="decimals",
                   enabled=switches["decimals"])
    if col.kind in ("integer", "datetime"):
        rounded = x if col.step is None else np.round(x / col.step) * col.step
        x = _apply(rounded, x, n_missing, counts, rule="decimals",
                   enabled=switches["decimals"])
    if col.kind in LEVEL_KINDS:
        snapped = _nearest_level(x, missing, col) if switches["snap"] else x
        x = _apply(snapped, x, n_missing, counts, rule="snap", enabled=switches["snap"])
    return x


def _into_bounds(x: np.ndarray, col: ColumnStats, low: float, high: float) -> np.ndarray:
    """``x`` within ``[low, high]``: mirrored at a bound ``col`` reflects at, then clipped."""
    if col.reflect_low:
        x = np.where(x < low, 2 * low - x, x)
    if col.reflect_high:
        x = np.where(x > high, 2 * high - x, x)
    return np.clip(x, low, high)


def _apply(
    new: np.ndarray, old: np.ndarray, n_missing: int, counts: dict[str, int], *,
    rule: str, enabled: bool,
) -> np.ndarray:
    """Add the number of values ``rule`` changes to ``counts``; return the new values if
    it is on.

    Every rule keeps NaN as NaN, and NaN != NaN, so each missing value counts once as
    "changed": subtracting them is one pass cheaper than masking them out.
    """
    if not enabled:
        return old
    counts[rule] += int(np.count_nonzero(new != old)) - n_missing
    return new


def _as_float(series: pd.Series) -> tuple[np.ndarray, dict[str, int]]:
    """The column as float64 (possibly a view: never modified in place); text that is not
    a number becomes missing and is counted."""
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan), {"non_numeric": 0}
    numbers = pd.to_numeric(series, errors="coerce")
    bad = int((series.notna() & numbers.isna()).sum())
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), {"non_numeric": bad}


def _nearest_level(x: np.ndarray, missing: np.ndarray, col: ColumnStats) -> np.ndarray:
    """Each value replaced by the nearest training level (ties to the lower); NaN stays."""
    levels = np.asarray(col.levels or (), dtype=np.float64)
    if levels.size == 0:
        return x
    if levels.size == 1:
        return np.where(missing, np.nan, levels[0])
    mids = (levels[1:] + levels[:-1]) / 2
    span = levels[-1] - levels[0]
    if levels.size == 2:  # binary columns, the most common: one comparison (NaN fixed below)
        out = np.where(x > mids[0], levels[1], levels[0])
    elif not (np.all(levels == np.rint(levels)) and span <= MAX_TABLE_SPAN):
        out = levels[np.searchsorted(mids, x, side="left")]  # NaN sorts last: fixed below
    else:
        out = _nearest_whole_level(x, levels, mids)
    if missing.any():
        out[missing] = np.nan
    return out


def _nearest_whole_level(x: np.ndarray, levels: np.ndarray, mids: np.ndarray) -> np.ndarray:
    """``_nearest_level`` for whole-number levels by a lookup table, ~6x faster than
    ``searchsorted``, which does a branchy binary search per value.

    Whole-number levels have their midpoints on multiples of 0.5, so the nearest level is
    constant on every half-open interval ``((j - 1) / 2, j / 2]`` and equals the nearest level
    of its right end ``j / 2`` (a midpoint there ties to the lower level, as does the open
    interval left of it). ``j = ceil(2 x)`` picks the interval; ``2 x`` is clipped to the
    levels' range first, so values beyond it map to the extreme levels (and NaN, put back
    by the caller, to the first).
    """
    first, last = 2 * levels[0], 2 * levels[-1]
    table = levels[np.searchsorted(mids, np.arange(first, last + 1) / 2, side="left")]
    j = np.ceil(np.fmin(np.fmax(2 * x, first), last))  # fmax also turns NaN into ``first``
    return table[j.astype(np.int64) - int(first)]


def _clean_labels(
    series: pd.Series, col: ColumnStats, switches: Mapping[str, bool]
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Object values with every unknown label snapped to a training level; missing mask."""
    values = series.to_numpy(dtype=object)
    if not col.levels:
        return values, pd.isna(values), {"snap": 0}
    # One hash pass finds the known labels; only the rest (few) are checked for missing,
    # as pd.isna on a whole object column costs as much as the lookup.
    other = ~series.isin(col.levels).to_numpy()
    missing = np.zeros(values.size, dtype=bool)
    missing[other] = pd.isna(values[other])
    unknown = other & ~missing
    n_unknown = int(np.count_nonzero(unknown))
    if not switches["snap"] or n_unknown == 0:
        return values, missing, {"snap": 0}
    by_text = {str(v): v for v in col.levels}
    most_frequent = col.levels[int(np.argmax(col.level_shares))]
    matched = pd.Series(values[unknown]).astype(str).map(by_text)
    values = values.copy()
    values[unknown] = matched.where(matched.notna(), most_frequent).to_numpy(dtype=object)
    return values, missing, {"snap": n_unknown}


def _restore_group(
    values: np.ndarray, missing: np.ndarray, col: ColumnStats, rng: np.random.Generator,
    rows: np.ndarray | None, class_index: int | None, counted: tuple[int, int],
) -> tuple[np.ndarray, tuple[int, int]]:
    """:func:`_restore_missing` on ``rows`` (``None``: all) with their class's training
    share, added to the ``counted`` (masked, filled) so far."""
    target = col.missing_rate_of(class_index)
    if rows is None:
        values, done = _restore_missing(values, missing, target, col, rng)
    else:
        part, done = _restore_missing(values[rows], missing[rows], target, col, rng)
        if done != (0, 0):
            values = values.copy()
            values[rows] = part
    return values, (counted[0] + done[0], counted[1] + done[1])


def _restore_missing(
    values: np.ndarray, missing: np.ndarray, target: float, col: ColumnStats,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Bring the missing share to ``target``; (new values, (masked, filled))."""
    kept = restored_missing(missing, target, MISSING_TOLERANCE, rng)
    if kept is missing:
        return values, (0, 0)
    mask, fill = kept & ~missing, missing & ~kept
    if mask.any():
        values = values.copy()
        values[mask] = None if values.dtype == object else np.nan
        return values, (int(np.count_nonzero(mask)), 0)
    draws = _draw(col, int(np.count_nonzero(fill)), rng)
    if draws is None:  # nothing was learnt to draw from (an all-missing training column)
        return values, (0, 0)
    values = values.copy()
    values[fill] = draws
    return values, (0, int(draws.size))


def _match_missing(values: np.ndarray, missing: np.ndarray,
                   forced: tuple[np.ndarray, np.ndarray], col: ColumnStats,
                   rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``values`` missing exactly where ``forced[0]`` says: blanked there, filled elsewhere
    from the donor rows ``forced[1]`` (or by a draw, :func:`_draw`, where a row has none or
    its donor's value is missing); and how many values changed."""
    wanted, donors = forced
    blank, fill = wanted & ~missing, missing & ~wanted
    values = values.copy()
    values[blank] = None if values.dtype == object else np.nan
    given = fill & (donors >= 0)
    given[given] = ~missing[donors[given]]
    values[given] = values[donors[given]]
    fill &= ~given
    draws = _draw(col, int(np.count_nonzero(fill)), rng)
    if draws is not None:
        values[fill] = draws
    return values, int(np.count_nonzero(blank) + np.count_nonzero(given)) + (
        0 if draws is None else int(draws.size))


def _draw(col: ColumnStats, k: int, rng: np.random.Generator) -> np.ndarray | None:
    """``k`` values from the training distribution: level frequencies or quantiles."""
    if col.levels:
        shares = np.asarray(col.level_shares, dtype=np.float64)
        picks = rng.choice(len(col.levels), size=k, p=shares / shares.sum())
        dtype = np.float64 if col.numeric_levels else object
        return np.asarray(col.levels, dtype=dtype)[picks]
    if col.quantiles:
        grid = np.linspace(0.0, 1.0, len(col.quantiles))
        draws = np.interp(rng.random(k), grid, np.asarray(col.quantiles))
        if col.kind in WHOLE_KINDS:
            return np.rint(draws)
        return draws if col.decimals is None else np.round(draws, col.decimals)
    return None


# --- helpers -------------------------------------------------------------------------------


def _stats_for(stats: PostprocessStats, spec: ColumnSpec) -> ColumnStats:
    try:
        col = stats[spec.name]
    except KeyError:
        col = None
    if col is None or col.kind != spec.kind:
        raise ConfigError(
            f"The postprocessing stats do not match the schema at column {spec.name!r}; "
            "refit them with fit_postprocess on this schema's training rows."
        )
    return col


def _missing_stats(stats: PostprocessStats, name: str) -> ColumnStats:
    """The stats of learned or identifier column ``name`` (for its missing shares)."""
    return next(c for c in (*stats.columns, *stats.unlearned) if c.name == name)


def _stats_from_dict(data: Mapping[str, Any]) -> ColumnStats:
    tuples = {k: tuple(data[k]) for k in ("levels", "level_shares", "quantiles",
                                          "class_missing_rates", "categories")
              if data.get(k) is not None}
    return ColumnStats(**{**data, **tuples})


def _stats_to_dict(col: ColumnStats) -> dict[str, Any]:
    out = asdict(col)
    for key in ("levels", "level_shares", "quantiles", "class_missing_rates", "categories"):
        if out[key] is not None:
            out[key] = list(out[key])
    return out
