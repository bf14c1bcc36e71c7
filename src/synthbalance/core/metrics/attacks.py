"""Membership-inference attacks: do the synthetic rows tell who was in the training set?

An attacker holds the synthetic rows and a candidate real row and guesses whether the
generator trained on it. Each attack gives every candidate a score (higher: "member");
members (rows the generator trained on) and as many non-members (real rows of the same
class it never saw) are scored, and each attack is reported as

- ``auc``: the ROC AUC of members against non-members (0.5: the guess is a coin flip);
- ``tpr_at_fpr10``: the share of members caught when 10 % of non-members are wrongly
  accused, read off the ROC curve and interpolated between its points (the score of the
  MIDST challenge, SaTML 2025; it looks at the few rows an attack is sure of, which the
  AUC averages away). Chance: 0.10.

The attacks, on rows as float matrices (:func:`~._features.scaled_matrix`):

- **DCR** (distance to closest record): score = minus the Euclidean distance from the
  candidate to its nearest synthetic row. Catches copies and near-copies.
- **DOMIAS** (van Breugel, Sun, Qian and van der Schaar, "Membership Inference Attacks
  against Synthetic Data through Overfitting Detection", AISTATS 2023): score =
  p_synth(x) / p_ref(x), the density of the synthetic rows at the candidate over that of
  real reference rows (rows of the same population that are neither members nor attacked
  non-members). A generator that overfits puts extra mass on its training rows, above the
  population's density there; the ratio finds it even where the rows are not copied.
  As in the paper's KDE variant, the densities are Gaussian kernel density estimates
  (Scott's bandwidth) here on the first :data:`DOMIAS_COMPONENTS` principal components of
  the reference rows, each scaled to unit variance, since a kernel density in tens of
  dimensions is flat.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neighbors import KernelDensity, NearestNeighbors

#: Principal components the DOMIAS densities are estimated on. Measured on demo minority
#: rows copied twice (27 encoded features, 600 reference rows), AUC with 300 / 1000
#: members: 0.90 / 0.82 with 10 components, 0.93 / 0.85 with 15, 0.91 / 0.83 with all 27
#: (and 0.57 with 2, 0.77 with 5, 300 members); an independent sample read 0.49-0.53.
DOMIAS_COMPONENTS = 15
#: Reference rows DOMIAS needs at least; with fewer its figures are ``NaN``.
DOMIAS_MIN_REFERENCE = 20
#: The false-positive rate at which the true-positive rate is read.
ATTACK_FPR = 0.10


def chance_spread(members: float) -> tuple[float, float]:
    """One standard deviation of an attack's AUC and of its TPR at 10 % FPR when it is a
    coin flip, with ``members`` members and as many non-members scored (``members`` > 0).

    AUC: the Mann-Whitney null, ``sqrt((2m + 1) / (12 m^2))``. TPR: ``sqrt(2 · 0.1 · 0.9 /
    m)``, the members' binomial count above a threshold that is itself the non-members'
    empirical 90th percentile, so both samples add their variance. Simulated with
    :func:`tpr_at_fpr` on uniform scores, 4,000 draws: 0.051, 0.037 and 0.017 at 80, 128 and
    615 rows a side, against 0.047, 0.038 and 0.017 here (the members' count alone,
    ``sqrt(0.09 / m)``, gives 0.034, 0.027 and 0.012).
    """
    return (float(np.sqrt((2 * members + 1) / (12 * members**2))),
            float(np.sqrt(2 * ATTACK_FPR * (1 - ATTACK_FPR) / members)))


def attack_scores(members_scores: np.ndarray, non_members_scores: np.ndarray,
                  prefix: str) -> dict[str, float]:
    """``{prefix}auc`` and ``{prefix}tpr_at_fpr10`` of the scores of members (1-D, n1)
    against non-members (1-D, n0); both ``NaN`` where the scores are not finite."""
    scores = np.concatenate([members_scores, non_members_scores])
    labels = np.repeat([1, 0], [len(members_scores), len(non_members_scores)])
    if not len(members_scores) or not len(non_members_scores) or not np.isfinite(scores).all():
        return {f"{prefix}auc": float("nan"), f"{prefix}tpr_at_fpr10": float("nan")}
    return {f"{prefix}auc": float(roc_auc_score(labels, scores)),
            f"{prefix}tpr_at_fpr10": tpr_at_fpr(labels, scores, ATTACK_FPR)}


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """The true-positive rate at false-positive rate ``fpr`` (0..1) of the ROC curve of
    ``scores`` (1-D) for ``labels`` (1-D, 1 = member): on a vertical step at ``fpr`` its
    top, between two points of the curve the straight line (the rate a threshold drawn at
    random between the two reaches)."""
    fprs, tprs, _ = roc_curve(labels, scores, drop_intermediate=False)
    right = int(np.searchsorted(fprs, fpr, side="right"))  # the first point beyond fpr
    if right == len(fprs):
        return float(tprs[-1])
    # fprs and tprs never fall: the last point at or before fpr is the top of its step
    x0, x1, y0, y1 = fprs[right - 1], fprs[right], tprs[right - 1], tprs[right]
    return float(y0 + (y1 - y0) * (fpr - x0) / (x1 - x0))


def dcr_scores(candidates: np.ndarray, synth: np.ndarray) -> np.ndarray:
    """Minus the Euclidean distance from each candidate row (n, d) to its nearest
    synthetic row (m, d): shape (n,)."""
    return -nearest_distance(synth, candidates)


def nearest_distance(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Euclidean distance from each query row (n, d) to its nearest reference row (m, d)."""
    index = NearestNeighbors(n_neighbors=1).fit(reference)
    return index.kneighbors(queries, return_distance=True)[0][:, 0]


def domias_scores(candidates: np.ndarray, synth: np.ndarray, reference: np.ndarray
                  ) -> np.ndarray:
    """log p_synth(x) - log p_ref(x) for each candidate row (n, d): shape (n,); ``NaN``
    with fewer than :data:`DOMIAS_MIN_REFERENCE` reference rows (r, d).

    The projection (principal components, unit variance) is fitted on the reference rows;
    each density is a Gaussian kernel density with Scott's bandwidth in that projection.
    """
    if len(reference) < DOMIAS_MIN_REFERENCE:
        return np.full(len(candidates), np.nan)
    n_components = min(DOMIAS_COMPONENTS, reference.shape[1], len(reference) - 1)
    pca = PCA(n_components=n_components, svd_solver="full").fit(reference)
    spread = pca.transform(reference).std(axis=0)
    spread[spread <= 1e-12] = 1.0  # a flat component: leave it unscaled

    def project(rows: np.ndarray) -> np.ndarray:
        return pca.transform(rows) / spread

    x = project(candidates)
    log_synth = KernelDensity(bandwidth="scott").fit(project(synth)).score_samples(x)
    log_ref = KernelDensity(bandwidth="scott").fit(project(reference)).score_samples(x)
    return log_synth - log_ref
