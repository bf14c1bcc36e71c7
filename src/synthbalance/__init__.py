"""synthbalance: synthetic minority rows from GAN and VAE generators, measured honestly.

Importing it changes nothing outside it: call :func:`configure_openmp` first in a notebook
to choose how OpenMP threads wait (``kedro run`` does so itself).
"""

from synthbalance.runtime import configure_openmp

__all__ = ["configure_openmp"]
__version__ = "0.1.0"
