"""Metrics as pure functions: fidelity, detection, utility (the recall gain) and privacy.

Definitions in ``docs``/DESIGN.md, "Metric definitions"; each module's docstring repeats
the one it implements.
"""

from synthbalance.core.metrics.detection import DETECTION_MAX_ROWS, detection
from synthbalance.core.metrics.fidelity import (
    correlation_difference,
    fidelity,
    fidelity_by_class,
    scaled_wasserstein,
    total_variation,
)
from synthbalance.core.metrics.privacy import (
    PRIVACY_MAX_ROWS,
    copy_mask,
    privacy,
    real_identifier_values,
    unique_copy_mask,
)
from synthbalance.core.metrics.utility import (
    ARMS,
    DEFAULT_XGB_PARAMS,
    GAIN_METRICS,
    METRICS,
    UtilityResult,
    gain_curve,
    recall_gain_experiment,
    summarize,
)

__all__ = [
    "ARMS",
    "DEFAULT_XGB_PARAMS",
    "DETECTION_MAX_ROWS",
    "GAIN_METRICS",
    "METRICS",
    "PRIVACY_MAX_ROWS",
    "UtilityResult",
    "copy_mask",
    "correlation_difference",
    "detection",
    "fidelity",
    "fidelity_by_class",
    "gain_curve",
    "privacy",
    "real_identifier_values",
    "recall_gain_experiment",
    "scaled_wasserstein",
    "summarize",
    "total_variation",
    "unique_copy_mask",
]
