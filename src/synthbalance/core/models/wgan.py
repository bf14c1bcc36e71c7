"""WGAN-GP and its conditional form: a critic with a gradient penalty (Gulrajani et al. 2017).

The critic takes ``config.n_critic`` steps per generator step. ``history["wasserstein"]`` is
the critic's estimate ``E[C(real)] - E[C(fake)]``; it should fall as the generator improves.
"""

from __future__ import annotations

import torch
from opacus.grad_sample.linear import compute_linear_norm_sample
from torch import nn

from synthbalance.core.models.gan import AdversarialGenerator
from synthbalance.core.models.nn import join


class WGANGP(AdversarialGenerator):
    """Wasserstein GAN with gradient penalty (unconditional)."""

    name = "wgan_gp"

    def _private_clipping(self) -> str:
        """Ghost norms of our own (:meth:`_critic_loss_and_norms`) for a critic without
        dropout; ``vmap`` with dropout, whose masks the explicit input gradient would
        have to replay."""
        return "norms" if self.config.dropout == 0 else "vmap"

    def _critic_steps(self) -> int:
        return self.config.n_critic

    def _discriminator_draws(
        self, real: torch.Tensor, rng: torch.Generator
    ) -> tuple[torch.Tensor, ...]:
        """The mixing weights of the penalty, one per pack of ``pac`` rows, given to each
        row of the pack."""
        pac = self.config.pac
        alpha = torch.rand(real.shape[0] // pac, 1, generator=rng, device=real.device)
        return (alpha.repeat_interleave(pac, dim=0),)

    def _discriminator_loss(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        cond: torch.Tensor | None,
        *draws: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        scores = self._score_pairs(real, fake, cond)
        wasserstein = scores[:, 0] - scores[:, 1]
        penalty = self._gradient_penalty(real, fake, cond, *draws)
        loss = -wasserstein + self.config.gp_weight * penalty
        return loss, {"critic": loss.mean(), "wasserstein": wasserstein.mean(),
                      "gradient_penalty": penalty.mean()}

    def _generator_loss(self, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return -self._score(fake, cond).mean()

    def _gradient_penalty(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        cond: torch.Tensor | None,
        alpha: torch.Tensor,
    ) -> torch.Tensor:
        """``max(0, ||grad C(mix)|| - 1)^2`` per pack (packs,), on random mixes of real and
        fake packs (its mean is the penalty).

        One-sided (the Lipschitz penalty of Petzka et al. 2018, "On the regularization of
        Wasserstein GANs"): the two-sided penalty of the WGAN-GP paper has a barrier at
        ``C = 0``, and on a 1-D layout a critic that starts with the wrong slope sticks
        there with a negative Wasserstein estimate. One mixing weight per pack of ``pac``
        rows, and the norm taken over the whole pack, because the critic judges packs. The
        condition is not mixed: real and fake rows share it. ``alpha``: one weight per row
        (equal within a pack).

        The input gradient is taken by :func:`torch.func.grad`, which the outer backward
        differentiates as it did ``torch.autograd.grad(create_graph=True)`` (same values
        and speed, measured here), and which also runs inside the per-row ``vmap`` of
        DP-SGD, where ``torch.autograd.grad`` cannot.
        """
        pac = self.config.pac
        mix = alpha * real + (1 - alpha) * fake
        grad = torch.func.grad(lambda rows: self._score(rows, cond).sum())(mix)
        norms = grad.reshape(-1, grad.shape[1] * pac).norm(dim=1)
        return (norms - 1).clamp(min=0) ** 2


    def _critic_loss_and_norms(
        self, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor | None,
        alpha: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """The critic's per-row loss (as :meth:`_discriminator_loss`, ``pac: 1``), its
        logs, and each row's gradient norm over the critic's weights (rows,), without
        forming any row's gradient: ghost norms (Li et al., ICLR 2022; Bu et al. 2023).

        Opacus' ghost clipping cannot follow the penalty's double backward pass, so the
        input gradient of the critic on the mixes is written out layer by layer,
        ``d_in = d_out @ W`` (the activations' slopes are constants there). Each row's
        gradient of a ``Linear`` weight is then a sum of three outer products, from the
        real row, the fake row and the penalty's ``d_in = d_out @ W``; Opacus' ``Linear``
        norm rule takes its norm from their Gram matrices. The bias gets nothing from the
        penalty. The loss keeps its graph for the clipped backward pass."""
        critic = self._modules["discriminator"]
        x = torch.stack([join(real, cond), join(fake, cond)], dim=1)
        inputs, outputs = [], []
        for layer in critic:
            if isinstance(layer, nn.Linear):
                inputs.append(x.detach())
                x = layer(x)
                outputs.append(x)
            else:
                x = layer(x)
        scores = x.squeeze(-1)
        grad_in, slopes_out, d_ins = _input_gradient(critic, join(alpha * real + (1 - alpha)
                                                                  * fake, cond))
        penalty = (grad_in[:, :real.shape[1]].norm(dim=1) - 1).clamp(min=0) ** 2
        wasserstein = scores[:, 0] - scores[:, 1]
        loss = -wasserstein + self.config.gp_weight * penalty
        grads = torch.autograd.grad(loss.sum(), outputs + d_ins, retain_graph=True)
        squares = 0.0
        for i, layer in enumerate(m for m in critic if isinstance(m, nn.Linear)):
            d_out, d_in = grads[i], grads[len(outputs) + i]
            sides = torch.cat([inputs[i], d_in[:, None]], dim=1)  # (rows, 3, in)
            backs = torch.cat([d_out, slopes_out[i][:, None]], dim=1)  # (rows, 3, out)
            weight = compute_linear_norm_sample(layer, [sides], backs)[layer.weight]
            squares = squares + weight**2 + d_out.sum(dim=1).pow(2).sum(dim=1)
        logs = {"critic": loss.mean(), "wasserstein": wasserstein.mean(),
                "gradient_penalty": penalty.mean()}
        return loss, logs, squares.sqrt()


def _input_gradient(critic: nn.Sequential, x: torch.Tensor
                    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """``d critic(x).sum() / d x`` (rows, in), written out for a stack of ``Linear`` and
    (leaky) ReLU layers. Also, per ``Linear`` in order, the gradient at its output
    (detached; constant in the weights above it only through the chain) and at its input
    (in the graph, for the penalty's gradient with respect to it)."""
    slopes = []
    with torch.no_grad():
        for layer in critic:
            if isinstance(layer, nn.LeakyReLU | nn.ReLU):
                negative = layer.negative_slope if isinstance(layer, nn.LeakyReLU) else 0.0
                slopes.append(torch.where(x > 0, 1.0, negative))
            elif not isinstance(layer, nn.Linear):
                raise TypeError(f"No written-out input gradient for {type(layer).__name__}.")
            x = layer(x)
    d = x.new_ones(x.shape)
    outs, ins = [], []
    for layer in reversed(critic):
        if isinstance(layer, nn.Linear):
            outs.append(d.detach())
            d = d @ layer.weight
            ins.append(d)
        else:
            d = d * slopes.pop()
    return d, outs[::-1], ins[::-1]


class WCGANGP(WGANGP):
    """Conditional WGAN-GP: the class one-hot goes with the noise and with every row judged."""

    name = "wcgan_gp"
    conditional = True
