"""The one evaluation every method's rows get, as the project's evaluation pipeline does it.

Real reference = the minority rows of the untouched test split. Fidelity and detection
compare k clean rows of the method with them (the same number for every method, as both
depend on it); utility trains xgboost on the setting's training rows plus k rows and scores
it on the test split (:func:`~synthbalance.core.metrics.recall_gain_experiment`, ``seeds``
repeats, each drawing its own k rows from a generator's pool).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from benchmarks._data import Prepared
from benchmarks._methods import SEED, RunSpec
from synthbalance.core.metrics import detection, fidelity, recall_gain_experiment
from synthbalance.core.metrics.utility import RowMaker

#: Utility figures kept per method (each also with ``_std``, the spread over seeds).
GAINS = ("pr_auc_gain", "recall_gain_at_base_precision", "recall_gain")


def evaluate_rows(rows: pd.DataFrame, data: Prepared, spec: RunSpec) -> dict[str, Any]:
    """Fidelity and detection of the first k of a generator's clean rows (a random k: the
    rows are independent draws), and the recall gain of k rows drawn per seed from all."""
    out = _quality(rows.iloc[: spec.headline_k(data)], data, spec)
    result = _utility(data, spec, synthetic=rows, smote=False, held_back=None)
    out.update(_gains(result, ""))
    out["pr_auc_baseline"] = result["pr_auc_baseline"]
    out["pr_auc_baseline_std"] = result["pr_auc_baseline_std"]
    return out


def smote_utility(data: Prepared, spec: RunSpec, smote: RowMaker) -> dict[str, float]:
    """The utility experiment with SMOTE rows from ``smote`` (``smote_rows`` or a function
    of its signature) and, after a scarce cut, the held-back real rows: the baseline,
    SMOTE's gains and the real ceiling's (``smote_*``, ``real_*`` keys)."""
    held_back = data.minority_rows(data.held_back)
    return _utility(data, spec, synthetic=None, smote=smote,
                    held_back=held_back if len(held_back) else None)


def evaluate_references(
    smote: pd.DataFrame, utility: dict[str, float], data: Prepared, spec: RunSpec
) -> dict[str, dict[str, Any]]:
    """SMOTE's record and the real rows' (quality of ``smote`` rows, gains from ``utility``,
    the output of :func:`smote_utility`).

    The real row is the held-back minority rows of a scarce cut (the ceiling), or without
    a cut the minority training rows (quality only: there is nothing left to add), cut to
    the same k rows a method adds.
    """
    held_back = data.minority_rows(data.held_back)
    k = spec.headline_k(data)
    real = held_back if len(held_back) else data.minority_rows(data.train)
    real = real.sample(n=min(k, len(real)), random_state=SEED)
    baseline = {key: utility[key] for key in ("pr_auc_baseline", "pr_auc_baseline_std",
                                               "recall_baseline", "precision_baseline")}
    return {
        "smote": {**_quality(smote, data, spec), **_gains(utility, "smote_"), **baseline},
        "real": {**_quality(real, data, spec), **_gains(utility, "real_"), **baseline,
                 "real_source": "held-back rows" if len(held_back) else "training rows"},
    }


def _quality(rows: pd.DataFrame, data: Prepared, spec: RunSpec) -> dict[str, float]:
    real = data.minority_rows(data.test)
    fid = fidelity(real, rows, data.schema)
    det = detection(real, rows, data.schema, SEED, n_jobs=spec.threads)
    return {
        "wasserstein_mean": fid["wasserstein_mean"],
        "correlation_distance": fid["correlation_distance"],
        "detection_accuracy": det["accuracy"],
        "detection_auc": det["auc"],
        "eval_rows": len(rows),
    }


def _utility(
    data: Prepared,
    spec: RunSpec,
    *,
    synthetic: pd.DataFrame | None,
    smote: bool | RowMaker,
    held_back: pd.DataFrame | None,
) -> dict[str, float]:
    k = spec.headline_k(data)
    result = recall_gain_experiment(
        data.train, data.test, data.schema, synthetic, held_back, [k],
        list(range(SEED, SEED + spec.seeds)), k, validation=data.validation,
        smote=smote, xgb_params={"n_estimators": spec.trees}, n_jobs=spec.threads,
    )
    return result.summary()


def _gains(summary: dict[str, float], prefix: str) -> dict[str, float]:
    """The method's gains (mean and spread over seeds), without the summary's prefix."""
    out: dict[str, float] = {}
    for name in GAINS:
        if prefix + name in summary:
            out[name] = summary[prefix + name]
            out[f"{name}_std"] = summary[f"{prefix}{name}_std"]
    if prefix + "k_used" in summary:
        out["k_used"] = summary[prefix + "k_used"]
    return out
