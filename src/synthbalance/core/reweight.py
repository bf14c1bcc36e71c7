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
(:func:`resolve_oversample`). :func:`reweighted_sample` is what the sampling pipeline
runs, for use in Python.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from xgboost import XGBClassifier

from synthbalance.core.errors import DataValidationError
from synthbalance.core.metrics._features import joint_levels, numeric_matrix
from synthbalance.core.order_rules import broken_rows
from synthbalance.core.sampling import AUTO_OVERSAMPLE, check_oversample
from synthbalance.core.schema import Schema
from synthbalance.core.split import validation_mask
from synthbalance.core.tables import label_mask, require_columns
from synthbalance.core.values import to_python

if TYPE_CHECKING:
    from synthbalance.core.synthesizer import Synthesizer

logger = logging.getLogger(__name__)

#: Fewer real rows of a class than this, and its draws are kept unweighted. Each leaf of
#: the classifier needs about 20 real rows' worth of weight (:data:`MIN_LEAF`), so on
#: fewer rows it can hardly split: measured on two columns whose draws are shifted, five
#: seeds, the weights were all equal with 20 real rows, and with 22 in four seeds of five
#: (effective sample size 100 %, which the log would read as draws like the real rows);
#: from 24 on they varied in every seed.
MIN_REAL_ROWS = 25
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
#: Rounds of fresh draws for the draws dropped for breaking an order rule.
MAX_REDRAWS = 5
#: The share of draws that keep the rules is taken as at least this when sizing a redraw,
#: so that a generator that breaks them nearly always is not asked for millions of rows.
MIN_ABIDING_SHARE = 0.05


@dataclass(frozen=True)
class Resampling:
    """What the sampling did for one class: ``kept`` rows out of ``oversample`` x ``kept``
    draws, the importance weights' effective sample size over the draws (Kish's
    ``(sum w)^2 / sum w^2``, in rows), ``None`` when the rows were kept unweighted, and the
    share of all draws dropped for breaking an order rule between date columns (``None``:
    the generator's table has none; :mod:`~synthbalance.core.order_rules`)."""

    kept: int
    oversample: int
    effective_sample_size: float | None = None
    order_broken_share: float | None = None

    def metrics(self) -> dict[str, float]:
        """``sampling.oversample`` (draws per kept row as resolved; 1: no resampling),
        ``sampling.kept_rows``, ``sampling.ess_share``, the effective sample size as a
        share of the draws in [0, 1] (NaN, so not logged, for unweighted rows), and
        ``sampling.order_broken_share`` (NaN without order rules)."""
        draws = self.kept * self.oversample
        ess, broken = self.effective_sample_size, self.order_broken_share
        return {"sampling.oversample": float(self.oversample),
                "sampling.kept_rows": float(self.kept),
                "sampling.ess_share": float("nan") if ess is None else ess / draws,
                "sampling.order_broken_share": float("nan") if broken is None else broken}


def resolve_oversample(oversample: int | str, private: bool) -> int:
    """Draws per kept row: ``oversample`` as set, ``"auto"`` read as
    :data:`AUTO_OVERSAMPLE`, or 1 (no reweighting) for a generator trained with DP.

    Raises :class:`~synthbalance.core.errors.ConfigError` for a number above 1 with a
    private generator (:func:`~synthbalance.core.sampling.check_oversample`).
    """
    check_oversample(oversample, private)
    if oversample == "auto":
        if private:
            logger.info("Importance resampling is off: the generator was trained with "
                     "training.privacy, and the classifier would read real rows without DP.")
        return 1 if private else AUTO_OVERSAMPLE
    if int(oversample) == 1:
        logger.info("Importance resampling is off (sampling.oversample: 1): the rows are the "
                    "generator's draws as they came.")
    return int(oversample)


