"""Adversarial training shared by GAN and WGAN-GP families, and the GAN / CGAN families.

The generator maps noise (plus the class one-hot, when conditional) to raw outputs that
the layout activates: ``tanh`` for scalars and a Gumbel-softmax for one-hot blocks while
training, so the discriminator sees near one-hot blocks it cannot tell apart by softness
alone. At sampling time each block is hardened to the level such a Gumbel-softmax sample
concentrates on, i.e. a level drawn from ``softmax(logits)`` (the Gumbel-max trick), so the
rows handed back follow the distribution the discriminator was trained against. A plain
argmax of the logits would always pick the most likely level and shrink every rare one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.nn import functional as F

from synthbalance.core.models.base import BaseGenerator, Batches, LossSums
from synthbalance.core.models.nn import join, mlp

#: Adam betas for adversarial training (as in WGAN-GP and CTGAN).
ADVERSARIAL_BETAS = (0.5, 0.9)


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Skip weight gradients of ``module`` inside the block (the generator's step)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


class AdversarialGenerator(BaseGenerator):
    """Generator + discriminator trained in alternation; losses come from the subclass.

    One epoch runs ``max(1, steps // n_critic)`` rounds of ``n_critic`` discriminator steps
    and one generator step, so the discriminator sees about one pass over the rows.

    Under DP (``config.privacy``) the discriminator is the private network; its per-row
    unit is a real row with the fake row generated beside it (Opacus' DCGAN example). The
    generator's step takes the expected batch size and uniformly drawn classes.
    """

    private_nets = ("discriminator",)
    private_optimizer = "_opt_d"

    def _critic_steps(self) -> int:
        return 1

    def _build(self) -> dict[str, nn.Module]:
        cfg, width = self.config, self.layout.width
        generator = mlp(cfg.latent_dim + self.cond_dim, cfg.hidden_dims, width, batch_norm=True)
        discriminator = mlp(
            (width + self.cond_dim) * cfg.pac,
            cfg.hidden_dims,
            1,
            activation="leaky_relu",
            dropout=cfg.dropout,
        )
        return {"generator": generator, "discriminator": discriminator}

    def _make_optimizers(self) -> None:
        cfg = self.config
        self._opt_g = self._adam(["generator"], cfg.generator_lr, ADVERSARIAL_BETAS)
        self._opt_d = self._adam(["discriminator"], cfg.discriminator_lr, ADVERSARIAL_BETAS)

    def _train_epoch(self, batches: Batches, rng: torch.Generator) -> dict[str, float]:
        losses, n_critic = LossSums(), self._critic_steps()
        for _ in range(max(1, batches.steps_per_epoch // n_critic)):
            for _ in range(n_critic):
                real, cond = batches.next()
                losses.add(self._discriminator_step(real, cond, rng))
            n = real.shape[0]
            if self._dp is not None:  # no real row's class, nor a Poisson batch's size
                n = batches.batch_size
                cond = None if cond is None else self._uniform_condition(n, rng)
            losses.add(self._generator_step(n, cond, rng))
        return losses.means()

    def _private_steps_per_epoch(self, batches: Batches) -> int:
        n_critic = self._critic_steps()
        return max(1, batches.steps_per_epoch // n_critic) * n_critic

    def _discriminator_step(
        self, real: torch.Tensor, cond: torch.Tensor | None, rng: torch.Generator
    ) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            fake = self._fake(real.shape[0], cond, rng)
        rows = (real, fake, cond, *self._discriminator_draws(real, rng))
        if self._dp is not None and self._dp.clipping == "norms":
            return self._dp.step(self._critic_loss_and_norms, rows)
        return self._descend(self._opt_d, self._discriminator_loss, rows)

    def _discriminator_draws(
        self, real: torch.Tensor, rng: torch.Generator
    ) -> tuple[torch.Tensor, ...]:
        """Random draws of the discriminator's loss, one row each (none for a GAN)."""
        return ()

    def _generator_step(
        self, n: int, cond: torch.Tensor | None, rng: torch.Generator
    ) -> dict[str, torch.Tensor]:
        with frozen(self._modules["discriminator"]):
            loss = self._generator_loss(self._fake(n, cond, rng), cond)
            self._opt_g.zero_grad(set_to_none=True)
            loss.backward()
        self._opt_g.step()
        return {"generator": loss}

    def _fake(self, n: int, cond: torch.Tensor | None, rng: torch.Generator) -> torch.Tensor:
        """Training-time fake rows: tanh scalars and Gumbel-softmax one-hot blocks."""
        if n < 2:  # BatchNorm trains on 2 rows or more; a Poisson batch (DP) may hold fewer
            extra = None if cond is None else self._uniform_condition(2 - n, rng)
            return self._fake(2, None if cond is None else torch.cat([cond, extra]), rng)[:n]
        raw = self._modules["generator"](join(self._noise(n, rng), cond))
        return self.plan.activate(raw, "gumbel", tau=self.config.gumbel_tau, generator=rng)

    def _score(self, rows: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        """Discriminator output, one per pack of ``pac`` consecutive rows."""
        x = join(rows, cond)
        return self._modules["discriminator"](x.reshape(-1, x.shape[1] * self.config.pac))

    def _score_pairs(self, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor | None
                     ) -> torch.Tensor:
        """Discriminator outputs (packs, 2): real then fake, per pack of ``pac`` rows.

        One pass over both sides, each pack's real and fake sides side by side (packs, 2,
        features): under DP a row's unit is its real and its fake side, and ghost clipping
        needs each private network to run once per step (:mod:`~.dpsgd`)."""
        x = torch.stack([join(real, cond), join(fake, cond)], dim=1)
        n, _, width = x.shape
        pac = self.config.pac
        x = x.reshape(n // pac, pac, 2, width).transpose(1, 2).reshape(n // pac, 2, -1)
        return self._modules["discriminator"](x).squeeze(-1)

    def _sampling_net(self) -> nn.Sequential:
        return self._modules["generator"]

    def _discriminator_loss(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        cond: torch.Tensor | None,
        *draws: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The discriminator's loss per pack (packs,) and the values to log for it;
        ``draws``: :meth:`_discriminator_draws`. Under DP a pack is one row."""
        raise NotImplementedError

    def _generator_loss(self, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError


class GAN(AdversarialGenerator):
    """Non-saturating GAN: the discriminator minimises BCE, the generator ``-log D(fake)``."""

    name = "gan"

    def _discriminator_loss(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        cond: torch.Tensor | None,
        *draws: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        scores = self._score_pairs(real, fake, cond)
        loss = F.softplus(-scores[:, 0]) + F.softplus(scores[:, 1])
        return loss, {"discriminator": loss.mean()}

    def _generator_loss(self, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return F.softplus(-self._score(fake, cond)).mean()


class CGAN(GAN):
    """Conditional GAN: the class one-hot is appended to the noise and to every row judged."""

    name = "cgan"
    conditional = True
