"""WGAN-GP and its conditional form: a critic with a gradient penalty (Gulrajani et al. 2017).

The critic takes ``config.n_critic`` steps per generator step. ``history["wasserstein"]`` is
the critic's estimate ``E[C(real)] - E[C(fake)]``; it should fall as the generator improves.
"""

from __future__ import annotations

import torch

from synthbalance.core.models.gan import AdversarialGenerator


class WGANGP(AdversarialGenerator):
    """Wasserstein GAN with gradient penalty (unconditional)."""

    name = "wgan_gp"
    #: The gradient penalty is differentiated twice, which Opacus' hooks cannot follow.
    private_clipping = "vmap"

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


class WCGANGP(WGANGP):
    """Conditional WGAN-GP: the class one-hot goes with the noise and with every row judged."""

    name = "wcgan_gp"
    conditional = True