def reweighted_sample(synthesizer: Synthesizer, train_rows: pd.DataFrame,
                      validation_rows: pd.DataFrame, n: int, label: Any, seed: int,
                      oversample: int | str = "auto", **sample_kwargs: Any) -> pd.DataFrame:
    """``n`` decoded rows of class ``label``, as the sampling pipeline makes them:
    ``oversample`` x ``n`` draws of ``synthesizer.sample`` (seeded by ``seed``;
    ``sample_kwargs`` such as ``batch_size`` and ``precision`` go to it) that break no order
    rule between date columns (:func:`abiding_draws`), importance-resampled
    against the rows of ``label`` in ``train_rows`` that are not ``validation_rows`` (the
    rows the generator learned from; pass the pipeline's ``train_rows`` and
    ``validation_rows``). :func:`reweighted_sample_report` also says what the resampling did.

    Raises:
        ConfigError: ``oversample`` above 1 for a generator trained with DP.
        DataValidationError: validation rows that are not rows of ``train_rows``.
    """
    return reweighted_sample_report(synthesizer, train_rows, validation_rows, n, label, seed,
                                    oversample, **sample_kwargs)[0]


def reweighted_sample_report(synthesizer: Synthesizer, train_rows: pd.DataFrame,
                             validation_rows: pd.DataFrame, n: int, label: Any, seed: int,
                             oversample: int | str = "auto",
                             **sample_kwargs: Any) -> tuple[pd.DataFrame, Resampling]:
    """:func:`reweighted_sample`'s rows and their :class:`Resampling` (what the sampling
    pipeline logs to MLflow); same arguments, same errors."""
    draws_per_row = resolve_oversample(oversample,
                                       synthesizer.generator.config.privacy is not None)
    target = synthesizer.schema.target
    fitted = train_rows[~validation_mask(train_rows, validation_rows)]
    real = fitted[label_mask(fitted[target], label)]
    draws, broken = abiding_draws(synthesizer, draws_per_row * n, label, seed, **sample_kwargs)
    if broken is not None:
        logger.info("Order rules (%s): %.1f %% of the draws%s broke one and were dropped, and "
                    "as many drawn again.", ", ".join(map(str, synthesizer.cleaning.orders)),
                    100 * broken, _of_class(draws, target))
    rows, ess = _resample(real, draws, synthesizer.schema, n, seed)
    return rows, Resampling(n, draws_per_row, ess, broken)


def abiding_draws(synthesizer: Synthesizer, n: int, label: Any, seed: int,
                  **sample_kwargs: Any) -> tuple[pd.DataFrame, float | None]:
    """``n`` decoded draws of class ``label`` that break none of the synthesizer's order
    rules (:mod:`~synthbalance.core.order_rules`), and the share of all draws dropped for
    breaking one (``None`` when there are no rules: the first ``n`` draws as they came).

    Rejection sampling: the draws that break a rule are dropped and more are drawn for them,
    each round from a seed derived from ``seed`` and the round, sized by the share dropped
    so far, up to :data:`MAX_REDRAWS` rounds. Rows still missing after them are taken from
    the dropped draws, with a warning; postprocessing swaps their dates.
    """
    draws = synthesizer.sample(n, label=label, seed=seed, **sample_kwargs)
    stats = synthesizer.cleaning
    if stats is None or not stats.orders:
        return draws, None
    kept: list[pd.DataFrame] = []
    dropped: list[pd.DataFrame] = []
    drawn = 0
    for redraw in range(1, MAX_REDRAWS + 2):
        broken = broken_rows(draws, stats.orders, stats.dates)
        kept.append(draws[~broken])
        dropped.append(draws[broken])
        drawn += len(draws)
        short = n - sum(map(len, kept))
        if short <= 0 or redraw > MAX_REDRAWS:
            break
        abiding = max(sum(map(len, kept)) / drawn, MIN_ABIDING_SHARE)
        draws = synthesizer.sample(math.ceil(1.2 * short / abiding), label=label,
                                   seed=_redraw_seed(seed, redraw), **sample_kwargs)
    share = sum(map(len, dropped)) / drawn
    if short > 0:
        logger.warning(
            "After %d rounds of redraws, %d of %d rows still break an order rule (%s): they "
            "are kept, and postprocessing swaps their dates. The generator puts most draws "
            "the wrong way round; train it longer or check the rule holds.", MAX_REDRAWS,
            short, n, ", ".join(map(str, stats.orders)))
    rows = pd.concat(kept + dropped if short > 0 else kept)
    return rows.iloc[:n].reset_index(drop=True), share


def _redraw_seed(seed: int, redraw: int) -> int:
    """A seed of its own for each round of redraws (not ``seed + 1``, another class's)."""
    return int(np.random.SeedSequence([seed, redraw]).generate_state(1)[0])


