"""Sampling options shared by the generators and the project's parameters.

Plain constants and checks, no torch, so that ``synthbalance.params`` takes its ``sampling.*``
defaults and checks from here without importing torch when it is imported.
"""

from __future__ import annotations

from synthbalance.core.errors import ConfigError

#: Rows generated per forward pass when sampling: small enough that a batch's activations
#: stay in the CPU cache (8,192 x 256 floats is 8 MB), large enough that the per-batch
#: Python overhead is noise. 4,096 and 16,384 were slower here.
SAMPLE_BATCH = 8192

#: Arithmetic of the sampling forward pass (see ``core.models.base.sampling_dtype``).
PRECISIONS = ("auto", "float32", "bfloat16")

#: Draws per kept row of ``sampling.oversample: auto`` without DP (importance resampling,
#: ``core.reweight``). Measured on the four benchmark tables (docs/models.md, "Importance
#: resampling"); 10 was no better than 5.
AUTO_OVERSAMPLE = 5
#: Most draws per kept row ``sampling.oversample`` accepts: beyond it the classifier only
#: gets slower, and a slip of a few zeros would generate billions of rows.
MAX_OVERSAMPLE = 100


def check_oversample(oversample: int | str, private: bool) -> None:
    """Refuse ``sampling.oversample`` above 1 for a generator trained with DP
    (``private``): importance resampling fits a classifier on real rows outside DP, so its
    choice of rows would leak what DP-SGD protects. Raises ``ConfigError``."""
    if private and oversample != "auto" and int(oversample) > 1:
        raise ConfigError(
            f"sampling.oversample={oversample} reweights the rows of a generator trained "
            "with training.privacy by a classifier that reads the real rows without DP, "
            "which would undo the guarantee. Set sampling.oversample: auto (or 1).")
