"""Privacy: do synthetic rows give away the training rows they were learnt from?

- ``exact_copies``: synthetic rows equal, in every feature column (missing equal to
  missing), to some training row; ``exact_copy_share`` their share of the synthetic rows,
  beside ``holdout_exact_copy_share``, the share of fresh real rows that happen to equal a
  training row (on tables of mostly discrete columns this is far from 0, and it is the
  share to compare with);
- distance to the closest record (DCR): for each synthetic row, the Euclidean distance to
  its nearest training row on the scaled features of :mod:`._features` (scale from the
  training rows); the median and 5th percentile, and the same for real hold-out rows.
  ``dcr_ratio`` = synthetic median / hold-out median; below 1, synthetic rows sit closer
  to the training rows than fresh real rows do (``NaN`` when the hold-out median is 0);
- ``mia_auc``: a distance-based membership-inference attack. Training rows (members) and
  hold-out rows (non-members), as many of each, are scored by minus their distance to the
  nearest synthetic row; the ROC AUC of members against non-members. 0.5: the synthetic
  rows tell nothing about who was in the training set; near 1: they copy it.

Rows are subsampled (seeded) to at most ``max_rows`` per set for the distances; exact
copies are counted over all rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics._features import (
    fit_distance_scaler,
    joint_levels,
    numeric_matrix,
    row_keys,
    scaled_matrix,
    subsample,
)
from synthbalance.core.schema import Schema
from synthbalance.core.tables import require_columns

#: Rows per set at most for the nearest-neighbour distances.
PRIVACY_MAX_ROWS = 10_000


def privacy(
    train_minority: pd.DataFrame,
    holdout_minority: pd.DataFrame,
    synth: pd.DataFrame,
    schema: Schema,
    seed: int,
    *,
    max_rows: int = PRIVACY_MAX_ROWS,
) -> dict[str, float]:
    """Exact copies, DCR of synthetic vs. hold-out rows, and the membership-inference AUC.

    Pass rows of the class the generator learnt: its training rows, real rows of the same
    class it never saw, and its synthetic rows (target columns, if present, are ignored).
    """
    frames = {"training": train_minority, "hold-out": holdout_minority, "synthetic": synth}
    for what, df in frames.items():
        require_columns(df, schema.names, f"{what} rows")
        if df.empty:
            raise DataValidationError(f"Privacy needs {what} rows; got none.")
    copies = copy_mask(train_minority, synth, schema)
    holdout_copies = copy_mask(train_minority, holdout_minority, schema)
    rng = np.random.default_rng(seed)
    scaler = fit_distance_scaler(train_minority, schema)
    train_x, holdout_x, synth_x = (
        scaled_matrix(df.iloc[subsample(len(df), max_rows, rng)], scaler) for df in frames.values()
    )
    dcr_synth = _nearest_distance(train_x, synth_x)
    dcr_holdout = _nearest_distance(train_x, holdout_x)
    synth_median, holdout_median = float(np.median(dcr_synth)), float(np.median(dcr_holdout))
    return {
        "exact_copies": int(copies.sum()),
        "exact_copy_share": float(copies.mean()),
        "holdout_exact_copy_share": float(holdout_copies.mean()),
        "dcr_synthetic_median": synth_median,
        "dcr_synthetic_p5": float(np.percentile(dcr_synth, 5)),
        "dcr_holdout_median": holdout_median,
        "dcr_holdout_p5": float(np.percentile(dcr_holdout, 5)),
        "dcr_ratio": synth_median / holdout_median if holdout_median > 0 else float("nan"),
        "mia_auc": _mia_auc(train_x, holdout_x, synth_x, rng),
    }


def copy_mask(train: pd.DataFrame, rows: pd.DataFrame, schema: Schema) -> np.ndarray:
    """For each of ``rows``, whether some training row equals it in every feature column."""
    levels = joint_levels(schema, train, rows)
    seen = set(row_keys(numeric_matrix(train, schema, levels)))
    return np.array([key in seen for key in row_keys(numeric_matrix(rows, schema, levels))])


def _nearest_distance(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row."""
    index = NearestNeighbors(n_neighbors=1).fit(reference)
    return index.kneighbors(queries, return_distance=True)[0][:, 0]


def _mia_auc(
    members: np.ndarray, non_members: np.ndarray, synth: np.ndarray, rng: np.random.Generator
) -> float:
    """AUC of members vs. as many non-members, scored by minus the distance to synthetic."""
    n = min(len(members), len(non_members))
    members = members[subsample(len(members), n, rng)]
    non_members = non_members[subsample(len(non_members), n, rng)]
    scores = -_nearest_distance(synth, np.vstack([members, non_members]))
    return float(roc_auc_score(np.repeat([1, 0], n), scores))
