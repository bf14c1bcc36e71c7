"""DP-SGD (Abadi et al., CCS 2016) for the networks that read real rows, through Opacus.

A family names its private networks in ``private_nets``: the discriminator or critic of the
GAN families, encoder and decoder of the VAEs (one optimiser over both), the denoiser of
``ddpm``. The generator of a GAN reads no real row: its loss is computed through the
private discriminator, so its updates are post-processing of a DP output (Xie et al. 2018,
"Differentially Private Generative Adversarial Network"; Opacus' DCGAN example trains its
generator the same way). Under DP it is given uniformly drawn classes, never a real row's.
The privacy unit is one training row, its class included (conditional families).

Every piece that the guarantee rests on is Opacus':

- batches: Poisson sampling, every row joins every batch with probability
  ``q = 1 / ceil(n / batch_size)`` (``DPDataLoader``'s ``UniformWithReplacementSampler``),
  or, for a class-balanced conditional fit, with its class's rate (:class:`ClassRateSampler`,
  that sampler with a rate per row; the accountant stepped at the largest), drawn from a CPU
  generator seeded from the fit's seed, so one seed gives the same rows;
- clipping each row's gradient to ``max_grad_norm``, adding Gaussian noise of standard
  deviation ``noise_multiplier * max_grad_norm`` (``DPOptimizer``), and the RDP accountant
  (Mironov 2017) that turns the steps into ε, through ``PrivacyEngine.make_private``;
- the noise multiplier, unless fixed: ``get_noise_multiplier`` for the planned steps.

Opacus' RDP accountant recomputes its pure-Python series at every reading of ε (0.1 s and
more each); :class:`MemoRDPAccountant` is that accountant with the one-step RDP curve of a
(noise, sample rate) pair computed once, as Opacus' ``compute_rdp`` is that curve times
the steps: the same ε, read in microseconds after the first epoch.

Each row's gradient is clipped by one of three routes, chosen by the family
(``_private_clipping``):

- ``"ghost"`` (every family but the WGAN-GP ones): Opacus' ghost clipping
  (``grad_sample_mode="ghost"``; Li et al., ICLR 2022, "Large Language Models Can Be
  Strong Differentially Private Learners"; Bu et al. 2023, "Differentially Private
  Optimization on Large Model at Small Cost"). A first backward pass of the batch's mean
  loss gives each layer's inputs and output gradients, from which Opacus computes each row's
  gradient norm without forming it (for a ``Linear`` layer on one vector per row,
  ``||g_i|| = ||a_i|| ||b_i||``; on a few vectors per row, from their Gram matrices); a
  second backward pass of the per-row losses weighted by ``min(1, C / ||g_i||)`` gives the
  clipped sum. A module Opacus has no norm rule for (the VAE decoder's learned scale,
  :class:`~synthbalance.core.models.vae.GaussianScale`) gets a per-row gradient rule
  registered with Opacus (``register_grad_sampler``); a handful of weights, cheap to form.
  Each private network must run once per step: the GAN discriminator judges a
  row's real and fake sides in one pass (a sequence of two vectors per row).
- ``"norms"`` (WGAN-GP, critic without dropout): the gradient penalty needs a double
  backward pass, which Opacus' hooks cannot follow. The family computes the same ghost
  norms itself with the input gradient written out layer by layer
  (:meth:`~synthbalance.core.models.wgan.WGANGP._critic_loss_and_norms`, Opacus' ``Linear``
  norm rule on three vectors per row); the clipped backward pass and the optimiser are
  Opacus' ghost-clipping ones. Each row's penalty depends on that row alone, so clipping
  bounds its influence.
- ``"vmap"`` (WGAN-GP with dropout in the critic): per-row gradients from ``torch.func``
  (``vmap`` of ``grad`` of the loss on one row), handed to the ``DPOptimizer`` through
  Opacus' ``"no_op"`` GradSampleModule.

All routes clip to the same ``max_grad_norm`` with Opacus' factor ``min(1, C / (||g_i||
+ 1e-6))``, add the same noise and divide by the same expected batch size: the privacy
accounting does not depend on the route.

Opacus runs with ``secure_mode=False``: the noise comes from a seeded torch generator, not a
cryptographically secure one (see docs/privacy.md).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch
from opacus import PrivacyEngine
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis import rdp as rdp_analysis
from opacus.accountants.utils import get_noise_multiplier
from opacus.data_loader import DPDataLoader
from opacus.grad_sample import register_grad_sampler
from opacus.utils.uniform_sampler import UniformWithReplacementSampler
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.utils.data import DataLoader, TensorDataset

from synthbalance.core.config import PrivacyConfig
from synthbalance.core.errors import ConfigError
from synthbalance.core.models.base import Batches
from synthbalance.core.models.callbacks import Callback, called
from synthbalance.core.models.vae import GaussianScale, scale_grad_sample

if TYPE_CHECKING:
    from synthbalance.core.models.base import BaseGenerator

logger = logging.getLogger(__name__)
#: ``loss(*rows) -> (per-row losses (rows,), {name: batch value to log})``.
RowLoss = Callable[..., tuple[torch.Tensor, Mapping[str, torch.Tensor]]]
# The VAE decoder's learned scale: its per-row gradients by formula, for the ghost norms
register_grad_sampler(GaussianScale)(scale_grad_sample)
#: The per-row clipping routes (module docstring).
CLIPPING = ("ghost", "norms", "vmap")
#: Opacus' accountant: Renyi DP (Mironov 2017), the one of Abadi et al.'s moments.
ACCOUNTANT = "rdp"
#: Precision of the noise calibration (Opacus' default).
EPSILON_TOLERANCE = 0.01
#: Rényi orders ε is read at, and the noise calibrated at: Opacus' own (1.1 to 63), then
#: on to 1024. With a small budget, early in a run, the best order lies past 63; read at
#: Opacus' orders alone, ε comes out looser and Opacus warns at every epoch. Opacus'
#: conversion from RDP to (ε, δ) (Balle et al. 2020) holds at every order above 1, so
#: more orders only find a tighter bound.
ORDERS: tuple[float, ...] = (*RDPAccountant.DEFAULT_ALPHAS, 80, 96, 128, 192, 256, 384,
                             512, 768, 1024)


def default_delta(n_rows: int) -> float:
    """``1 / (10 n)``: below ``1 / n``, as δ must be for (ε, δ)-DP to mean anything (a δ
    of ``1 / n`` allows publishing one whole row)."""
    return 1.0 / (10 * max(n_rows, 1))


def _warn_large_delta(delta: float, n_rows: int) -> None:
    """Warn when ``delta`` is not below ``1 / n_rows`` (docs/privacy.md)."""
    if delta >= 1.0 / max(n_rows, 1):
        logger.warning(
            "training.privacy.delta = %g is not below 1/n = 1/%d: (epsilon, delta)-DP then "
            "allows giving away a whole training row with probability delta. Leave delta "
            "out (the default is 1/(10 n) = %.2g) or set it well below 1/n.", delta, n_rows,
            default_delta(n_rows))


class MemoRDPAccountant(RDPAccountant):
    """Opacus' RDP accountant (Mironov 2017), each (noise, sample rate) pair's one-step
    RDP curve computed once: Opacus' ``compute_rdp(q, sigma, steps, orders)`` is that
    curve times ``steps``, so ε is the same number Opacus' own reading gives at the same
    orders; by default :data:`ORDERS`."""

    def get_privacy_spent(self, *, delta: float, alphas: list[float] | None = None
                          ) -> tuple[float, float]:
        if not self.history:
            return 0, 0
        orders = tuple(ORDERS if alphas is None else alphas)
        rdp = sum(_one_step_rdp(sample_rate, noise, orders) * steps
                  for noise, sample_rate, steps in self.history)
        eps, best_alpha = rdp_analysis.get_privacy_spent(orders=list(orders), rdp=rdp,
                                                         delta=delta)
        return float(eps), float(best_alpha)


@functools.lru_cache(maxsize=32)
def _one_step_rdp(sample_rate: float, noise: float, orders: tuple[float, ...]) -> np.ndarray:
    """Opacus' RDP of one subsampled Gaussian step at each order (read-only array)."""
    rdp = rdp_analysis.compute_rdp(q=sample_rate, noise_multiplier=noise, steps=1,
                                   orders=list(orders))
    rdp.setflags(write=False)
    return rdp


