"""Importance resampling of generated rows by a real-vs-synthetic classifier.

A generator's rows ``x ~ q`` are drawn ``oversample`` times over and each is weighted by
an estimate of the density ratio ``p(x) / q(x)`` of the real rows ``p``: a classifier
told to separate real rows from the draws gives ``P(synthetic | x)``, and with both sides
weighted to the same total, ``p(x) / q(x) = (1 - P) / P``. Drawing the rows to keep in
proportion to these weights, without replacement, moves the kept rows towards the real
distribution where the generator missed it (a mode it under-fills, a tail it over-fills),
while every kept row is still the generator's own. This is likelihood-free importance
weighting, Grover et al., "Bias Correction of Learned Generative Models using
Likelihood-Free Importance Weighting", NeurIPS 2019, with a boosted-tree classifier in
place of their network and cross-fitting so that no draw is weighted by a classifier that
saw it.

The real rows read here are read outside any differential-privacy mechanism: a generator
trained with ``training.privacy`` does not have its rows reweighted by default
(``sampling.oversample: auto``), and an explicit ``oversample`` above 1 is refused for it
(:func:`resolve_oversample`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

from synthbalance.core.errors import ConfigError
from synthbalance.core.metrics._features import joint_levels, numeric_matrix
from synthbalance.core.schema import Schema
from synthbalance.core.tables import require_columns

log = logging.getLogger(__name__)

#: Draws per kept row of ``sampling.oversample: auto`` without DP. Measured on the four
#: benchmark tables (docs/models.md, "Importance resampling"); 10 was no better than 5.
AUTO_OVERSAMPLE = 5
#: Fewer real rows of a class than this, and its draws are kept unweighted: a classifier
#: fitted on a handful of rows weighs noise.
MIN_REAL_ROWS = 20
#: Folds of the cross-fitting: each draw is weighted by a classifier fitted on the others.
FOLDS = 2
#: Bounds of the classifier's ``P(synthetic | x)``, so that no weight is 0 or infinite.
P_BOUNDS = (1e-4, 1 - 1e-4)
#: The classifier's ``min_child_weight``, in real rows: each real row weighs 1 (the draws
#: together as much as the real rows), and a row's share of a leaf's hessian is
#: ``P (1 - P) <= 1/4``, so a leaf holds at least about 20 real rows' worth. No weight can
#: point at a single training row, and on the credit card's 80 frauds a looser leaf (about
#: 3 rows) moved the kept rows' marginals away from the real ones (W-mean 0.27 to 0.32).
MIN_LEAF = 5.0


def resolve_oversample(oversample: int | str, private: bool) -> int:
    """Draws per kept row: ``oversample`` as set, ``"auto"`` read as
    :data:`AUTO_OVERSAMPLE`, or 1 (no reweighting) for a generator trained with DP.

    Raises :class:`~synthbalance.core.errors.ConfigError` for a number above 1 with a
    private generator: the classifier reads the real rows without DP, so its choice of
    rows would leak what DP-SGD protects.
    """
    if oversample == "auto":
        return 1 if private else AUTO_OVERSAMPLE
    if private and oversample > 1:
        raise ConfigError(
            f"sampling.oversample={oversample} reweights the rows of a generator trained "
            "with training.privacy by a classifier that reads the real rows without DP, "
            "which would undo the guarantee. Set sampling.oversample: auto (or 1).")
    return int(oversample)


def importance_weights(real: pd.DataFrame, draws: pd.DataFrame, schema: Schema, seed: int,
                       *, n_jobs: int = 2) -> np.ndarray:
    """Estimated ``p_real(x) / p_generator(x)`` of each of ``draws``, shape ``(len(draws),)``.

    ``real`` and ``draws`` are rows of one class with the schema's columns (the target is
    ignored). An xgboost classifier (100 trees of depth 3, leaves of at least
    :data:`MIN_LEAF`) separates ``real`` from the draws of the other folds (:data:`FOLDS`),
    both sides weighted to the same total, and scores the draws it did not see. Seeded by
    ``seed``: the same inputs give the same weights. Raises ``DataValidationError`` when a
    frame lacks a schema column.
    """
    require_columns(real, schema.names, "real rows")
    require_columns(draws, schema.names, "generated rows")
    levels = joint_levels(schema, real, draws)
    x_real = numeric_matrix(real, schema, levels)
    x_draws = numeric_matrix(draws, schema, levels)
    fold = np.random.default_rng(seed).integers(0, FOLDS, len(x_draws))
    weights = np.ones(len(x_draws))
    for f in range(FOLDS):
        fitting = fold != f
        if not fitting.any() or fitting.all():
            continue
        x = np.vstack([x_real, x_draws[fitting]])
        y = np.r_[np.zeros(len(x_real)), np.ones(int(fitting.sum()))]
        balance = np.where(y == 0, 1.0, len(x_real) / fitting.sum())
        model = XGBClassifier(n_estimators=100, max_depth=3, learning_rate=0.1,
                              subsample=0.8, min_child_weight=MIN_LEAF, tree_method="hist",
                              n_jobs=n_jobs, random_state=seed)
        model.fit(x, y, sample_weight=balance)
        p = np.clip(model.predict_proba(x_draws[~fitting])[:, 1], *P_BOUNDS)
        weights[~fitting] = (1 - p) / p
    return weights


def importance_resample(real: pd.DataFrame, draws: pd.DataFrame, schema: Schema, n: int,
                        seed: int, *, n_jobs: int = 2) -> pd.DataFrame:
    """``n`` of ``draws`` (``n <= len(draws)``), drawn without replacement with chances
    proportional to :func:`importance_weights`, in the order drawn, index reset.

    With fewer than :data:`MIN_REAL_ROWS` real rows, or ``n == len(draws)``, the first
    ``n`` draws unweighted. Weighted sampling without replacement by Efraimidis and
    Spirakis' keys (``log w + Gumbel`` noise, the ``n`` largest), seeded by ``seed``.
    Raises ``ValueError`` when ``n`` exceeds the draws.
    """
    if n > len(draws):
        raise ValueError(f"cannot keep {n} of {len(draws)} generated rows")
    if len(real) < MIN_REAL_ROWS or n == len(draws):
        if n < len(draws):
            log.info("Importance resampling skipped: %d real rows of the class, fewer than "
                     "the %d a classifier needs; the rows are kept unweighted.",
                     len(real), MIN_REAL_ROWS)
        return draws.iloc[:n].reset_index(drop=True)
    weights = importance_weights(real, draws, schema, seed, n_jobs=n_jobs)
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    log.info("Importance resampling kept %d of %d generated rows; the weights' effective "
             "sample size is %d (%.0f %% of the draws: lower means the generator's rows "
             "are further from the real ones).", n, len(draws), ess, 100 * ess / len(draws))
    keys = np.log(weights) + np.random.default_rng(seed).gumbel(size=len(weights))
    kept = np.argsort(-keys, kind="stable")[:n]
    return draws.iloc[kept].reset_index(drop=True)
