"""synthbalance: synthetic minority rows from GAN and VAE generators, measured honestly."""

import os

# OpenMP threads (torch, xgboost) spin while they wait by default. On a small machine with
# anything else running, two spinning pools starve each other: a WCGAN-GP epoch measured
# 9.7 s instead of 0.65 s on 2 busy cores. Passive waiting has a price on an idle machine:
# every small op wakes the other thread through the kernel, and batch-500 epochs on 2 cores
# ran about 2x slower (docs/models.md, "Training speed"); GOMP_SPINCOUNT=300000 buys the
# speed back where the machine is yours. It must be set before torch or xgboost is first
# imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
