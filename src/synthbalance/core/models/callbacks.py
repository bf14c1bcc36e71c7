"""Callbacks of the training loop, in the manner of skorch.

:meth:`BaseGenerator.fit <synthbalance.core.models.base.BaseGenerator.fit>` calls every
callback's hooks in the order given, around each epoch::

    on_train_begin(gen, n_rows)
    for epoch in 1..epochs:
        on_epoch_begin(gen, epoch)
        losses = <one epoch>            # recorded in gen.history first
        on_epoch_end(gen, epoch, losses)
        if gen.stop_training: break     # any callback may set it (a spent privacy budget)
    on_train_end(gen)

Everything that is not the training step itself is a callback: :class:`EpochTimer`,
:class:`ProgressBar`, :class:`PeriodicCheck` (the quick quality check every few epochs),
:class:`EarlyStopping` (ends a run whose checks stopped improving) and
:class:`BestCheckpoint` (keeps the weights of the best check). Nothing outside patches
the loop. A privacy accountant fits the same mould: read ε on ``on_epoch_end``, record it,
set ``stop_training`` when the budget is spent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import torch
from tqdm import tqdm

from synthbalance.core.errors import ConfigError

if TYPE_CHECKING:
    from synthbalance.core.models.base import BaseGenerator

logger = logging.getLogger(__name__)

#: Lines a training logs in place of its progress bar when standard error is no terminal.
PROGRESS_LINES = 10

#: ``check(epoch, generator) -> {"score": lower is better, ...} | None``
CheckFn = Callable[[int, "BaseGenerator"], "Mapping[str, float] | None"]


class Callback:
    """Base class: override the hooks you need; each gets the generator being fitted."""

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        """Before the first epoch; ``n_rows``: the rows the generator is fitted on."""

    def on_epoch_begin(self, generator: BaseGenerator, epoch: int) -> None:
        """Before epoch ``epoch`` (1-based) trains."""

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        """After epoch ``epoch``; its mean ``losses`` are already in ``generator.history``."""

    def on_train_end(self, generator: BaseGenerator) -> None:
        """After the last epoch (also when a callback stopped training early)."""


class EpochTimer(Callback):
    """Wall-clock seconds of every epoch's training step, in :attr:`seconds`.

    Put it first among the callbacks: the time runs from its ``on_epoch_begin`` to its
    ``on_epoch_end``, so callbacks called before it at the end of an epoch (a check) would
    be counted. ``n_rows`` is the number of rows of the last fit.
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.n_rows = 0
        self._start = 0.0

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        self.seconds, self.n_rows = [], n_rows

    def on_epoch_begin(self, generator: BaseGenerator, epoch: int) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        self.seconds.append(time.perf_counter() - self._start)


