"""Tabular diffusion (``ddpm``), after TabDDPM (Kotelnikov et al., ICML 2023), on the span layout.

Rows are noised step by step and a network learns to undo one step:

- scalar spans (a column's offset within its mixture mode, in [-1, 1]): Gaussian diffusion
  (Ho et al., NeurIPS 2020); the network predicts the added noise, trained by mean squared
  error;
- one-hot blocks (levels, and the mode of each continuous column): multinomial diffusion
  with uniform noise (Hoogeboom et al., NeurIPS 2021), ``q(x_t | x_0) = abar_t x_0 +
  (1 - abar_t) / K``; the network predicts the probabilities of the row's level at step 0,
  trained by cross-entropy (the auxiliary loss of D3PM, Austin et al. 2021, used here in
  place of TabDDPM's variational bound: simpler, and it trained faster in our trials);
- one cosine noise schedule for both (Nichol and Dhariwal, ICML 2021), ``diffusion_steps``
  timesteps;
- the denoiser is TabDDPM's MLP: the noisy row projected to ``latent_dim``, plus an
  embedding of the timestep (sinusoidal, then two layers) and, when conditional, of the
  class; then ``hidden_dims`` ReLU layers back to the row's width.

Sampling walks ``sampling_steps`` timesteps of the ``diffusion_steps`` (respacing, Nichol and
Dhariwal 2021, section 4): both kinds of noise have closed-form marginals, so each stride is
one step of a shorter process with ``alpha = abar_t / abar_s``. The predicted step-0 scalars
are clipped to [-1, 1] before each step, as the layout bounds them. One pass of the denoiser
per step makes sampling ``sampling_steps`` times the cost of a one-pass generator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from synthbalance.core.config import GeneratorConfig
from synthbalance.core.layout import SpanLayout
from synthbalance.core.models.base import BaseGenerator, RowSampler
from synthbalance.core.models.nn import mlp

#: Offset of the cosine schedule (Nichol and Dhariwal 2021), and the largest step's beta.
COSINE_OFFSET, MAX_BETA = 0.008, 0.999


def cosine_alpha_bars(steps: int) -> torch.Tensor:
    """``abar_t`` for ``t = 0 .. steps - 1`` (float64): the share of the signal left after
    ``t + 1`` noising steps of the cosine schedule."""
    grid = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((grid + COSINE_OFFSET) / (1 + COSINE_OFFSET) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=MAX_BETA)
    return torch.cumprod(1 - betas, dim=0)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding (batch, dim) of integer timesteps ``t`` (batch,)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = t.to(torch.float32)[:, None] * freqs[None]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
    return F.pad(embedding, (0, dim - 2 * half))


class Denoiser(nn.Module):
    """TabDDPM's MLP denoiser: ``(noisy row, timestep, class) -> raw outputs`` of the
    row's width (predicted noise at scalar spans, step-0 level logits at one-hot blocks)."""

    def __init__(self, width: int, hidden_dims: tuple[int, ...], emb_dim: int,
                 n_classes: int, dropout: float):
        super().__init__()
        self.emb_dim = emb_dim
        self.proj = nn.Linear(width, emb_dim)
        self.time = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(),
                                  nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(n_classes, emb_dim) if n_classes else None
        self.net = mlp(emb_dim, hidden_dims, width, dropout=dropout)

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
                ) -> torch.Tensor:
        h = self.proj(x) + self.time(timestep_embedding(t, self.emb_dim))
        if self.label is not None:
            h = h + self.label(y)
        return self.net(h)


