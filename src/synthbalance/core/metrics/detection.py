"""Detection: can an xgboost classifier tell real rows from synthetic rows of the same class?

Both sets are cut to the same size (a seeded subsample of the larger, at most ``max_rows``
each), the pooled rows are split in two halves, a classifier is trained on one half and
scored on the other: accuracy at 0.5 and ROC AUC. 0.5 means indistinguishable, 1 means
every synthetic row gives itself away. The accuracy comes with its Wilson score interval
(95 %) over the scored rows (Wilson 1927, through ``scipy.stats.binomtest``): how far the
figure could move with another half of this many rows. It leaves out how the classifier's
own fit varies, so it is a lower bound on the spread.

A row found among both the real and the synthetic rows keeps all its copies in the same
half. Otherwise a synthetic copy of a real row would be scored by a classifier that
memorised the real one with the other label, and copying would read as *better* than
chance (accuracy below 0.5). Copying is what the privacy metrics are for; here it reads
0.5, as any two sets that cannot be told apart do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score
from xgboost import XGBClassifier

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics._features import (
    joint_levels,
    numeric_matrix,
    row_keys,
    subsample,
)
from synthbalance.core.schema import Schema
from synthbalance.core.tables import require_columns

#: Rows per side at most; detection stays a quick check even on large tables.
DETECTION_MAX_ROWS = 20_000


def detection(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    schema: Schema,
    seed: int,
    *,
    n_jobs: int = 2,
    max_rows: int = DETECTION_MAX_ROWS,
    n_estimators: int = 100,
    max_depth: int = 5,
    learning_rate: float = 0.1,
) -> dict[str, float]:
    """Accuracy and ROC AUC of a real-vs-synthetic classifier on held-out halves.

    Pass rows of one class on both sides (the target column, if present, is ignored).
    Returns ``accuracy`` with ``accuracy_low`` and ``accuracy_high`` (its 95 % Wilson
    interval), ``auc`` and ``scored_rows`` (the held-out half, both sides together).

    Raises:
        DataValidationError: fewer than 2 rows on a side, or too few distinct rows to put
            both sides in each half.
    """
    require_columns(real, schema.names, "real rows")
    require_columns(synth, schema.names, "synthetic rows")
    n = min(len(real), len(synth), max_rows)
    if n < 2:
        raise DataValidationError(
            f"Detection needs at least 2 rows on each side; got {len(real)} real and "
            f"{len(synth)} synthetic rows."
        )
    rng = np.random.default_rng(seed)
    levels = joint_levels(schema, real, synth)
    x = np.vstack([numeric_matrix(df.iloc[subsample(len(df), n, rng)], schema, levels)
                   for df in (real, synth)])
    y = np.repeat([0, 1], n)
    train = _split_halves(x, y, rng)
    model = XGBClassifier(n_estimators=n_estimators, max_depth=max_depth,
                          learning_rate=learning_rate, tree_method="hist", n_jobs=n_jobs,
                          random_state=seed)
    model.fit(x[train], y[train])
    proba = model.predict_proba(x[~train])[:, 1]
    y_test = y[~train]
    auc = roc_auc_score(y_test, proba) if len(np.unique(y_test)) == 2 else float("nan")
    right = int(np.sum((proba >= 0.5) == y_test))
    interval = binomtest(right, len(y_test)).proportion_ci(0.95, method="wilson")
    return {"accuracy": right / len(y_test), "accuracy_low": float(interval.low),
            "accuracy_high": float(interval.high), "auc": float(auc),
            "scored_rows": float(len(y_test))}


def _split_halves(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A training mask with half of each label; a row found under both labels keeps all
    its copies on one side (a seeded coin per distinct row)."""
    groups, _ = pd.factorize(pd.Series(row_keys(x)))
    seen = np.zeros((groups.max() + 1, 2), dtype=bool)
    seen[groups, y] = True
    shared = seen.all(axis=1)[groups]
    train = shared & (rng.random(len(seen)) < 0.5)[groups]
    for label in (0, 1):
        free = np.flatnonzero(~shared & (y == label))
        want = int(np.sum(y == label)) // 2 - int(np.sum(train & (y == label)))
        train[rng.choice(free, size=min(max(want, 0), free.size), replace=False)] = True
    for side in (train, ~train):
        if len(np.unique(y[side])) < 2:
            raise DataValidationError(
                f"Detection got too few distinct rows ({len(y) // 2} per side) to put both "
                "real and synthetic rows in each half; pass more rows."
            )
    return train