class ClassRateSampler(UniformWithReplacementSampler):
    """Opacus' Poisson sampler with a rate per row: row ``i`` joins each batch with
    probability ``rates[i]``, independently of every other row and batch.

    ``sample_rate`` is the largest rate, the one the accountant is stepped with. Under
    add/remove adjacency the privacy loss of a subsampled Gaussian step depends on the
    differing row's own inclusion probability alone (the rest of the batch is drawn the
    same way with or without it; Mironov, Talwar and Zhang 2019, "Rényi Differential
    Privacy of the Sampled Gaussian Mechanism"; per-row rates as in Yu et al. 2023,
    "Individual Privacy Accounting for Differentially Private Stochastic Gradient
    Descent"), so accounting at the largest rate bounds every row's loss. The rates come
    from the class sizes, which are not private (:data:`~synthbalance.core.dp_scope.NOT_COVERED`).
    """

    def __init__(self, *, rates: torch.Tensor, generator: torch.Generator, steps: int):
        super().__init__(num_samples=len(rates), sample_rate=float(rates.max()),
                         generator=generator, steps=steps)
        self.rates = rates

    def __iter__(self):
        for _ in range(self.steps):
            mask = torch.rand(self.num_samples, generator=self.generator) < self.rates
            yield mask.nonzero(as_tuple=False).reshape(-1).tolist()


