"""Paired bootstrap intervals of gains, computed for many resamples at once.

A gain compares two classifiers scored on the same rows. Its uncertainty from the rows is
estimated by the paired bootstrap (Efron and Tibshirani 1993, ch. 13; the comparison of
two classifiers on one test set as in Bouthillier et al., MLSys 2021): resample the rows
with replacement, score both classifiers on the same resample, take the difference, and
read the 2.5th and 97.5th percentiles of the differences (the percentile interval).

A resample is a row of counts (how often each row was drawn), so every score below is a
weighted score, and many resamples are scored at once as a matrix of weights: the PR curve
of a classifier needs one sort of its scores, then two cumulative sums per resample. With
the counts of a resample as weights, :meth:`Resamples.average_precision` equals
scikit-learn's ``average_precision_score`` on the resampled rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

#: Resamples scored together, at most: a (CHUNK, rows) weight matrix.
CHUNK = 50
#: Cells (resamples x rows) of one batch, at most. Every classifier's PR curve on a batch is
#: kept while the batch is scored (two float64 arrays of this many cells, 8 MB): on a
#: credit-card test split (85,000 rows) and 42 classifiers, 50 resamples a batch held 3.2 GB,
#: 5 a batch 0.6 GB, with the same draws and intervals.
MAX_CELLS = 500_000
#: The interval's coverage.
LEVEL = 0.95


def resample_weights(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Count matrices ``(<= CHUNK, n)`` of at most about :data:`MAX_CELLS` cells,
    ``n_boot`` rows in all: how often each of ``n`` rows is drawn in each resample of ``n``
    draws with replacement (seeded; the draws do not depend on the batch size)."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(CHUNK, MAX_CELLS // max(n, 1)))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draws = rng.integers(0, n, (size, n))
        offsets = (np.arange(size) * n)[:, None]
        yield np.bincount((draws + offsets).ravel(), minlength=size * n).reshape(size, n)


def percentile_interval(values: np.ndarray) -> tuple[float, float]:
    """The central :data:`LEVEL` interval of bootstrap ``values`` (NaN ignored)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Ranked:
    """One classifier's scores on one set of rows, sorted once for weighted scores.

    ``weight``: a fixed weight per row (``None``: every row 1), multiplied into every
    resample's counts; :func:`prevalence_weights` makes the rows stand for a population
    with another share of positives.
    """

    y: np.ndarray  # labels 0/1, original order
    proba: np.ndarray  # scores, original order
    order: np.ndarray  # rows by descending score (stable)
    last: np.ndarray  # positions (in ``order``) that end a run of equal scores
    weight: np.ndarray | None = None  # per row, original order

    @classmethod
    def of(cls, y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None = None) -> Ranked:
        """Rank ``proba`` (shape ``(n,)``) for labels ``y`` (0/1, shape ``(n,)``), rows
        weighted by ``weight`` (shape ``(n,)``, positive) if given."""
        y, proba = np.asarray(y, dtype=np.float64), np.asarray(proba, dtype=np.float64)
        order = np.argsort(-proba, kind="stable")
        last = np.flatnonzero(np.r_[np.diff(proba[order]) != 0, True])
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
        return cls(y, proba, order, last, weight)

    def weighted(self, w: np.ndarray) -> np.ndarray:
        """Resample counts ``w`` (``(B, n)``) times the rows' weights."""
        return w if self.weight is None else w * self.weight


def prevalence_weights(y: np.ndarray, share: float) -> np.ndarray:
    """Row weights under which the positives of ``y`` (0/1, shape ``(n,)``) make up
    ``share`` of the weighted rows: positives ``share / (1 - share) * negatives /
    positives``, negatives 1 (shape ``(n,)``).

    The rows then stand for a population where the positive class has that prevalence:
    precision, and so PR AUC, depend on it, while recall does not (precision at another
    class ratio, as in Brabec et al., "On model evaluation under non-constant class
    imbalance", ICCS 2020).

    Raises:
        ValueError: ``share`` outside (0, 1), or ``y`` without both classes.
    """
    y = np.asarray(y)
    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if not 0 < share < 1:
        raise ValueError(f"A prevalence must lie strictly between 0 and 1 (got {share}).")
    if positives == 0 or negatives == 0:
        raise ValueError("Prevalence weights need rows of both classes.")
    return np.where(y == 1, share / (1 - share) * negatives / positives, 1.0)


