"""Network pieces every family shares: layer stacks, span activations, conditioning.

Span activations are vectorised: spans are grouped by width once, so a layout with 20
one-hot blocks costs a handful of tensor operations per batch, not a Python loop over spans.
Every random draw takes an explicit ``torch.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


#: Centred logits are clipped here before ``exp``: e^80 x 64 levels stays finite in float32.
#: Only a block whose logits spread over more than 80 nats (probabilities of e^-80) and
#: whose two likeliest levels both lie more than 80 above the block's mean is affected.
MAX_CENTRED_LOGIT = 80.0


def sample_levels(weights: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One level per block and row from ``weights`` (width, blocks, batch), the unnormalised
    probabilities ``exp(logit)`` of each level (overwritten by their running sums), and
    uniforms ``u`` (blocks, batch) in [0, 1). Returns (blocks, batch) levels, ``uint8`` for
    blocks of up to 256 levels, else ``int32``.

    Inverse CDF: the level is the number of running sums below ``u`` times the block's
    total, so one uniform per block, not one Gumbel draw per level. The batch is the
    innermost, contiguous dimension, so every operation runs over long vectors.
    """
    width = weights.shape[0]
    for level in range(1, width):  # running sums: vector adds, not a strided scan
        weights[level].add_(weights[level - 1])
    # u < 1, so the last running sum is never below the threshold: counts stay < width.
    below = weights < u * weights[-1]
    if width <= 256:  # summing bytes as bytes: 6x faster than widening them to int32 first
        return below.view(torch.uint8).sum(0, dtype=torch.uint8)
    return below.sum(0, dtype=torch.int32)


