"""Errors a user can act on. Every message names the problem and the fix."""

from __future__ import annotations


class SynthBalanceError(Exception):
    """Base class of every error synthbalance raises on purpose."""


class DataValidationError(SynthBalanceError, ValueError):
    """The input table cannot be used as it is (a missing column, one class, NaN, ...)."""


class ConfigError(SynthBalanceError, ValueError):
    """A parameter is unknown, mistyped or inconsistent with another one."""


class ModelFileError(SynthBalanceError, OSError):
    """A saved model file is missing, corrupt, or does not match the data it is used with."""


class StageOutputError(SynthBalanceError, OSError):
    """What an earlier stage saved is missing, or older than what it was made from."""


class NotFittedError(SynthBalanceError, RuntimeError):
    """A transformer or generator was used before ``fit``."""