def class_rates(labels: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Each row's Poisson rate (rows,) so that every class expects ``batch_size / K`` rows
    of a batch (K classes), as training-by-sampling draws them, a class with fewer rows
    than that joining whole (rate 1)."""
    _, inverse, counts = torch.unique(labels.cpu(), return_inverse=True, return_counts=True)
    per_class = (batch_size / len(counts) / counts.double()).clamp(max=1.0)
    return per_class[inverse]


class PoissonBatches(Batches):
    """Poisson-sampled batches, drawn from a CPU generator seeded ``seed``.

    Without ``balance_labels`` every row joins every batch with probability
    :attr:`sample_rate` (Opacus' ``DPDataLoader``); with them, each row with its class's
    rate (:func:`class_rates`, :class:`ClassRateSampler`) and :attr:`sample_rate` is the
    largest. ``batch_size`` is the expected batch size, which Opacus divides the noisy sum
    by; a batch may be larger, smaller or empty. ``loader`` holds the sampler; rows are
    indexed from the tensors directly, not collated.
    """

    def __init__(self, x: torch.Tensor, cond: torch.Tensor | None, batch_size: int,
                 seed: int, balance_labels: torch.Tensor | None = None):
        tensors = TensorDataset(*((x,) if cond is None else (x, cond)))
        generator = torch.Generator().manual_seed(seed)
        self.x, self.cond, self.n = x, cond, x.shape[0]
        if balance_labels is None:
            self.loader = DPDataLoader.from_data_loader(
                DataLoader(tensors, batch_size=batch_size), generator=generator)
            self.sample_rate = self.loader.sample_rate
            self.batch_size = max(1, int(self.n * self.sample_rate))
            self.steps_per_epoch = len(self.loader)
        else:
            rates = class_rates(balance_labels, batch_size)
            self.steps_per_epoch = max(1, self.n // batch_size)
            sampler = ClassRateSampler(rates=rates, generator=generator,
                                       steps=self.steps_per_epoch)
            self.loader = DataLoader(tensors, batch_sampler=sampler)
            self.sample_rate = sampler.sample_rate
            self.batch_size = max(1, round(float(rates.sum())))
        self._order = None
        self._draws = iter(self.loader.batch_sampler)

    def _indices(self) -> torch.Tensor:
        drawn = next(self._draws, None)
        if drawn is None:  # one pass of the sampler is one epoch's worth of batches
            self._draws = iter(self.loader.batch_sampler)
            drawn = next(self._draws)
        return torch.as_tensor(drawn, dtype=torch.long, device=self.x.device)


class _Nets(nn.Module):
    """The private networks as one module: ``forward(loss, *rows)`` runs ``loss`` with
    their parameters as :func:`torch.func.functional_call` substitutes them."""

    def __init__(self, nets: Mapping[str, nn.Module]):
        super().__init__()
        self.nets = nn.ModuleDict(dict(nets))

    def forward(self, loss: RowLoss, *rows: torch.Tensor | None):
        return loss(*rows)


class DPSGD:
    """DP-SGD over the private networks of one fit (module docstring).

    ``optimizer``: the family's optimiser of exactly those networks; ``steps``: the private
    optimiser steps planned for the whole fit (the noise is calibrated to spend ``epsilon``
    over them, unless ``noise_multiplier`` is set). :meth:`step` replaces a plain
    ``backward`` / ``step``.

    Raises:
        ConfigError: the budget cannot be met (Opacus finds no noise multiplier), or a
            fixed ``noise_multiplier`` spends more than ``epsilon`` in one epoch.
    """

    def __init__(self, nets: Mapping[str, nn.Module], optimizer: torch.optim.Optimizer,
                 batches: PoissonBatches, settings: PrivacyConfig, steps: int, seed: int,
                 steps_per_epoch: int, clipping: str = "ghost"):
        self.epsilon_target = settings.epsilon
        self.delta = settings.delta if settings.delta is not None else default_delta(batches.n)
        _warn_large_delta(self.delta, batches.n)
        self.sample_rate, self.steps_per_epoch = batches.sample_rate, steps_per_epoch
        #: A fixed noise multiplier may spend the budget before the planned epochs end.
        self.fixed_noise = settings.noise_multiplier is not None
        self.noise_multiplier = settings.noise_multiplier or self._calibrated(steps)
        self.module, self.clipping = _Nets(nets), clipping
        device = next(self.module.parameters()).device
        with warnings.catch_warnings():  # "Secure RNG turned off": see the module docstring
            warnings.simplefilter("ignore", UserWarning)
            self.engine = PrivacyEngine(accountant=ACCOUNTANT)
            self.engine.accountant = MemoRDPAccountant()
            self.wrapped, self.optimizer, *criterion, _ = self.engine.make_private(
                module=self.module, optimizer=optimizer, data_loader=batches.loader,
                noise_multiplier=self.noise_multiplier, max_grad_norm=settings.max_grad_norm,
                poisson_sampling=False,  # the loader already samples (seeded, see above)
                noise_generator=torch.Generator(device).manual_seed(seed),
                grad_sample_mode="no_op" if clipping == "vmap" else "ghost",
                criterion=_PerRow())
        self.criterion = criterion[0] if criterion else None
        # Opacus reads the rate as 1 / len(loader): right for its own sampler, not for
        # per-class rates. Account at the sampler's (largest) rate, average over its
        # expected batch size; both the same numbers Opacus' would be for its sampler.
        self.optimizer.expected_batch_size = batches.batch_size
        self.optimizer.attach_step_hook(
            self.engine.accountant.get_optimizer_hook_fn(sample_rate=self.sample_rate))
        if clipping == "ghost":  # on only inside a step: a GAN's generator runs D too
            self.wrapped.disable_hooks()
        elif clipping == "norms":  # the family gives the norms; the hooks would break
            self.wrapped.remove_hooks()  # the torch.func penalty of the plain loss
        if self.fixed_noise and self.epsilon_after(steps_per_epoch) > self.epsilon_target:
            raise ConfigError(
                f"privacy.noise_multiplier={self.noise_multiplier} spends more than "
                f"epsilon={self.epsilon_target} in one epoch; raise noise_multiplier, or "
                "leave it unset to calibrate it to the planned epochs."
            )

    def _calibrated(self, steps: int) -> float:
        try:
            with warnings.catch_warnings():
                # Opacus' bisection first probes noise far above the answer (20, 40, ...),
                # where the best RDP order lies past its orders and it warns; those probes
                # only bracket the search. The answer's ε is read every epoch, warnings on.
                warnings.filterwarnings("ignore", "Optimal order is the largest alpha",
                                        UserWarning)
                return get_noise_multiplier(
                    target_epsilon=self.epsilon_target, target_delta=self.delta,
                    sample_rate=self.sample_rate, steps=max(steps, 1), accountant=ACCOUNTANT,
                    epsilon_tolerance=EPSILON_TOLERANCE, alphas=list(ORDERS))
        except ValueError as exc:  # "The privacy budget is too low."
            raise ConfigError(
                f"privacy.epsilon={self.epsilon_target} cannot be met over {steps} steps "
                f"({exc}); raise epsilon, or train fewer epochs."
            ) from None

    def epsilon(self) -> float:
        """ε spent so far (Opacus' accountant, at :attr:`delta`)."""
        if not self.engine.accountant.history:
            return 0.0
        return float(self.engine.accountant.get_epsilon(self.delta))

    def epsilon_after(self, more_steps: int) -> float:
        """ε that ``more_steps`` further steps would bring the total to."""
        accountant = MemoRDPAccountant()
        accountant.history = [*self.engine.accountant.history,
                              (self.noise_multiplier, self.sample_rate, more_steps)]
        return float(accountant.get_epsilon(self.delta))

    def step(self, loss: RowLoss, rows: tuple[torch.Tensor | None, ...]
             ) -> dict[str, torch.Tensor]:
        """One DP-SGD step on a batch: each row's gradient of ``loss`` clipped, summed,
        noised and averaged over the expected batch size by Opacus (module docstring for
        the routes). ``rows``: batch tensors of equal length (``None`` allowed). On the
        ``"norms"`` route ``loss`` also returns each row's gradient norm (rows,).
        Returns the logged values (none for an empty batch)."""
        n = next(t.shape[0] for t in rows if t is not None)
        self.optimizer.zero_grad(set_to_none=True)
        logs: dict[str, torch.Tensor] = {}
        if n == 0:  # an empty Poisson batch still takes its (noise-only) step
            for param in self.optimizer.params:
                param.grad = torch.zeros_like(param)
                param.grad_sample = param.new_zeros((0, *param.shape))
        elif self.clipping == "ghost":
            logs = self._ghost_clipped(loss, rows)
        elif self.clipping == "norms":
            per_row, logs, norms = loss(*rows)
            # Opacus' clipping factor (GradSampleModuleFastGradientClipping's), its
            # second backward pass: the clipped sum of the rows' gradients in ``.grad``
            factor = (self.optimizer.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
            (factor.detach() * per_row).sum().backward()
        else:
            params = dict(self.module.named_parameters())
            grads, per_row = _per_row_grads(self.module, loss, rows, params)
            logs = {k: v.mean() for k, v in per_row.items()}
            for key, param in params.items():
                param.grad_sample = grads[key]
        self.optimizer.step()
        return logs

    def _ghost_clipped(self, loss: RowLoss, rows: tuple[torch.Tensor | None, ...]
                       ) -> dict[str, torch.Tensor]:
        """Leave the clipped sum of the rows' gradients in ``.grad`` by Opacus' ghost
        clipping (two backward passes, no per-row gradient formed)."""
        self.wrapped.enable_hooks()
        try:
            per_row, logs = loss(*rows)
            with warnings.catch_warnings():  # the first layer's input needs no gradient
                warnings.filterwarnings("ignore", "Full backward hook is firing")
                self.criterion(per_row).backward()
        finally:
            self.wrapped.disable_hooks()
        return dict(logs)


class _PerRow:
    """The "criterion" Opacus' ghost clipping wraps: the family's per-row losses as they
    are (``reduction="none"``, what Opacus asks of it), or their mean."""

    reduction = "mean"

    def __call__(self, per_row: torch.Tensor) -> torch.Tensor:
        return per_row if self.reduction == "none" else per_row.mean()


def _per_row_grads(module: _Nets, loss: RowLoss, rows: tuple[torch.Tensor | None, ...],
                   params: Mapping[str, torch.Tensor]
                   ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``vmap(grad(loss on one row))``: gradients (batch, *param shape) and per-row logs."""

    def one_row(weights: dict[str, torch.Tensor], *row: torch.Tensor | None):
        batch = tuple(None if t is None else t.unsqueeze(0) for t in row)
        per_row, logs = functional_call(module, weights, (loss, *batch))
        return per_row.sum(), logs

    dims = (None, *(None if t is None else 0 for t in rows))
    detached = {k: p.detach() for k, p in params.items()}
    # "different": dropout in a critic draws its own mask per row (from torch's seeded RNG)
    return vmap(grad(one_row, has_aux=True), in_dims=dims, randomness="different")(
        detached, *rows)


class PrivacyBudget(Callback):
    """Record ``privacy.epsilon`` after every epoch and stop before the budget is spent;
    log the ε spent when training ends.

    Put it first among the callbacks, so a stop it decides is seen by the others at the
    same epoch. The history gets ``privacy.epsilon`` per epoch and ``privacy.delta`` and
    ``privacy.noise_multiplier`` once. Training stops after an epoch when one more would
    take ε past the target. Only a fixed ``noise_multiplier`` is checked: a calibrated one
    spends the budget over exactly the planned epochs.
    """

    def __init__(self, dp: DPSGD):
        self.dp = dp

    def on_train_begin(self, generator: BaseGenerator, n_rows: int) -> None:
        generator.record({"privacy.delta": self.dp.delta,
                          "privacy.noise_multiplier": self.dp.noise_multiplier})

    def on_epoch_end(self, generator: BaseGenerator, epoch: int,
                     losses: Mapping[str, float]) -> None:
        generator.record({"privacy.epsilon": self.dp.epsilon()})
        dp = self.dp
        if dp.fixed_noise and epoch < generator.epochs and \
                dp.epsilon_after(dp.steps_per_epoch) > dp.epsilon_target:
            generator.stop_training = True
            logger.warning(
                "%s: DP-SGD stopped training after epoch %d of %d: one more epoch would "
                "take epsilon past %g at the fixed noise multiplier %g. For more epochs, raise "
                "training.privacy.noise_multiplier, or leave it out: it is then calibrated "
                "to spend the budget over the planned epochs.", called(generator), epoch,
                generator.epochs, dp.epsilon_target, dp.noise_multiplier)

    def on_train_end(self, generator: BaseGenerator) -> None:
        dp = self.dp
        logger.info("DP-SGD spent epsilon = %.4g of %g (delta = %.2g, noise multiplier %.4g, "
                    "largest sampling rate %.3g). Statistics the preprocessing took from the "
                    "real rows are not covered: the run's tag privacy.not_covered lists them "
                    "(docs/privacy.md).", dp.epsilon(), dp.epsilon_target, dp.delta,
                    dp.noise_multiplier, dp.sample_rate)


def stream_seed(seed: int, stream: str) -> int:
    """A seed for one random stream of a private fit (the Poisson sampler, the noise),
    derived from the fit's ``seed`` so the streams are independent of each other and of
    the fit's own generator."""
    key = [seed, *stream.encode()]
    return int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] >> 1)