class FusedMLP:
    """An inference-only copy of an :func:`mlp`, built once per ``sample`` call, that
    returns its outputs transposed: ``(out_features, batch)``, one contiguous row per
    output column.

    Eval-mode BatchNorm is folded into the Linear before it, Dropout (an identity in eval
    mode) is dropped, activations run in place, and ``head`` may rewrite the last Linear's
    ``(weight, bias)`` (:meth:`SpanPlan.fold_head` reorders, combines and centres output
    columns there, so no output column is ever gathered). With ``dtype=torch.bfloat16``
    the layers run in bfloat16 (float32 accumulation) and the output is float32.

    With ``n_classes``, the network's last ``n_classes`` inputs are a class one-hot: they
    are cut from the first layer, and a call passes the class ``labels`` instead, whose
    weight columns are added to that layer's bias (one vector for a batch of one class).
    """

    def __init__(
        self,
        net: nn.Sequential,
        head: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
        | None = None,
        dtype: torch.dtype = torch.float32,
        n_classes: int = 0,
    ):
        layers: list[list[Any]] = []  # [weight, bias, activation or None]
        for layer in net:
            if isinstance(layer, nn.Linear):
                layers.append([layer.weight.detach(), layer.bias.detach(), None])
            elif isinstance(layer, nn.BatchNorm1d):
                weight, bias, _ = layers[-1]
                scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
                shift = layer.bias - layer.running_mean * scale
                layers[-1][:2] = [weight * scale[:, None], bias * scale + shift]
            elif isinstance(layer, nn.ReLU | nn.LeakyReLU):
                layers[-1][2] = layer
            elif not isinstance(layer, nn.Dropout):
                raise TypeError(f"FusedMLP cannot fold a {type(layer).__name__} layer.")
        if head is not None:
            layers[-1][:2] = head(*layers[-1][:2])
        first = layers[0][0]
        n_inputs = first.shape[1] - n_classes
        layers[0][0] = first[:, :n_inputs]
        # Row c: what class c's one-hot adds to the first layer's outputs.
        self.class_shift = first[:, n_inputs:].t().to(dtype) if n_classes else None
        *hidden, (last_weight, last_bias, _) = layers
        self.dtype = dtype
        self.hidden = [(w.to(dtype).t(), b.to(dtype), act) for w, b, act in hidden]
        self.last = (last_weight.to(dtype), last_bias.to(dtype)[:, None])

    def __call__(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        shift = self._shift(labels)  # added to the first layer's bias
        x = x.to(self.dtype)
        for weight, bias, activation in self.hidden:
            x = torch.addmm(bias if shift is None else bias + shift, x, weight)
            shift = None
            if isinstance(activation, nn.ReLU):
                x = x.relu_()
            elif activation is not None:
                x = nn.functional.leaky_relu_(x, activation.negative_slope)
        weight, bias = self.last
        if shift is not None:  # the last layer is the first; its outputs are transposed
            bias = bias + shift.t() if shift.dim() == 2 else bias + shift[:, None]
        return torch.addmm(bias, weight, x.t()).to(torch.float32)

    def _shift(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """The first layer's bias shift for ``labels``: (out,) for one class, else (batch, out)."""
        if self.class_shift is None:
            if labels is not None:
                raise ValueError("This network takes no class labels.")
            return None
        if labels is None:
            raise ValueError("This network is conditional: pass the class labels.")
        labels = labels.to(self.class_shift.device)
        if len(labels) and bool((labels == labels[0]).all()):
            return self.class_shift[labels[0]]
        return self.class_shift.index_select(0, labels)


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
        spans_by_width: dict[int, list[int]] = {}
        for j, span in enumerate(layout.onehot_spans):
            by_width.setdefault(span.width, []).extend(range(span.start, span.end))
            spans_by_width.setdefault(span.width, []).append(j)
        self.groups = [
            (w, torch.tensor(cols, dtype=torch.long, device=device))
            for w, cols in sorted(by_width.items())
        ]
        # Training builds outputs as [scalars, group 1, group 2, ...]; this puts them back.
        self.inverse = torch.argsort(torch.cat([self.scalar, *[c for _, c in self.groups]]))
        # Sampling draws binary blocks first, from one logit difference each, then the
        # wider blocks, each group a (width, blocks, batch) view of level-major rows.
        self.draw_groups = sorted(self.groups, key=lambda group: (group[0] != 2, group[0]))
        self.n_blocks = sum(len(cols) // w for w, cols in self.groups)
        self._n_binary = sum(len(cols) // 2 for w, cols in self.groups if w == 2)
        big = max((w for w, _ in self.groups), default=1) > 256
        self._level_dtype = torch.int32 if big else torch.uint8
        # Levels are drawn group by group; this puts them back in the layout's span order.
        by_width = dict(sorted(spans_by_width.items()))
        span_order = [j for w, _ in self.draw_groups for j in by_width[w]]
        self.level_inverse = torch.argsort(torch.tensor(span_order, dtype=torch.long)).to(device)
        # The same for levels kept group by group in ``groups`` order (a diffusion's state).
        group_order = [j for w, _ in self.groups for j in by_width[w]]
        self.group_level_inverse = torch.argsort(
            torch.tensor(group_order, dtype=torch.long)).to(device)

    def blocks(self, raw: torch.Tensor, cols: torch.Tensor, width: int) -> torch.Tensor:
        """The columns ``cols`` of one width group as ``(batch, blocks, width)``."""
        return raw.index_select(1, cols).view(raw.shape[0], -1, width)

    def assemble(self, scalars: torch.Tensor, blocks: list[torch.Tensor]) -> torch.Tensor:
        """Rows in layout order from scalars ``(batch, n_scalar)`` and one
        ``(batch, blocks, width)`` tensor per group of :attr:`groups`, in that order."""
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
        ``"gumbel"`` a differentiable Gumbel-softmax sample at temperature ``tau``, or
        ``"argmax"`` the one-hot of the most likely level. Scalars always get ``tanh``.
        Finished samples come from :meth:`draw` instead.
        """
        blocks = []
        for width, cols in self.groups:
            logits = self.blocks(raw, cols, width)
            if mode == "softmax":
                blocks.append(torch.softmax(logits, -1))
            elif mode == "gumbel":
                blocks.append(torch.softmax((logits + gumbel_noise(logits, generator)) / tau, -1))
            else:
                blocks.append(nn.functional.one_hot(logits.argmax(-1), width).to(raw.dtype))
        return self.assemble(torch.tanh(raw.index_select(1, self.scalar)), blocks)

    def fold_head(
        self, weight: torch.Tensor, bias: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The last Linear of a sampling network rewritten for :meth:`draw`: scalar rows,
        then one row per binary block, its level-1 logit minus its level-0 logit, then the
        wider blocks' rows level-major, each block's logits centred on their mean.

        Softmax ignores a shift shared by a block, so the centred layer samples the same
        levels, and ``exp`` of a centred logit needs no per-row maximum to stay finite.
        """
        weights, biases = [weight[self.scalar]], [bias[self.scalar]]
        for width, cols in self.draw_groups:
            w = weight[cols].view(-1, width, weight.shape[1]).transpose(0, 1)  # (width, k, in)
            b = bias[cols].view(-1, width).t()
            if width == 2:
                weights.append(w[1] - w[0])
                biases.append(b[1] - b[0])
            else:
                weights.append((w - w.mean(dim=0, keepdim=True)).reshape(-1, weight.shape[1]))
                biases.append((b - b.mean(dim=0, keepdim=True)).reshape(-1))
        return torch.cat(weights), torch.cat(biases)

    def draw(
        self, outputs: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Finished rows as codes, from the transposed output (columns, batch) of a
        :class:`FusedMLP` whose last Linear went through :meth:`fold_head` (``outputs`` is
        overwritten). Returns ``tanh`` scalars (n_scalar, batch) in layout order and one
        level per one-hot block (n_blocks, batch; ``uint8``, or ``int32`` past 256 levels)
        in span order, each drawn from its block's softmax: the level a Gumbel-softmax
        sample would put its mass on.

        A binary block is level 1 when its uniform lies below the sigmoid of its logit
        difference. One ``exp`` covers every wider block; each group of equal-width blocks
        is a (width, blocks, batch) view with the batch innermost, so a batch costs a few
        vectorised operations per distinct width and no one-hot matrix is ever built.
        """
        n, offset = outputs.shape[1], len(self.scalar)
        scalars = torch.tanh(outputs[:offset])
        outputs[offset + self._n_binary :].clamp_(max=MAX_CENTRED_LOGIT).exp_()
        u = torch.rand((self.n_blocks, n), generator=generator, device=outputs.device)
        levels, first = [], 0
        for width, cols in self.draw_groups:
            k = len(cols) // width
            if width == 2:
                diff = outputs[offset : offset + k].sigmoid_()
                drawn = (u[first : first + k] < diff).view(torch.uint8)
                offset += k
            else:
                block = outputs[offset : offset + len(cols)].view(width, k, n)
                drawn = sample_levels(block, u[first : first + k])
                offset += len(cols)
            levels.append(drawn.to(self._level_dtype))
            first += k
        if not levels:
            return scalars, torch.zeros((0, n), dtype=self._level_dtype, device=outputs.device)
        return scalars, torch.cat(levels).index_select(0, self.level_inverse)

    def onehot_nll(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-row cross-entropy of every one-hot block of ``target`` under ``softmax(raw)``."""
        total = raw.new_zeros(raw.shape[0])
        for width, cols in self.groups:
            log_p = torch.log_softmax(self.blocks(raw, cols, width), -1)
            total = total - (self.blocks(target, cols, width) * log_p).sum(dim=(1, 2))
        return total
