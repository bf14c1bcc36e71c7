"""Column kinds and the table schema every later stage reads.

A schema is inferred from the data, then corrected by the user's per-column hints. It is
plain data (``to_dict`` / ``from_dict``) so it can be saved as JSON and logged to MLflow; a
user copies a column's ``kind`` and ``bounds`` from it into ``ingest.columns`` to fix them.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, field_validator

from synthbalance.core.config import Number, Settings, tuple_from_list
from synthbalance.core.dates import date_format, detect_format, is_datetime_dtype
from synthbalance.core.errors import ConfigError
from synthbalance.core.tables import find_label
from synthbalance.core.unlearned import (
    fresh_id_pattern,
    looks_like_running_numbers,
    looks_like_text_ids,
)
from synthbalance.core.values import sorted_levels, to_python

#: Every column kind the transformer, the generators and the postprocessor understand.
Kind = Literal["continuous", "integer", "count", "binary", "categorical", "ordinal",
               "datetime", "identifier", "constant"]
KINDS: tuple[str, ...] = typing.get_args(Kind)
#: Kinds whose values are numbers.
NUMERIC_KINDS: frozenset[str] = frozenset({"continuous", "integer", "count", "ordinal"})
#: Kinds compared and learned as ordered numbers: numbers, and datetimes as seconds.
ORDERED_KINDS: frozenset[str] = NUMERIC_KINDS | {"datetime"}
#: Kinds the generators never learn: the schema keeps them apart (``Schema.unlearned``), no
#: transformer, metric or cleaning rule sees them, and synthetic rows get them filled in
#: (:mod:`synthbalance.core.unlearned`).
UNLEARNED_KINDS: frozenset[str] = frozenset({"identifier", "constant"})
#: What synthetic rows get in an identifier column: new ids no real row has, or no column.
SYNTHETIC_IDS: tuple[str, ...] = ("fresh", "drop")
#: Kinds whose values are a finite set of levels.
DISCRETE_KINDS: frozenset[str] = frozenset({"binary", "categorical", "ordinal"})

#: Integer columns with at most this many distinct values are inferred as ordinal.
ORDINAL_MAX_LEVELS = 15
#: Non-negative integer columns with at least this share of zeros (and more levels than an
#: ordinal) are inferred as counts (zero-inflated, like "days of poor health in 30 days").
COUNT_MIN_ZERO_SHARE = 0.3


Bounds = tuple[float | None, float | None]


class ColumnHint(Settings):
    """A user's hint for one column (``ingest.columns.<name>``), on top of inference.

    ``kind``: one of :data:`KINDS`; ``bounds``: inclusive ``[low, high]``, ``null`` for an
    open side (``[0, 30]`` for a day count); ``synthetic`` (identifiers only): ``fresh``
    (default, new ids of the same form) or ``drop`` (synthetic rows lack the column). Any
    may be left out.
    """

    where: ClassVar[str] = "ingest.columns"

    kind: Kind | None = None
    bounds: Annotated[tuple[Number | None, Number | None],
                      BeforeValidator(tuple_from_list)] | None = None
    synthetic: Literal["fresh", "drop"] | None = None

    @field_validator("bounds")
    @classmethod
    def _low_below_high(cls, bounds: Bounds | None) -> Bounds | None:
        if bounds is not None and None not in bounds and bounds[0] > bounds[1]:  # type: ignore[operator]
            raise ValueError(
                f"is {list(bounds)}, whose low is above its high; write [low, high], with "
                "null for an open side, e.g. [0, 30]."
            )
        return bounds


def parse_hints(hints: Mapping[str, Any] | None) -> dict[str, ColumnHint]:
    """Column hints as :class:`ColumnHint` (plain mappings are validated; a bad key or
    value raises :class:`ConfigError` naming ``ingest.columns.<column>.<key>``)."""
    return {
        name: hint if isinstance(hint, ColumnHint)
        else ColumnHint.from_dict(hint, where=f"ingest.columns.{name}")
        for name, hint in (hints or {}).items()
    }


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind, optional bounds, and its levels when it is discrete.

    ``bounds`` are inclusive ``(low, high)`` limits; either side may be ``None``.
    ``levels`` are the sorted observed values of a discrete column (not of missing values).
    ``nullable`` records that the column had missing values, so they are modelled and restored.
    ``format``: how values are written: the ``strftime`` format of a text ``datetime`` column
    (``None`` for ``datetime64``), or the ``str.format`` pattern of fresh text identifiers
    (``"ID-{:04d}"``; ``None`` for integer ids). ``next_id``: the first fresh id number, a
    gap above every real one; ``free_ids``: ``(start, length)``, a longer run of numbers no
    real id uses within the form's width, taken first from a gap into it
    (``unlearned.fresh_id_pattern``). ``synthetic``: an
    identifier's ``fresh`` or ``drop``. A ``constant`` column's one value is its only level.
    """

    name: str
    kind: str
    bounds: tuple[float | None, float | None] | None = None
    levels: tuple[Any, ...] | None = None
    nullable: bool = False
    format: str | None = None
    next_id: int | None = None
    free_ids: tuple[int, int] | None = None
    synthetic: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(
                f"Column {self.name!r} has unknown kind {self.kind!r}; "
                f"use one of {', '.join(KINDS)}."
            )

    @property
    def is_numeric(self) -> bool:
        """Values are ordered numbers (datetimes count, as seconds since the epoch)."""
        return self.kind in ORDERED_KINDS

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.levels is not None:
            out["levels"] = [to_python(v) for v in self.levels]
        if self.nullable:
            out["nullable"] = True
        for key in ("format", "next_id", "synthetic"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.free_ids is not None:
            out["free_ids"] = list(self.free_ids)
        return out

    @classmethod
    def from_dict(cls, name: str, spec: Mapping[str, Any]) -> ColumnSpec:
        """The inverse of :meth:`to_dict` (keys an older schema lacks take their defaults)."""
        return cls(
            name=name,
            kind=spec["kind"],
            bounds=parse_hints({name: {"bounds": spec.get("bounds")}})[name].bounds,
            levels=tuple(spec["levels"]) if spec.get("levels") is not None else None,
            nullable=bool(spec.get("nullable", False)),
            format=spec.get("format"),
            next_id=spec.get("next_id"),
            free_ids=tuple(spec["free_ids"]) if spec.get("free_ids") else None,
            synthetic=spec.get("synthetic"),
        )


@dataclass(frozen=True)
class Schema:
    """The validated table's layout: feature columns, the target, and its classes.

    ``columns`` are the feature columns the generators learn (every later stage reads
    these); ``unlearned`` the identifier and constant columns, which nothing learns and
    synthetic rows get filled in (:data:`UNLEARNED_KINDS`). ``classes`` are sorted from the
    least to the most frequent; ``minority_classes`` are the classes synthetic rows are made
    for (by default only the least frequent one). ``column_order`` is the table's columns as
    read, the target included (empty in a schema saved before it was kept); synthetic rows
    come back in that order (:meth:`in_table_order`).
    """

    columns: tuple[ColumnSpec, ...]
    target: str
    classes: tuple[Any, ...]
    minority_classes: tuple[Any, ...]
    class_counts: tuple[int, ...] = field(default=())
    unlearned: tuple[ColumnSpec, ...] = field(default=())
    column_order: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def of_kind(self, *kinds: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.kind in kinds]

    def of_unlearned(self, *kinds: str) -> list[ColumnSpec]:
        """The unlearned columns of ``kinds`` (``identifier``, ``constant``)."""
        return [c for c in self.unlearned if c.kind in kinds]

    def in_table_order(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` with the table's columns in the order the table had them
        (``column_order``), any other column after them in its own order."""
        order = set(self.column_order)
        known = [name for name in self.column_order if name in rows.columns]
        return rows[known + [name for name in rows.columns if name not in order]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "classes": [to_python(c) for c in self.classes],
            "class_counts": [int(n) for n in self.class_counts],
            "minority_classes": [to_python(c) for c in self.minority_classes],
            "columns": {c.name: c.to_dict() for c in (*self.columns, *self.unlearned)},
            "column_order": list(self.column_order),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        specs = [ColumnSpec.from_dict(name, spec) for name, spec in data["columns"].items()]
        return cls(
            columns=tuple(s for s in specs if s.kind not in UNLEARNED_KINDS),
            target=data["target"],
            classes=tuple(data["classes"]),
            minority_classes=tuple(data["minority_classes"]),
            class_counts=tuple(data.get("class_counts", ())),
            unlearned=tuple(s for s in specs if s.kind in UNLEARNED_KINDS),
            column_order=tuple(data.get("column_order", ())),
        )


def infer_schema(
    df: pd.DataFrame,
    target: str,
    hints: Mapping[str, ColumnHint | Mapping[str, Any]] | None = None,
    minority_classes: Sequence[Any] | None = None,
) -> Schema:
    """Infer every feature column's kind, then apply the user's hints on top.

    Hints are ``{column: ColumnHint | {"kind": ..., "bounds": [low, high]}}``; either key
    may be left out.

    Raises:
        ConfigError: a hint names a column the table lacks, or has a bad key or value.
    """
    hints = parse_hints(hints)
    unknown = sorted(set(hints) - set(df.columns))
    if unknown:
        raise ConfigError(
            f"ingest.columns names {unknown}, which the table does not have; "
            f"the columns are {list(df.columns)}. Fix the names in parameters_ingest.yml."
        )
    specs = [_column_spec(df[name], hints.get(name, ColumnHint())) for name in df.columns
             if name != target]
    counts = df[target].value_counts(sort=False)
    order = sorted(counts.index, key=lambda c: (counts[c], str(c)))
    classes = tuple(to_python(c) for c in order)
    if minority_classes is None:
        minority = classes[:1]
    else:
        minority = tuple(_match_class(c, classes, target) for c in minority_classes)
    return Schema(
        columns=tuple(s for s in specs if s.kind not in UNLEARNED_KINDS),
        target=target,
        classes=classes,
        minority_classes=minority,
        class_counts=tuple(int(counts[c]) for c in order),
        unlearned=tuple(s for s in specs if s.kind in UNLEARNED_KINDS),
        column_order=tuple(df.columns),
    )


def _infer_kind(series: pd.Series) -> str:
    values = series.dropna()
    n_levels = values.nunique()
    if is_datetime_dtype(series):
        return "datetime"
    if n_levels == 1 and len(values) == len(series):
        return "constant"
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        if n_levels == 2:
            return "binary"
        if detect_format(values) is not None:
            return "datetime"
        return "identifier" if looks_like_text_ids(values, n_levels) else "categorical"
    if n_levels == 2:
        return "binary"
    as_float = values.to_numpy(dtype=float)
    if not np.all(np.mod(as_float, 1.0) == 0.0):
        return "continuous"
    if looks_like_running_numbers(as_float, n_levels):
        return "identifier"
    if n_levels <= ORDINAL_MAX_LEVELS:
        return "ordinal"
    if as_float.min() >= 0 and np.mean(as_float == 0) >= COUNT_MIN_ZERO_SHARE:
        return "count"
    return "integer"


def _check_hint_bounds(name: str, kind: str, hint: ColumnHint) -> None:
    """Bounds mean nothing for ids, constants and dates (dates keep the training range)."""
    if hint.bounds is not None and kind in ("identifier", "constant", "datetime"):
        raise ConfigError(
            f"ingest.columns.{name}.bounds is {list(hint.bounds)}, but {name!r} is {kind!r}, "
            "which takes no bounds (a datetime is kept within its training range); remove "
            "bounds from that hint."
        )


def _column_spec(series: pd.Series, hint: ColumnHint) -> ColumnSpec:
    """One column's kind (the hint's, else inferred), bounds, levels and missingness, and
    how a datetime is written or fresh identifiers are made."""
    name = str(series.name)
    kind = hint.kind or _infer_kind(series)
    if hint.synthetic is not None and kind != "identifier":
        raise ConfigError(
            f"ingest.columns.{name}.synthetic applies to identifier columns only, and "
            f"{name!r} is {kind!r}; remove it, or add kind: identifier."
        )
    _check_hint_bounds(name, kind, hint)
    bounds = hint.bounds
    if bounds is None and kind == "count":
        bounds = (0.0, None)
    levels = sorted_levels(series) if kind in DISCRETE_KINDS or kind == "count" else None
    extra: dict[str, Any] = {}
    if kind == "constant":
        levels = (to_python(series.mode(dropna=True).iloc[0]),) if series.notna().any() else None
    elif kind == "datetime":
        extra["format"] = date_format(series)
    elif kind == "identifier":
        extra["format"], extra["next_id"], extra["free_ids"] = fresh_id_pattern(series)
        extra["synthetic"] = hint.synthetic or "fresh"
    return ColumnSpec(name, kind, bounds, levels, nullable=bool(series.isna().any()), **extra)


def _match_class(value: Any, classes: tuple[Any, ...], target: str) -> Any:
    found = find_label(value, classes)
    if found is not None:
        return found
    raise ConfigError(
        f"ingest.minority_classes names {value!r}, which is not a value of {target!r}; "
        f"its values are {list(classes)}."
    )


def with_bounds(spec: ColumnSpec, low: float | None, high: float | None) -> ColumnSpec:
    """Return a copy of ``spec`` with its bounds replaced."""
    return replace(spec, bounds=(low, high))
