"""Nodes of the ``sampling`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from synthbalance.core.reweight import importance_resample, resolve_oversample
from synthbalance.core.schema import Schema
from synthbalance.core.split import validation_mask
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.core.tables import label_mask
from synthbalance.params import SamplingParams


def sample_rows(
    generator: Synthesizer,
    train_rows: pd.DataFrame,
    validation_rows: pd.DataFrame,
    schema: Schema,
    sampling: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """Synthetic rows for every minority class the generator makes, decoded.

    Per class: ``sampling.n_rows``, else ``sampling.ratio`` times the real minority
    training rows of that class. Generated in batches of ``sampling.batch_size``, the
    network run in ``sampling.precision``; ``sampling.oversample`` times as many are drawn
    and the kept ones chosen by importance resampling against the class's training rows
    that the generator learned from (not the validation rows, which judge the rows later;
    :func:`~synthbalance.core.reweight.importance_resample`).

    Raises:
        ConfigError: ``sampling.oversample`` above 1 for a generator trained with DP.
    """
    params = SamplingParams.from_dict(sampling)
    oversample = resolve_oversample(params.oversample,
                                    generator.generator.config.privacy is not None)
    fitted = train_rows[~validation_mask(train_rows, validation_rows)]
    counts = train_rows[schema.target].value_counts()
    wanted = [c for c in schema.minority_classes if c in generator.classes]
    frames = []
    for i, c in enumerate(wanted):
        n = params.n_rows or round(params.ratio * int(counts.get(c, 0)))
        draws = generator.sample(oversample * n, label=c, seed=seed + i,
                                 batch_size=params.batch_size, precision=params.precision)
        real = fitted[label_mask(fitted[schema.target], c)]
        frames.append(importance_resample(real, draws, schema, n, seed + i))
    return pd.concat(frames, ignore_index=True)


def combine_rows(*frames: pd.DataFrame) -> pd.DataFrame:
    """The synthetic rows of every branch in one table."""
    return pd.concat(frames, ignore_index=True)