class ProgressBar(Callback):
    """A tqdm bar over the epochs, showing the last epoch's losses, where standard error is
    a terminal. Elsewhere (output sent to a file, a CI log) a bar is a stream of carriage
    returns, so :data:`PROGRESS_LINES` log lines over the run say the same instead."""

    def __init__(self) -> None:
        self._bar: Any = None

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        self._bar = tqdm(total=generator.epochs, desc=called(generator), unit="epoch",
                         disable=None)  # None: off where standard error is not a terminal

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        shown = {k: f"{v:.3g}" for k, v in losses.items()}
        self._bar.set_postfix(shown, refresh=False)
        self._bar.update()
        every = max(1, generator.epochs // PROGRESS_LINES)
        if self._bar.disable and (epoch % every == 0 or epoch == generator.epochs):
            logger.info("%s: epoch %d of %d, %s", called(generator), epoch, generator.epochs,
                        ", ".join(f"{k} {v}" for k, v in shown.items()))

    def on_train_end(self, generator: BaseGenerator) -> None:
        self._bar.close()


class PeriodicCheck(Callback):
    """Call ``check(epoch, generator)`` every ``every`` epochs and after the last one.

    ``check`` returns ``{"score": lower is better, ...}`` or ``None`` (no check this time).
    Each result is recorded in the history as ``check.epoch`` and ``check.<key>``.
    ``every``: default ``generator.check_every`` (the config's, or resolved from ``auto``).

    Raises:
        ConfigError: ``check`` returned a result without a ``score``.
    """

    def __init__(self, check: CheckFn, every: int | None = None):
        self.check, self.every = check, every

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        every = self.every or generator.check_every
        if epoch % every and epoch != generator.epochs and not generator.stop_training:
            return
        result = self.check(epoch, generator)
        if result is None:
            return
        if "score" not in result:
            raise ConfigError(
                f"The check returned {sorted(result)} without a 'score' key; return "
                "{'score': <lower is better>, ...} or None."
            )
        generator.record({"check.epoch": float(epoch)})
        generator.record({f"check.{k}": float(v) for k, v in result.items()})


def checked_score(generator: BaseGenerator, epoch: int, monitor: str) -> float | None:
    """The ``monitor`` value :class:`PeriodicCheck` recorded at ``epoch``, else ``None``."""
    history = generator.history
    checked = history.get("check.epoch", [])
    if not checked or checked[-1] != epoch or monitor not in history:
        return None
    return history[monitor][-1]


class EarlyStopping(Callback):
    """Stop training after ``patience`` periodic checks in a row without a better
    ``monitor`` value (lower is better); put it after :class:`PeriodicCheck`."""

    def __init__(self, patience: int, monitor: str = "check.score"):
        self.patience, self.monitor = patience, monitor
        self._best, self._waited, self._best_epoch = math.inf, 0, 0

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        self._best, self._waited, self._best_epoch = math.inf, 0, 0

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        score = checked_score(generator, epoch, self.monitor)
        if score is None:
            return
        if score < self._best:
            self._best, self._waited, self._best_epoch = score, 0, epoch
            return
        self._waited += 1
        # at the last epoch the budget ends the fit, and BestCheckpoint says so
        if self._waited >= self.patience and epoch < generator.epochs:
            generator.stop_training = True
            logger.info("%s: stopped after epoch %d of %d, %d checks in a row without a "
                        "better %s (training.patience); the best check was at epoch %d, "
                        "whose weights are kept.", called(generator), epoch,
                        generator.epochs, self.patience, self.monitor, self._best_epoch)


class BestCheckpoint(Callback):
    """Keep the weights of the best (lowest) ``monitor`` value and restore them at the end.

    Reads the history that :class:`PeriodicCheck` writes (put this after it): an epoch
    whose ``check.epoch`` was just recorded is a candidate. ``generator.best_epoch`` is
    the epoch kept, or the last epoch trained when nothing was checked. ``NaN`` never wins.
    """

    def __init__(self, monitor: str = "check.score"):
        self.monitor = monitor
        self._best, self._epoch, self._weights = math.inf, None, None

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        self._best, self._epoch, self._weights = math.inf, None, None

    def on_epoch_end(
        self, generator: BaseGenerator, epoch: int, losses: Mapping[str, float]
    ) -> None:
        score = checked_score(generator, epoch, self.monitor)
        if score is not None and score < self._best:  # NaN never wins
            self._best, self._epoch = score, epoch
            self._weights = generator.weights()

    def on_train_end(self, generator: BaseGenerator) -> None:
        if self._weights is not None:
            generator.load_weights(self._weights)
            generator.best_epoch = self._epoch
            if not generator.stop_training:  # a stop said which weights it keeps
                trained = len(generator.history.get("loss", ()))
                logger.info("%s: trained all %d epochs; the best check was at epoch %d, "
                            "whose weights are kept.", called(generator), trained,
                            self._epoch)


def called(generator: BaseGenerator) -> str:
    """The generator's name in log lines (:attr:`BaseGenerator.log_name`, else its family)."""
    return generator.log_name or generator.name


def cpu_copy(weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's ``state_dict``."""
    return {k: v.detach().to("cpu", copy=True) for k, v in weights.items()}
