"""Nodes of the ``advice`` pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthbalance.core.advice import (
    Advice,
    advise,
    augmented_rows,
    dp_summary,
    privacy_warning,
    rows_summary,
    verdict,
)
from synthbalance.core.metrics.utility import deployment_shares
from synthbalance.core.schema import Schema
from synthbalance.core.tables import label_mask
from synthbalance.core.validation import label_proxies
from synthbalance.params import EvaluationParams, TrainingParams

#: Where the catalog writes the advised training set (named in the verdict; a test keeps it
#: equal to ``augmented_train``'s filepath in conf/base/catalog.yml).
AUGMENTED_PATH = "data/05_model_input/augmented_train.parquet"
#: Where the catalog writes the cleaned synthetic rows (named in the privacy warning).
SYNTHETIC_PATH = "data/07_model_output/synthetic_rows.parquet"


def choose_arm(
    utility_arms: pd.DataFrame, utility_table: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """The advised arm and k, chosen on validation rows only (``core.advice.advise``):
    the advice as plain data, its ``advice.*`` metrics and its ``advice.arm`` tag."""
    baseline = utility_table.loc[utility_table["method"] == "baseline",
                                 ["pr_auc", "validation_pr_auc"]].mean()
    advice = advise(utility_arms, float(baseline["pr_auc"]),
                    float(baseline["validation_pr_auc"]))
    return advice.to_dict(), advice.metrics(), {"advice.arm": advice.arm}


def augment_training_rows(
    train_rows: pd.DataFrame,
    synthetic_rows: pd.DataFrame,
    schema: Schema,
    advice: dict[str, Any],
    seed: int,
) -> pd.DataFrame:
    """Every real training row plus the advised arm's rows, ``synthbalance_added`` marking
    the added ones (nothing is added for ``none`` or ``class_weights``)."""
    return augmented_rows(Advice.from_dict(advice), train_rows, synthetic_rows, schema, seed)


def write_verdict(
    advice: dict[str, Any],
    train_rows: pd.DataFrame,
    held_back_rows: pd.DataFrame,
    test_rows: pd.DataFrame,
    schema: Schema,
    evaluation: dict[str, Any],
    privacy_metrics: dict[str, float],
    detection_metrics: dict[str, float] | None = None,
    fidelity_metrics: dict[str, float] | None = None,
    validation_rows: pd.DataFrame | None = None,
    training: dict[str, Any] | None = None,
) -> str:
    """The advice in words, ready to print at the end of the run; it names the minority
    share validation rows were weighted to, when they were (the utility experiment's rule,
    ``deployment_shares``: a declared share, or the share before a scarce cut), and the
    test split's minority share, the PR AUC of ranking at random (mean over minority
    classes). A paragraph on how the synthetic rows read follows (``rows_summary``:
    detection, distance, attacks), and a warning when they give real rows away
    (``privacy_warning``). ``validation_rows``' minority rows are counted where the
    baseline ranks them all first. With ``training.privacy`` (DP-SGD) a paragraph gives
    its budget and what it does not cover (``dp_summary``)."""
    declared = EvaluationParams.from_dict(evaluation).deployment_prevalence
    shares = deployment_shares(train_rows, held_back_rows, schema, declared)
    weighted = [share for share in shares.values() if share is not None]
    chance = np.mean([label_mask(test_rows[schema.target], cls).mean()
                      for cls in schema.minority_classes])
    said = verdict(Advice.from_dict(advice), AUGMENTED_PATH, _class_weight(train_rows, schema),
                   float(np.mean(weighted)) if weighted else None,
                   "declared" if declared is not None else "before_cut", float(chance),
                   label_proxies(train_rows, schema), schema.minority_classes,
                   _minority_rows(validation_rows, schema))
    rows = rows_summary({**(detection_metrics or {}), **(fidelity_metrics or {}),
                         **privacy_metrics}, SYNTHETIC_PATH)
    private = dp_summary(TrainingParams.from_dict(training).privacy)
    warning = privacy_warning(privacy_metrics, SYNTHETIC_PATH)
    return "\n\n".join(text for text in (said, rows, private, warning) if text) + "\n"


def _minority_rows(rows: pd.DataFrame | None, schema: Schema) -> int | None:
    """How many of ``rows`` are of a minority class (``None`` without rows)."""
    if rows is None:
        return None
    return sum(int(label_mask(rows[schema.target], c).sum()) for c in schema.minority_classes)


def _class_weight(rows: pd.DataFrame, schema: Schema) -> float | None:
    """xgboost's ``scale_pos_weight`` for the first minority class: negatives / positives."""
    positives = label_mask(rows[schema.target], schema.minority_classes[0]).sum()
    return (len(rows) - positives) / positives if positives else None
