"""Nodes of the ``ingest`` pipeline."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from synthbalance.core.dates import detect_format
from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET
from synthbalance.core.metrics.utility import declared_shares
from synthbalance.core.schema import Schema
from synthbalance.core.unlearned import placeholder_format
from synthbalance.core.validation import (
    duplicate_columns,
    id_like_numbers,
    label_proxies,
    validate_table,
)
from synthbalance.params import EvaluationParams, IngestParams, PreprocessingParams

logger = logging.getLogger(__name__)


def validate_raw_table(
    raw_table: pd.DataFrame, ingest: dict[str, Any],
    preprocessing: dict[str, Any] | None = None, evaluation: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, Schema]:
    """Check the raw table and infer its schema, applying the user's column hints.

    The demo table needs no settings: its target and day-count bounds are built in.
    ``preprocessing`` (its split shares) sets the rows every class needs, so a class too
    small for the later stages stops the run here, before any training; so does a
    deployment prevalence in ``evaluation`` that names classes the table lacks.
    Returns a new, validated frame (the raw one is left untouched) and the schema.
    """
    params = IngestParams.from_dict(ingest)
    target = params.target or (DEMO_TARGET if params.source == "demo" else None)
    table, schema = validate_table(
        raw_table,
        target=target,
        hints=_hints(params, raw_table, target),
        minority_classes=params.minority_classes,
        min_class_rows=params.min_class_rows, drop_columns=params.drop_columns,
        split_shares=_split_shares(preprocessing),
    )
    _report_kinds(schema)
    _report_unlearned(schema)
    _warn_columns(table, schema, params.read_options.thousands)
    _check_deployment_prevalence(evaluation, schema)
    return table, schema


def _report_kinds(schema: Schema) -> None:
    """One log line with the learned columns by kind: what the run will treat as what."""
    kinds: dict[str, list[str]] = {}
    for spec in schema.columns:
        kinds.setdefault(spec.kind, []).append(spec.name)
    listed = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())
    logger.info("Column kinds (set in ingest.columns, else inferred; each column's levels "
                "and declared bounds are in data/02_intermediate/schema.json; the bounds "
                "learnt from the training rows go to data/06_models/cleaning_rules.json "
                "when the postprocessing stage runs): %s.", listed)


def _warn_columns(table: pd.DataFrame, schema: Schema, thousands: str | None) -> None:
    """Warnings naming the columns that give the label away, repeat an earlier one, look
    like ids, or are dates read as numbers (``thousands``: ``read_options.thousands``)."""
    _warn_label_proxies(table, schema)
    _warn_dates_read_as_numbers(table, schema, thousands)
    _warn_id_like_numbers(table, schema)
    _warn_named(duplicate_columns(table, schema),
                "Column(s) %s repeat an earlier column on every row ({copy: original}). Each "
                "is learned on its own, so synthetic rows will not keep the pair equal, and a "
                "copy tells the classifier nothing new. Drop the copies: "
                "ingest.drop_columns=%s.")


def _warn_label_proxies(table: pd.DataFrame, schema: Schema) -> None:
    """A warning naming the columns that give the label away (:func:`label_proxies`)."""
    _warn_named(label_proxies(table, schema),
                "Column(s) %s give the label away: each of their values (or whether they are "
                "filled in) occurs with one class only. The label in another form, or a value "
                "recorded after the outcome, makes the classifier look perfect and leaves "
                "nothing for augmentation to add. Unless it will be known when you predict, "
                "drop it: ingest.drop_columns=%s.")


def _warn_id_like_numbers(table: pd.DataFrame, schema: Schema) -> None:
    """A warning naming the unique, evenly spread integer columns (:func:`id_like_numbers`)."""
    _warn_named(id_like_numbers(table, schema),
                "Column(s) %s hold a different whole number in every row, spread evenly over "
                "their range, like ids drawn at random. They are learned as numbers: a "
                "feature of every classifier, and synthetic rows may hold values that are "
                "real ids. If they identify rows, declare them, and synthetic rows get fresh "
                "ids: ingest.columns.<column>: {kind: identifier} (or drop them: "
                "ingest.drop_columns=%s).")


def _warn_named(found: Sequence[str] | Mapping[str, str], message: str) -> None:
    """Warn ``message`` when ``found`` names columns: its first ``%s`` is ``found``, its
    second the names as ``ingest.drop_columns`` takes them (``[a, b]``)."""
    if found:
        logger.warning(message, found, _listed(found),
                       extra={"markup": False})  # rich would take "[a]" for a style tag


def _listed(names: Iterable[str]) -> str:
    """``[a, b]``: column names as a YAML list on the command line."""
    return "[" + ", ".join(names) + "]"


def _check_deployment_prevalence(evaluation: dict[str, Any] | None, schema: Schema) -> None:
    """Raise the ConfigError the utility experiment would raise after training."""
    declared = EvaluationParams.from_dict(evaluation).deployment_prevalence
    if declared is not None:
        declared_shares(schema, declared)


def _report_unlearned(schema: Schema) -> None:
    """One log line per unlearned kind (the schema lists the columns too)."""
    constants = {s.name: s.levels[0] if s.levels else None
                 for s in schema.of_unlearned("constant")}
    ids = {s.name: s.synthetic for s in schema.of_unlearned("identifier")}
    if constants:
        logger.info("Constant column(s) %s hold one value each: not learned, kept constant "
                    "in synthetic rows, left out of the metrics and fix counts.", constants)
    if ids:
        logger.info("Identifier column(s) %s: not learned, never a feature; synthetic rows "
                    "get fresh ids ('fresh') or lack the column ('drop'). Ids that exist "
                    "outside the table (national ids, card or phone numbers) are best "
                    "dropped: ingest.columns.<column>: {kind: identifier, synthetic: drop}.",
                    ids, extra={"markup": False})
    texts = [s.name for s in schema.of_unlearned("identifier") if s.synthetic == "fresh"
             and s.format == placeholder_format(s.name)]
    if texts:
        logger.warning(
            "Column(s) %s hold text with no common id form (free text, say): synthetic rows "
            "get placeholders such as '%s', no real value. Free text is best dropped: "
            "ingest.drop_columns=%s; an id that exists outside the table (a national id) "
            "best kept out of synthetic rows: ingest.columns.<column>: {kind: identifier, "
            "synthetic: drop}.", texts,
            placeholder_format(texts[0]).format(1),
            _listed(texts), extra={"markup": False})


def _hints(params: IngestParams, raw_table: pd.DataFrame, target: str | None
           ) -> dict[str, Any]:
    """The user's column hints, the demo's day counts, and ``categorical`` for the columns
    ``read_options.dtype`` keeps as text (validation must not make numbers of them),
    unless they hold dates (kept as text so ``thousands: "."`` leaves ``13.09.2017``
    whole): those are inferred as ``datetime``."""
    hints: dict[str, Any] = dict(params.columns)
    if params.source == "demo":
        for name in DEMO_DAY_COUNTS:
            hints.setdefault(name, {"kind": "count", "bounds": [0, 30]})
    for name in _read_as_text(params.read_options.dtype):
        if name in raw_table.columns and name != target and name not in \
                params.drop_columns and detect_format(raw_table[name]) is None:
            hints.setdefault(name, {"kind": "categorical"})
    return hints


def _warn_dates_read_as_numbers(table: pd.DataFrame, schema: Schema,
                                thousands: str | None) -> None:
    """Warn of whole-number columns that read as ``ddmmyyyy`` dates on every row: with
    ``thousands: "."`` pandas reads ``13.09.2017`` as 13092017."""
    if thousands != ".":
        return
    found = []
    for spec in schema.columns:
        values = table[spec.name].dropna()
        if spec.kind in ("integer", "count", "continuous") and len(values) and \
                (values == values.round()).all() and values.between(1_010_000, 31_129_999).all():
            digits = values.astype("int64").astype(str).str.zfill(8)
            if pd.to_datetime(digits, format="%d%m%Y", errors="coerce").notna().all():
                found.append(spec.name)
    if found:
        logger.warning(
            "Column(s) %s read as whole numbers that are all dates written dd.mm.yyyy "
            "without their dots: ingest.read_options.thousands='.' takes every '.' out of "
            "numbers, 13.09.2017 included. If they are dates, read them as text, and they are "
            "found as dates: ingest.read_options.dtype={%s}.", found,
            ", ".join(f"{name}: str" for name in found), extra={"markup": False})


def _read_as_text(dtype: str | dict[str, str] | None) -> list[str]:
    """Columns ``ingest.read_options.dtype`` reads as text or levels (``str``, ``string``,
    ``object``, ``category``): validation must not turn them into numbers."""
    if not isinstance(dtype, dict):
        return []
    kinds = {name: pd.api.types.pandas_dtype(kind) for name, kind in dtype.items()}
    return [name for name, kind in kinds.items()
            if pd.api.types.is_string_dtype(kind) or isinstance(kind, pd.CategoricalDtype)]


def _split_shares(preprocessing: dict[str, Any] | None) -> tuple[float, float]:
    split = PreprocessingParams.from_dict(preprocessing)
    return split.test_size, split.validation_size


def summarise_table(table: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Row, column and class-share figures of the validated table, for MLflow."""
    counts = table[schema.target].value_counts()
    minority = schema.minority_classes[0]
    return {
        "data.rows": float(len(table)),
        "data.columns": float(len(schema.columns) + len(schema.unlearned)),
        "data.minority_rows": float(counts.get(minority, 0)),
        "data.minority_share": float(counts.get(minority, 0) / len(table)),
        "data.missing_share": float(table[schema.names].isna().to_numpy().mean()),
    }