class DDPM(BaseGenerator):
    """Tabular diffusion; conditional when built with ``n_classes`` (>= 2), else it learns
    one class (``per_class``). History key ``loss``, with ``gaussian`` and ``multinomial``."""

    name = "ddpm"
    private_nets = ("denoiser",)
    conditional = True  # the capability; an instance built without classes is unconditional
    default_hidden_dims = (256, 256, 256)
    default_latent_dim = 128

    def __init__(
        self,
        layout: SpanLayout,
        n_classes: int | None = None,
        config: GeneratorConfig | Mapping[str, Any] | None = None,
        seed: int = 0,
    ):
        self.conditional = n_classes not in (None, 0)
        super().__init__(layout, n_classes, config, seed)

    def _build(self) -> dict[str, nn.Module]:
        cfg = self.config
        return {"denoiser": Denoiser(self.layout.width, cfg.hidden_dims, cfg.latent_dim,
                                     self.n_classes, cfg.dropout)}

    def _make_optimizers(self) -> None:
        self._opt = self._adam(["denoiser"], self.config.diffusion_lr)
        self._alpha_bars = cosine_alpha_bars(self.config.diffusion_steps).to(self._device)

    def _condition(self, labels: torch.Tensor) -> torch.Tensor:
        return labels.to(self._device)  # class indices, for the denoiser's embedding

    def _step(self, x0: torch.Tensor, y: torch.Tensor | None, rng: torch.Generator
              ) -> dict[str, torch.Tensor]:
        """One gradient step on a batch noised to random timesteps."""
        n, plan = x0.shape[0], self.plan
        t = torch.randint(self.config.diffusion_steps, (n,), generator=rng, device=x0.device)
        abar = self._alpha_bars[t].to(torch.float32)[:, None]
        eps = torch.randn((n, len(plan.scalar)), generator=rng, device=x0.device)
        scalars = abar.sqrt() * x0.index_select(1, plan.scalar) + (1 - abar).sqrt() * eps
        blocks = [self._noisy_levels(plan.blocks(x0, cols, w), abar, rng)
                  for w, cols in plan.groups]
        rows = (plan.assemble(scalars, blocks), t, y, eps, x0)
        return self._descend(self._opt, self._denoising_loss, rows)

    def _denoising_loss(
        self, noisy: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None,
        eps: torch.Tensor, x0: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Noise MSE plus step-0 level cross-entropy of the denoiser, per row (rows,), and
        their batch means to log."""
        plan = self.plan
        out = self._modules["denoiser"](noisy, t, y)
        gaussian = (out.index_select(1, plan.scalar) - eps).pow(2).mean(dim=1) \
            if len(plan.scalar) else out.new_zeros(out.shape[0])
        multinomial = plan.onehot_nll(out, x0) / max(plan.n_blocks, 1)
        loss = gaussian + multinomial
        return loss, {"loss": loss.mean(), "gaussian": gaussian.mean(),
                      "multinomial": multinomial.mean()}

    @staticmethod
    def _noisy_levels(onehot: torch.Tensor, abar: torch.Tensor, rng: torch.Generator
                      ) -> torch.Tensor:
        """A draw of ``x_t`` for one width group (batch, blocks, width) of ``x_0``."""
        width = onehot.shape[-1]
        probs = abar[:, :, None] * onehot + (1 - abar[:, :, None]) / width
        return _one_hot_draw(probs, rng)

    def _sampling_net(self) -> nn.Sequential:  # pragma: no cover - see _row_sampler
        raise NotImplementedError("ddpm samples through _row_sampler, many passes per row.")

    def _row_sampler(self, dtype: torch.dtype) -> RowSampler:
        """The reverse process on ``sampling_steps`` strided timesteps (module docstring).

        ``dtype`` is ignored: the denoiser runs in float32 (a sampling step is not the
        one-pass forward that bfloat16 speeds up).
        """
        denoiser = self._modules["denoiser"].eval()
        cfg = self.config
        steps = np.unique(np.linspace(0, cfg.diffusion_steps - 1, cfg.sampling_steps)
                          .round().astype(np.int64))
        alpha_bars = cosine_alpha_bars(cfg.diffusion_steps)[steps].to(self._device)

        def sampler(n: int, labels: torch.Tensor | None, rng: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor]:
            state = self._pure_noise(n, rng)
            for i in range(len(steps) - 1, -1, -1):
                t = torch.full((n,), int(steps[i]), device=self._device)
                prev = alpha_bars[i - 1] if i > 0 else alpha_bars.new_ones(())
                out = denoiser(self.plan.assemble(*state), t, labels)
                state = self._reverse_step(state, out, alpha_bars[i], prev, rng)
            scalars, blocks = state
            levels = torch.cat([b.argmax(-1) for b in blocks], dim=1) if blocks else \
                torch.zeros((n, 0), dtype=torch.long, device=self._device)
            return scalars.clamp(-1.0, 1.0).t(), levels.t()[self.plan.group_level_inverse]

        return sampler

    def _pure_noise(self, n: int, rng: torch.Generator
                    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``x_T``: standard normal scalars and uniformly drawn levels."""
        scalars = torch.randn((n, len(self.plan.scalar)), generator=rng, device=self._device)
        blocks = [_one_hot_draw(torch.full((n, len(cols) // w, w), 1.0 / w, device=self._device),
                                rng) for w, cols in self.plan.groups]
        return scalars, blocks

    def _reverse_step(
        self, state: tuple[torch.Tensor, list[torch.Tensor]], out: torch.Tensor,
        abar: torch.Tensor, abar_prev: torch.Tensor, rng: torch.Generator,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``x_s`` from ``x_t`` (``abar`` and ``abar_prev`` of t and s) and the denoiser's
        outputs: the Gaussian posterior around the clipped step-0 prediction, and for
        each block the multinomial posterior under the predicted step-0 probabilities."""
        scalars, blocks = state
        alpha = abar / abar_prev
        eps = out.index_select(1, self.plan.scalar)
        x0 = ((scalars - (1 - abar).sqrt() * eps) / abar.sqrt()).clamp(-1.0, 1.0)
        mean = (abar_prev.sqrt() * (1 - alpha) * x0 + alpha.sqrt() * (1 - abar_prev) * scalars
                ) / (1 - abar)
        variance = (1 - alpha) * (1 - abar_prev) / (1 - abar)
        noise = torch.randn(scalars.shape, generator=rng, device=scalars.device)
        scalars = mean + variance.sqrt() * noise
        new_blocks = []
        for (width, cols), onehot in zip(self.plan.groups, blocks, strict=True):
            p0 = torch.softmax(self.plan.blocks(out, cols, width), -1)
            # sum over x_0 of q(x_s | x_t, x_0) p(x_0 | x_t), with q(x_t | x_0) dividing
            # each x_0 out of Bayes' rule (D3PM's x_0-parametrisation); plugging p(x_0 | x_t)
            # straight into q(x_s | x_0) instead flattened rare and common levels alike
            w = p0 / (abar * onehot + (1 - abar) / width)
            total = w.sum(-1, keepdim=True)
            posterior = (alpha * onehot + (1 - alpha) / width) * \
                (abar_prev * w + (1 - abar_prev) / width * total)
            new_blocks.append(_one_hot_draw(posterior, rng))
        return scalars, new_blocks


def _one_hot_draw(weights: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """One-hot draws (batch, blocks, width) from unnormalised ``weights``, one per block."""
    cumulative = weights.cumsum(-1)
    u = torch.rand(cumulative.shape[:-1] + (1,), generator=rng, device=weights.device)
    level = (cumulative < u * cumulative[..., -1:]).sum(-1).clamp_(max=weights.shape[-1] - 1)
    return F.one_hot(level, weights.shape[-1]).to(weights.dtype)
