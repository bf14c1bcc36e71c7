"""Nodes of the ``sampling`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.naming import class_namespace
from synthbalance.core.reweight import reweighted_sample_report
from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.params import SamplingParams


def sample_rows(
    generator: Synthesizer,
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    schema: Schema,
    sampling: dict[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Synthetic rows for every minority class the generator makes, decoded, and what the
    resampling did, as MLflow metrics.

    Per class: ``sampling.n_rows``, else ``sampling.ratio`` times the real minority
    training rows of that class. Generated in batches of ``sampling.batch_size``, the
    network run in ``sampling.precision``; ``sampling.oversample`` times as many are drawn
    and the kept ones chosen by importance resampling against the class's training rows
    that the generator learned from (not the validation rows, which judge the rows later;
    :func:`~synthbalance.core.reweight.reweighted_sample`).

    The metrics are :meth:`~synthbalance.core.reweight.Resampling.metrics`
    (``sampling.oversample``, ``sampling.kept_rows``, ``sampling.ess_share``), each name
    prefixed with the class's branch name (``class_<value>.``) when the generator makes
    several minority classes, as a per-class run names them.

    Raises:
        ConfigError: ``sampling.oversample`` above 1 for a generator trained with DP.
    """
    params = SamplingParams.from_dict(sampling)
    counts = train_rows[schema.target].value_counts()
    wanted = [c for c in schema.minority_classes if c in generator.classes]
    metrics: dict[str, float] = {}
    frames = []
    for i, c in enumerate(wanted):
        rows, done = reweighted_sample_report(
            generator, train_rows, validation_rows,
            params.n_rows or round(params.ratio * int(counts.get(c, 0))), c, seed + i,
            params.oversample, batch_size=params.batch_size, precision=params.precision)
        prefix = f"{class_namespace(c)}." if len(wanted) > 1 else ""
        metrics.update({prefix + k: v for k, v in done.metrics().items()})
        frames.append(rows)
    return pd.concat(frames, ignore_index=True), metrics


def combine_rows(*frames: pd.DataFrame) -> pd.DataFrame:
    """The synthetic rows of every branch in one table."""
    return pd.concat(frames, ignore_index=True)
