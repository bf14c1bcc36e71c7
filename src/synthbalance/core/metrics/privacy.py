"""Privacy: do synthetic rows give away the training rows they were learnt from?

- ``exact_copies``: synthetic rows equal, in every feature column (missing equal to
  missing), to some training row; ``exact_copy_share`` their share of the synthetic rows,
  beside ``holdout_exact_copy_share``, the share of fresh real rows that happen to equal a
  training row (on tables of mostly discrete columns this is far from 0, and it is the
  floor to compare with); ``unique_row_copies``: synthetic rows equal to a training row
  that no other real row passed in (training, hold-out, reference) equals: a copy no
  duplicate in the data explains. On a table of coarse columns a row drawn afresh from the
  population lands on such a row by chance too: ``unique_row_chance_share`` is how often a
  real row does, left out of the real rows (every real row in turn: is it equal to a
  training row that no other real row equals?), and ``unique_row_copies_beyond_chance``
  the copies above what that share explains (above the 99th percentile of the binomial
  count over the synthetic rows at the share's upper 99 % Wilson bound; all of them when
  no real row lands on one);
- distance to the closest record (DCR): for each synthetic row, the Euclidean distance to
  its nearest training row on the scaled features of :mod:`._features` (scale from the
  training rows); the median and 5th percentile, and the same for real hold-out rows.
  ``dcr_ratio`` = synthetic median / hold-out median; below 1, synthetic rows sit closer
  to the training rows than fresh real rows do (``NaN`` when the hold-out median is 0);
- membership-inference attacks (:mod:`.attacks`): training rows (members) and as many
  hold-out rows (non-members) are scored by the DCR attack (``dcr_auc``,
  ``dcr_tpr_at_fpr10``) and the DOMIAS density-ratio attack against the reference rows
  (``domias_auc``, ``domias_tpr_at_fpr10``); ``mia_auc`` is the higher of the two AUCs;
  ``attack_members`` is how many members (and as many non-members) they scored.
  0.5 (and 0.10 for the true-positive rate): the synthetic rows tell nothing about who
  was in the training set; near 1: they copy it;
- :func:`real_identifier_values`: values of identifier columns in synthetic rows that a
  real row holds (expected 0: identifiers are never learnt and get fresh values).

Rows are subsampled (seeded) to at most ``max_rows`` per set for the distances and the
attacks; exact copies are counted over all rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.stats import binom, binomtest

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics._features import (
    fit_distance_scaler,
    joint_levels,
    numeric_matrix,
    row_keys,
    scaled_matrix,
    subsample,
)
from synthbalance.core.metrics.attacks import (
    attack_scores,
    dcr_scores,
    domias_scores,
    nearest_distance,
)
from synthbalance.core.schema import Schema
from synthbalance.core.tables import require_columns

#: Rows per set at most for the nearest-neighbour distances and the attacks.
PRIVACY_MAX_ROWS = 10_000


def privacy(
    train_minority: pd.DataFrame,
    holdout_minority: pd.DataFrame,
    synth: pd.DataFrame,
    reference: pd.DataFrame | None,
    schema: Schema,
    seed: int,
    *,
    max_rows: int = PRIVACY_MAX_ROWS,
) -> dict[str, float]:
    """Exact copies, DCR of synthetic vs. hold-out rows, and two membership attacks.

    Pass rows of the class the generator learnt: its training rows (the members), real
    rows of the same class it never saw (the attacked non-members), its synthetic rows and
    ``reference`` rows, real rows of the class that are neither (the DOMIAS reference
    density; ``None`` or too few: the DOMIAS figures are ``NaN``). Target and unlearned
    columns, if present, are ignored. Returns the metrics of the module docstring.

    Raises:
        DataValidationError: a set other than ``reference`` is empty, or a set lacks a
            feature column.
    """
    frames = {"training": train_minority, "hold-out": holdout_minority, "synthetic": synth}
    _check_frames(frames, schema)
    reference = reference if reference is not None else train_minority.iloc[:0]
    require_columns(reference, schema.names, "reference rows")
    rng = np.random.default_rng(seed)
    scaler = fit_distance_scaler(train_minority, schema)
    train_x, holdout_x, synth_x, reference_x = (
        scaled_matrix(df.iloc[subsample(len(df), max_rows, rng)], scaler)
        for df in (*frames.values(), reference)
    )
    attacks = _attacks(train_x, holdout_x, synth_x, reference_x, rng)
    return {**_copies(train_minority, holdout_minority, synth, reference, schema),
            **_distances(train_x, holdout_x, synth_x), **attacks,
            "mia_auc": float(np.nanmax([attacks["dcr_auc"], attacks["domias_auc"]]))}


def copy_mask(train: pd.DataFrame, rows: pd.DataFrame, schema: Schema) -> np.ndarray:
    """For each of ``rows``, whether some training row equals it in every feature column."""
    train_keys, row_keys_ = _keys(schema, train, rows)
    seen = set(train_keys)
    return np.array([key in seen for key in row_keys_], dtype=bool)


def unique_copy_mask(real: pd.DataFrame, rows: pd.DataFrame, schema: Schema) -> np.ndarray:
    """For each of ``rows``, whether it equals, in every feature column, a row of ``real``
    that no other row of ``real`` equals: a copy of one real row, which no duplicate in
    the data explains (the rows to drop before sharing synthetic rows; compare
    :func:`copy_mask`, which marks copies of any training row).

    Returns:
        A boolean array of length ``len(rows)``.
    """
    real_keys, row_keys_ = _keys(schema, real, rows)
    unique = {key for key, count in Counter(real_keys).items() if count == 1}
    return np.array([key in unique for key in row_keys_], dtype=bool)


def real_identifier_values(synth: pd.DataFrame, schema: Schema,
                           *real: pd.DataFrame) -> int:
    """How many values of the identifier columns of ``synth`` some ``real`` row holds.

    Every identifier column of ``schema`` that ``synth`` has is checked against the same
    column of the real frames (values match by equality or by their text; missing values
    never match). Expected 0: generators never learn identifiers, and synthetic rows get
    ids numbered above every real one (:mod:`synthbalance.core.unlearned`).
    """
    found = 0
    for spec in schema.of_unlearned("identifier"):
        if spec.name not in synth.columns:
            continue  # dropped (``synthetic: drop``): nothing to leak
        known = _values(df[spec.name] for df in real if spec.name in df.columns)
        values = synth[spec.name].dropna()
        found += int(sum(v in known or str(v) in known for v in values))
    return found


def _check_frames(frames: dict[str, pd.DataFrame], schema: Schema) -> None:
    for what, df in frames.items():
        require_columns(df, schema.names, f"{what} rows")
        if df.empty:
            raise DataValidationError(f"Privacy needs {what} rows; got none.")


def _copies(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame,
            reference: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Exact copies of training rows, the hold-out floor, and copies of unique rows."""
    train_keys, holdout_keys, synth_keys, reference_keys = _keys(
        schema, train, holdout, synth, reference)
    seen = set(train_keys)
    copies = np.array([key in seen for key in synth_keys], dtype=bool)
    real_keys = [*train_keys, *holdout_keys, *reference_keys]
    real_counts, train_counts = Counter(real_keys), Counter(train_keys)
    unique = {key for key in train_keys if real_counts[key] == 1}
    unique_copies = int(sum(key in unique for key in synth_keys))
    # a real row, left out, lands on a unique training row: its key is on one other real
    # row, and that row is a training row (training rows come first in real_keys)
    hits = int(sum(real_counts[key] == 2 and train_counts[key] - (i < len(train_keys)) == 1
                   for i, key in enumerate(real_keys)))
    return {
        "exact_copies": int(copies.sum()),
        "exact_copy_share": float(copies.mean()),
        "holdout_exact_copy_share": float(np.mean([key in seen for key in holdout_keys])),
        "unique_row_copies": unique_copies,
        "unique_row_chance_share": hits / len(real_keys),
        "unique_row_copies_beyond_chance": _beyond_chance(unique_copies, len(synth_keys),
                                                          hits, len(real_keys)),
    }