def importance_weights(real: pd.DataFrame, draws: pd.DataFrame, schema: Schema, seed: int,
                       *, n_jobs: int = 2) -> np.ndarray:
    """Estimated ``p_real(x) / p_generator(x)`` of each of ``draws``, shape ``(len(draws),)``.

    ``real`` and ``draws`` are rows of one class with the schema's columns (the target is
    not a feature; :func:`importance_resample` says which real rows). An xgboost
    classifier (100 trees of depth 3, leaves of at least :data:`MIN_LEAF`) separates
    ``real`` from the draws of the other folds (:data:`FOLDS`), both sides weighted to the
    same total, and scores the draws it did not see. Seeded by ``seed``: the same inputs
    give the same weights. Raises ``DataValidationError`` when a frame lacks a schema
    column or ``real`` holds a class the draws do not.
    """
    require_columns(real, schema.names, "real rows")
    require_columns(draws, schema.names, "generated rows")
    _one_class(real, draws, schema.target)
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

    ``real`` must be rows of the draws' class that the generator learned from: rows of
    other classes pull the kept rows towards them (refused when ``real`` has the target
    column), and validation rows would tune the rows to the rows that judge them. This
    function does not know how the generator was trained: for one trained with DP, use
    :func:`reweighted_sample`, which refuses.

    With fewer than :data:`MIN_REAL_ROWS` real rows, or ``n == len(draws)``, the first
    ``n`` draws unweighted. Weighted sampling without replacement by Efraimidis and
    Spirakis' keys (``log w + Gumbel`` noise, the ``n`` largest), seeded by ``seed``.
    Raises ``ValueError`` when ``n`` exceeds the draws, ``DataValidationError`` when
    ``real`` holds a class the draws do not.
    """
    return _resample(real, draws, schema, n, seed, n_jobs=n_jobs)[0]


def _resample(real: pd.DataFrame, draws: pd.DataFrame, schema: Schema, n: int, seed: int, *,
              n_jobs: int = 2) -> tuple[pd.DataFrame, float | None]:
    """:func:`importance_resample`'s rows and the weights' effective sample size (``None``:
    kept unweighted)."""
    if n > len(draws):
        raise ValueError(f"cannot keep {n} of {len(draws)} generated rows")
    _one_class(real, draws, schema.target)
    if len(real) < MIN_REAL_ROWS or n == len(draws):
        if n < len(draws):
            logger.info("Importance resampling skipped: %d real rows of the class, fewer than "
                     "the %d a classifier needs; the rows are kept unweighted.",
                     len(real), MIN_REAL_ROWS)
        return draws.iloc[:n].reset_index(drop=True), None
    weights = importance_weights(real, draws, schema, seed, n_jobs=n_jobs)
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    logger.info("Importance resampling%s kept %d of %d generated rows; the weights' effective "
             "sample size over the %d draws is %d (%.0f %%; the lower, the further the "
             "generator's rows are from the real ones).", _of_class(draws, schema.target), n,
             len(draws), len(draws), ess, 100 * ess / len(draws))
    keys = np.log(weights) + np.random.default_rng(seed).gumbel(size=len(weights))
    kept = np.argsort(-keys, kind="stable")[:n]
    return draws.iloc[kept].reset_index(drop=True), float(ess)


def _one_class(real: pd.DataFrame, draws: pd.DataFrame, target: str) -> None:
    """Raise ``DataValidationError`` when ``real`` holds a class the draws do not."""
    if target not in real.columns or target not in draws.columns:
        return
    others = set(real[target].dropna().unique()) - set(draws[target].dropna().unique())
    if others:
        raise DataValidationError(
            f"The real rows hold class(es) {sorted(map(str, others))} of {target!r}, which "
            "the generated rows are not: pass the real rows of the generated class only "
            "(or use synthbalance.core.reweight.reweighted_sample).")


def _of_class(draws: pd.DataFrame, target: str) -> str:
    """`` of class X`` for the log, when the draws hold one class."""
    if target in draws.columns and draws[target].nunique() == 1:
        label = draws[target].iloc[0]
        return f" of class {to_python(label)!r}"
    return ""
