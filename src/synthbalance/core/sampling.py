"""Sampling options shared by the generators and the project's parameters.

Plain constants, no torch, so that ``synthbalance.params`` takes its ``sampling.*``
defaults and checks from here without importing torch when it is imported.
"""

from __future__ import annotations

#: Rows generated per forward pass when sampling: small enough that a batch's activations
#: stay in the CPU cache (8,192 x 256 floats is 8 MB), large enough that the per-batch
#: Python overhead is noise. 4,096 and 16,384 were slower here.
SAMPLE_BATCH = 8192

#: Arithmetic of the sampling forward pass (see ``core.models.base.sampling_dtype``).
PRECISIONS = ("auto", "float32", "bfloat16")