class Resamples:
    """A batch of resamples (weights ``w``, shape ``(B, n)``, rows in original order) and
    every score of a :class:`Ranked` classifier on them, one value per resample ``(B,)``.

    A classifier's PR curve is computed once per batch and shared by its scores.
    """

    def __init__(self, w: np.ndarray):
        self.w = w
        self._curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def curve(self, r: Ranked) -> tuple[np.ndarray, np.ndarray]:
        """Weighted (precision, recall) at every distinct threshold, highest first."""
        if id(r) not in self._curves:
            # float32 sums of counts stay exact below 2**24 rows and halve the time;
            # fractional weights are summed in float64
            ws = (self.w[:, r.order].astype(np.float32) if r.weight is None
                  else self.w[:, r.order] * r.weight[r.order])
            tps = np.cumsum(ws * r.y[r.order].astype(ws.dtype), axis=1)[:, r.last]
            fps = np.cumsum(ws, axis=1)[:, r.last] - tps
            tps, fps = tps.astype(np.float64), fps.astype(np.float64)
            predicted, positives = tps + fps, tps[:, -1:]
            precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted > 0)
            recall = np.divide(tps, positives, out=np.zeros_like(tps), where=positives > 0)
            self._curves[id(r)] = (precision, recall)
        return self._curves[id(r)]

    def average_precision(self, r: Ranked) -> np.ndarray:
        """PR AUC as scikit-learn's ``average_precision_score``: the sum of precision
        times the recall gained at each threshold."""
        precision, recall = self.curve(r)
        return np.sum(np.diff(recall, axis=1, prepend=0.0) * precision, axis=1)

    def recall_at_precision(self, r: Ranked, reference: np.ndarray | float) -> np.ndarray:
        """The highest recall among thresholds whose precision is at least ``reference``
        (one per resample, or one for all); 0 where none qualifies."""
        precision, recall = self.curve(r)
        reference = np.broadcast_to(np.asarray(reference, dtype=float), (len(self.w),))
        return np.where(precision >= reference[:, None] - 1e-12, recall, 0.0).max(axis=1)

    def recall_at(self, r: Ranked, threshold: float) -> np.ndarray:
        """Recall when rows scoring at least ``threshold`` are called positive."""
        w = r.weighted(self.w)
        return (w @ ((r.proba >= threshold) * r.y)) / (w @ r.y)

    def precision_at(self, r: Ranked, threshold: float, empty: float = 0.0) -> np.ndarray:
        """Precision at ``threshold``; ``empty`` where nothing is called positive."""
        called, w = (r.proba >= threshold).astype(float), r.weighted(self.w)
        predicted, hits = w @ called, w @ (called * r.y)
        return np.divide(hits, predicted, out=np.full(len(self.w), empty), where=predicted > 0)


#: ``statistic(resamples) -> (B,)``: one score per resample.
Statistic = Callable[[Resamples], np.ndarray]


Gains = Mapping[Hashable, Sequence[tuple[Statistic, Statistic]]]


def paired_draws(gains: Gains, n: int, n_boot: int, seed: int) -> dict[Hashable, np.ndarray]:
    """Each gain on the same ``n_boot`` resamples of ``n`` rows, shape ``(n_boot,)``.

    ``gains[key]`` lists ``(arm, reference)`` statistics (one pair per seed and class, say);
    the gain on a resample is the mean of ``arm - reference`` over the pairs. Every key is
    scored on the same resamples, so gains are paired with each other too.
    """
    draws: dict[Hashable, list[np.ndarray]] = {key: [] for key in gains}
    for w in resample_weights(n, n_boot, seed):
        batch = Resamples(w)
        for key, pairs in gains.items():
            draws[key].append(np.mean([arm(batch) - ref(batch) for arm, ref in pairs], axis=0))
    return {key: np.concatenate(values) for key, values in draws.items()}


def paired_intervals(gains: Gains, n: int, n_boot: int, seed: int
                     ) -> dict[Hashable, tuple[float, float]]:
    """The percentile interval (:data:`LEVEL`) of each gain of :func:`paired_draws`."""
    return {key: percentile_interval(v) for key, v in paired_draws(gains, n, n_boot, seed).items()}


def point_gains(gains: Gains, n: int) -> dict[Hashable, float]:
    """Each gain on the rows themselves (every row once)."""
    batch = Resamples(np.ones((1, n)))
    return {key: float(np.mean([arm(batch) - ref(batch) for arm, ref in pairs]))
            for key, pairs in gains.items()}


def simultaneous_z(m: int) -> float:
    """The normal quantile of intervals that hold for ``m`` gains at once with
    :data:`LEVEL` confidence (Bonferroni): ``1 - (1 - LEVEL) / (2 m)``."""
    return float(norm.ppf(1 - (1 - LEVEL) / (2 * max(m, 1))))


def simultaneous_intervals(gains: Gains, n: int, n_boot: int, seed: int
                           ) -> dict[Hashable, tuple[float, float]]:
    """Intervals that hold for every gain at once with :data:`LEVEL` confidence.

    For a choice among many gains (the best of m candidates looks better than it is: the
    winner's curse), each interval is ``gain ± z * se`` with ``z`` the normal quantile of
    ``1 - (1 - LEVEL) / (2 m)`` (Bonferroni over the m gains) and ``se`` the bootstrap
    standard error: the far tails a percentile interval would need are poorly estimated
    from a few hundred resamples.
    """
    draws = paired_draws(gains, n, n_boot, seed)
    z = simultaneous_z(len(gains))
    out = {}
    for key, point in point_gains(gains, n).items():
        finite = draws[key][np.isfinite(draws[key])]
        se = float(finite.std(ddof=1)) if finite.size > 1 else float("nan")
        out[key] = (point - z * se, point + z * se)
    return out
