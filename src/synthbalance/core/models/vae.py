"""VAE and conditional VAE for encoded tables (in the spirit of TVAE, Xu et al. 2019).

The ELBO uses one likelihood per span kind: a Gaussian around ``tanh(decoder)`` for scalar
spans, with one learned standard deviation per scalar column (clamped to [0.01, 1]), and a
categorical (cross-entropy) for one-hot blocks. Sampling draws from that same likelihood:
scalars get their Gaussian noise, levels are drawn from the decoder's softmax. Taking the
argmax instead would collapse every categorical marginal onto its most likely level.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from synthbalance.core.errors import NotFittedError
from synthbalance.core.models.base import BaseGenerator, num_threads
from synthbalance.core.models.nn import join, mlp

#: Range of the learned standard deviation of scalar spans.
SIGMA_RANGE = (0.01, 1.0)


class GaussianScale(nn.Module):
    """A learned standard deviation per scalar column, and the Gaussian negative
    log-likelihood of residuals under it.

    A module of its own so that DP-SGD's ghost clipping sees the scale used in a forward
    pass; :func:`scale_grad_sample` gives Opacus its per-row gradients."""

    def __init__(self, n_scalar: int):
        super().__init__()
        self.log_sigma = nn.Parameter(torch.full((n_scalar,), math.log(0.1)))

    def sigma(self) -> torch.Tensor:
        """(n_scalar,) standard deviations, clamped to :data:`SIGMA_RANGE`."""
        return self.log_sigma.exp().clamp(*SIGMA_RANGE)

    def forward(self, err: torch.Tensor) -> torch.Tensor:
        """``err^2 / (2 sigma^2) + log sigma`` (rows, n_scalar), up to a constant."""
        sigma = self.sigma()
        return err**2 / (2 * sigma**2) + sigma.log()


def scale_grad_sample(layer: GaussianScale, activations: list[torch.Tensor],
                      backprops: torch.Tensor) -> dict[nn.Parameter, torch.Tensor]:
    """Per-row gradients (rows, n_scalar) of ``log_sigma``, in Opacus' grad-sampler form
    (the module's inputs ``[err]`` and the gradient at its output, per row):
    ``d/ds (err^2 e^(-2s) / 2 + s) = 1 - err^2 / sigma^2`` where ``e^s`` lies inside
    :data:`SIGMA_RANGE`, 0 where the clamp holds it (as torch's ``clamp`` backward)."""
    raw = layer.log_sigma.detach().exp()
    inside = (raw >= SIGMA_RANGE[0]) & (raw <= SIGMA_RANGE[1])
    sigma = raw.clamp(*SIGMA_RANGE)
    return {layer.log_sigma: backprops * (1 - activations[0] ** 2 / sigma**2) * inside}


class Decoder(nn.Module):
    """An MLP from latent code to raw outputs, plus a learned sigma per scalar column."""

    def __init__(self, in_dim: int, hidden_dims: tuple[int, ...], out_dim: int, n_scalar: int):
        super().__init__()
        self.net = mlp(in_dim, hidden_dims, out_dim)
        self.scale = GaussianScale(n_scalar)
        self._register_load_state_dict_pre_hook(_renamed_scale)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def sigma(self) -> torch.Tensor:
        return self.scale.sigma()


def _renamed_scale(state: dict, prefix: str, *args) -> None:
    """Load weights saved before the scale had a module of its own (``log_sigma``)."""
    if prefix + "log_sigma" in state:
        state[prefix + "scale.log_sigma"] = state.pop(prefix + "log_sigma")


class VAE(BaseGenerator):
    """Variational autoencoder; history keys ``loss``, ``reconstruction`` and ``kl``."""

    name = "vae"
    private_nets = ("encoder", "decoder")
    # One hidden layer of 128 and a 32-d code: on BRFSS (10 epochs, 3 training seeds) this
    # beat (256, 256) / 128 on PR AUC gain and detection accuracy in both settings and
    # samples several times faster (see docs/models.md). The GANs lost quality when shrunk.
    default_hidden_dims = (128,)
    default_latent_dim = 32

    def _build(self) -> dict[str, nn.Module]:
        cfg, width = self.config, self.layout.width
        encoder = mlp(width + self.cond_dim, cfg.hidden_dims, 2 * cfg.latent_dim)
        decoder = Decoder(
            cfg.latent_dim + self.cond_dim,
            tuple(reversed(cfg.hidden_dims)),
            width,
            len(self.layout.scalar_index),
        )
        return {"encoder": encoder, "decoder": decoder}

    def _make_optimizers(self) -> None:
        self._opt = self._adam(["encoder", "decoder"], self.config.vae_lr)

    def _step(
        self, x: torch.Tensor, cond: torch.Tensor | None, rng: torch.Generator
    ) -> dict[str, torch.Tensor]:
        eps = torch.randn((x.shape[0], self.config.latent_dim), generator=rng, device=x.device)
        return self._descend(self._opt, self._elbo, (x, cond, eps))

    def _elbo(
        self, x: torch.Tensor, cond: torch.Tensor | None, eps: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The negative ELBO per row (rows,) with reparametrisation noise ``eps``, and
        its batch means to log."""
        mu, logvar = self._encode(x, cond)
        raw = self._modules["decoder"](join(mu + eps * torch.exp(0.5 * logvar), cond))
        reconstruction = self._nll(raw, x)
        kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)
        loss = reconstruction + self.config.kl_weight * kl
        return loss, {"loss": loss.mean(), "reconstruction": reconstruction.mean(),
                      "kl": kl.mean()}

    def _encode(
        self, x: torch.Tensor, cond: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self._modules["encoder"](join(x, cond)).chunk(2, dim=1)
        return mu, logvar

    def _nll(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-row negative log-likelihood of ``x`` (up to a constant) under the decoder."""
        scalar = self.plan.scalar
        err = x.index_select(1, scalar) - torch.tanh(raw.index_select(1, scalar))
        gaussian = self._modules["decoder"].scale(err).sum(dim=1)
        return gaussian + self.plan.onehot_nll(raw, x)

    def _sampling_net(self) -> nn.Sequential:
        return self._modules["decoder"].net

    def _finish_scalars(self, scalars: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        noise = torch.randn(scalars.shape, generator=rng, device=scalars.device)
        sigma = self._modules["decoder"].sigma()[:, None]
        return scalars.addcmul_(noise, sigma).clamp_(-1.0, 1.0)

    def reconstruct(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Encode ``X`` and decode the posterior mean: tanh scalars, most likely levels.

        Deterministic (no sampling), so reconstruction error measures what the VAE learned.
        """
        if not self._fitted:
            raise NotFittedError(f"{self.name} generator is not fitted; call fit(X) first.")
        x, labels = self._check_data(X, y, where="reconstruct", min_rows=1)
        cond = None if labels is None else self._condition(labels)
        with num_threads(self.config.num_threads), torch.inference_mode():
            for module in self._modules.values():
                module.eval()
            mu, _ = self._encode(x, cond)
            raw = self._modules["decoder"](join(mu, cond))
            return self.plan.activate(raw, "argmax").cpu().numpy()


class CVAE(VAE):
    """Conditional VAE: the class one-hot goes to both the encoder and the decoder."""

    name = "cvae"
    conditional = True