def _beyond_chance(copies: int, n_synth: int, hits: int, n_real: int) -> int:
    """Copies above the 99th percentile of a binomial count over ``n_synth`` rows at the
    chance share's upper 99 % (Wilson) bound, ``hits`` of ``n_real``: the share is itself
    estimated. No real row landing by chance: every copy is beyond it."""
    if not hits:
        return copies
    high = binomtest(hits, n_real).proportion_ci(0.99, method="wilson").high
    return int(max(copies - binom.ppf(0.99, n_synth, high), 0))


def _distances(train_x: np.ndarray, holdout_x: np.ndarray, synth_x: np.ndarray
               ) -> dict[str, float]:
    """Distance to the closest training record of synthetic and of hold-out rows."""
    dcr_synth = nearest_distance(train_x, synth_x)
    dcr_holdout = nearest_distance(train_x, holdout_x)
    synth_median, holdout_median = float(np.median(dcr_synth)), float(np.median(dcr_holdout))
    return {
        "dcr_synthetic_median": synth_median,
        "dcr_synthetic_p5": float(np.percentile(dcr_synth, 5)),
        "dcr_holdout_median": holdout_median,
        "dcr_holdout_p5": float(np.percentile(dcr_holdout, 5)),
        "dcr_ratio": synth_median / holdout_median if holdout_median > 0 else float("nan"),
    }


def _attacks(members: np.ndarray, non_members: np.ndarray, synth: np.ndarray,
             reference: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """Both attacks on the same members and as many non-members (drawn with ``rng``)."""
    n = min(len(members), len(non_members))
    members = members[subsample(len(members), n, rng)]
    non_members = non_members[subsample(len(non_members), n, rng)]
    dcr = dcr_scores(np.vstack([members, non_members]), synth)
    domias = domias_scores(np.vstack([members, non_members]), synth, reference)
    return {**attack_scores(dcr[:n], dcr[n:], "dcr_"),
            **attack_scores(domias[:n], domias[n:], "domias_"), "attack_members": n}


def _keys(schema: Schema, *frames: pd.DataFrame) -> list[list[bytes]]:
    """Each frame's rows as hashable keys of their feature values, on shared levels."""
    levels = joint_levels(schema, *frames)
    return [row_keys(numeric_matrix(df, schema, levels)) for df in frames]


def _values(columns: Iterable[pd.Series]) -> set:
    """Every non-missing value of ``columns``, as it is and as text."""
    out: set = set()
    for column in columns:
        present = pd.unique(column.dropna())
        out.update(present)
        out.update(str(v) for v in present)
    return out
