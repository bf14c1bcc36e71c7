"""The one evaluation every method's rows get, as the project's evaluation pipeline does it.

Real reference = the minority rows of the untouched test split. Fidelity and detection
compare the method's k clean rows with them; utility trains xgboost on the setting's
training rows plus those k rows and scores it on the test split
(:func:`~synthbalance.core.metrics.recall_gain_experiment`, ``seeds`` repeats).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from benchmarks._data import Prepared
from benchmarks._methods import SEED, RunSpec
from synthbalance.core.metrics import detection, fidelity, recall_gain_experiment

#: Utility figures kept per method (each also with ``_std``, the spread over seeds).
GAINS = ("pr_auc_gain", "recall_gain_at_base_precision", "recall_gain")


def evaluate_rows(rows: pd.DataFrame, data: Prepared, spec: RunSpec) -> dict[str, Any]:
    """Fidelity, detection and recall gain of one method's clean minority rows."""
    out = _quality(rows, data, spec)
    result = _utility(data, spec, synthetic=rows, smote=False, held_back=None)
    out.update(_gains(result, ""))
    out["pr_auc_baseline"] = result["pr_auc_baseline"]
    out["pr_auc_baseline_std"] = result["pr_auc_baseline_std"]
    return out


def evaluate_references(
    smote: pd.DataFrame, data: Prepared, spec: RunSpec
) -> dict[str, dict[str, Any]]:
    """SMOTE as the utility experiment runs it (fresh rows per seed), and real rows.

    The real row is the held-back minority rows of a scarce cut (the ceiling), or without
    a cut the minority training rows (quality only: there is nothing left to add), cut to
    the same k rows a method adds.
    """
    held_back = data.minority_rows(data.held_back)
    result = _utility(data, spec, synthetic=None, smote=True,
                      held_back=held_back if len(held_back) else None)
    k = spec.headline_k(data)
    real = held_back if len(held_back) else data.minority_rows(data.train)
    real = real.sample(n=min(k, len(real)), random_state=SEED)
    baseline = {"pr_auc_baseline": result["pr_auc_baseline"],
                "pr_auc_baseline_std": result["pr_auc_baseline_std"],
                "recall_baseline": result["recall_baseline"],
                "precision_baseline": result["precision_baseline"]}
    references = {
        "smote": {**_quality(smote, data, spec), **_gains(result, "smote_"), **baseline},
        "real": {**_quality(real, data, spec), **_gains(result, "real_"), **baseline,
                 "real_source": "held-back rows" if len(held_back) else "training rows"},
    }
    return references


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
    smote: bool,
    held_back: pd.DataFrame | None,
) -> dict[str, float]:
    k = spec.headline_k(data)
    result = recall_gain_experiment(
        data.train, data.test, data.schema, synthetic, held_back, [k],
        list(range(SEED, SEED + spec.seeds)), k,
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
