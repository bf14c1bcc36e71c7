"""Network pieces every family shares: layer stacks, span activations, conditioning.

Span activations are vectorised: spans are grouped by width once, so a layout with 20
one-hot blocks costs a handful of tensor operations per batch, not a Python loop over spans.
Every random draw takes an explicit ``torch.Generator``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from synthbalance.core.layout import SpanLayout


def mlp(
    in_dim: int,
    hidden_dims: Sequence[int],
    out_dim: int,
    *,
    activation: str = "relu",
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """A stack ``[Linear (BatchNorm) act (Dropout)] * len(hidden_dims) + Linear``.

    ``activation`` is ``"relu"`` or ``"leaky_relu"`` (slope 0.2, for discriminators).
    """
    layers: list[nn.Module] = []
    width = in_dim
    for hidden in hidden_dims:
        layers.append(nn.Linear(width, hidden))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def gumbel_noise(like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise shaped like ``like``, drawn from ``generator``."""
    # -log(-log(U)) from uniforms: several times faster on CPU than Tensor.exponential_.
    u = torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)
    return -torch.log(-torch.log(u.clamp_(min=torch.finfo(like.dtype).tiny)))


def sample_levels(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One level per row of ``logits`` (..., width), drawn from ``softmax(logits)``.

    Inverse CDF: one uniform per block rather than one Gumbel draw per level.
    """
    cdf = torch.softmax(logits, -1).cumsum(-1)
    u = torch.rand((*logits.shape[:-1], 1), generator=generator, device=logits.device)
    return (u > cdf).sum(-1).clamp_(max=logits.shape[-1] - 1)


def one_hot(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class indices as a float one-hot matrix (the condition vector)."""
    return nn.functional.one_hot(y.long(), n_classes).to(torch.float32)


def join(x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """``x`` with the condition vector appended, or ``x`` itself when unconditional."""
    return x if cond is None else torch.cat([x, cond], dim=1)


class SpanPlan:
    """Index tensors that turn raw network outputs into rows of a :class:`SpanLayout`.

    Scalars get ``tanh``; one-hot blocks of equal width are stacked as ``(batch, k, width)``
    so a softmax, a Gumbel draw or a cross-entropy is one call per distinct width.
    """

    def __init__(self, layout: SpanLayout, device: torch.device):
        self.width = layout.width
        self.scalar = torch.tensor(layout.scalar_index, dtype=torch.long, device=device)
        by_width: dict[int, list[int]] = {}
        for span in layout.onehot_spans:
            by_width.setdefault(span.width, []).extend(range(span.start, span.end))
        self.groups = [
            (w, torch.tensor(cols, dtype=torch.long, device=device))
            for w, cols in sorted(by_width.items())
        ]
        order = torch.cat([self.scalar, *[cols for _, cols in self.groups]])
        # Outputs are built as [scalars, group 1, group 2, ...]; this puts columns back.
        self.inverse = torch.argsort(order)

    def _blocks(self, raw: torch.Tensor, cols: torch.Tensor, width: int) -> torch.Tensor:
        return raw.index_select(1, cols).view(raw.shape[0], -1, width)

    def _assemble(self, scalars: torch.Tensor, blocks: list[torch.Tensor]) -> torch.Tensor:
        parts = [scalars, *[b.reshape(b.shape[0], -1) for b in blocks]]
        return torch.cat(parts, dim=1).index_select(1, self.inverse)

    def activate(
        self,
        raw: torch.Tensor,
        mode: str,
        *,
        tau: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Apply the layout's activations to ``raw`` (batch, width).

        ``mode`` chooses what one-hot blocks become: ``"softmax"`` probabilities,
        ``"gumbel"`` a differentiable Gumbel-softmax sample at temperature ``tau``,
        ``"sample"`` an exact one-hot draw from ``softmax(raw)`` (the level a Gumbel-softmax
        sample would put its mass on), or ``"argmax"`` the one-hot of the most likely level.
        Scalars always get ``tanh``.
        """
        blocks = []
        for width, cols in self.groups:
            logits = self._blocks(raw, cols, width)
            if mode == "softmax":
                blocks.append(torch.softmax(logits, -1))
            elif mode == "gumbel":
                blocks.append(torch.softmax((logits + gumbel_noise(logits, generator)) / tau, -1))
            else:
                levels = sample_levels(logits, generator) if mode == "sample" else logits.argmax(-1)
                blocks.append(nn.functional.one_hot(levels, width).to(raw.dtype))
        return self._assemble(torch.tanh(raw.index_select(1, self.scalar)), blocks)

    def onehot_nll(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-row cross-entropy of every one-hot block of ``target`` under ``softmax(raw)``."""
        total = raw.new_zeros(raw.shape[0])
        for width, cols in self.groups:
            log_p = torch.log_softmax(self._blocks(raw, cols, width), -1)
            total = total - (self._blocks(target, cols, width) * log_p).sum(dim=(1, 2))
        return total
