"""synthbalance: synthetic minority rows from GAN and VAE generators, measured honestly."""

__version__ = "0.1.0"
