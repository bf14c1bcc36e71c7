"""The one typed configuration every generator family reads.

A frozen dataclass, so a typo in a parameter fails at once with the key's name instead of
being silently ignored. Fields a family does not use are accepted and ignored, so one
``parameters_training.yml`` can switch families with a single ``model`` change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from synthbalance.core.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class GeneratorConfig:
    """Hyper-parameters of every generator family.

    Shared by all families:
        epochs: passes over the training rows (an epoch is ``max(1, n // batch_size)``
            batches; for WGAN families those are critic batches, see ``n_critic``).
        batch_size: rows per batch; rounded down to a multiple of ``pac`` and capped at n.
        weight_decay: Adam L2 penalty of every network.
        hidden_dims: widths of the hidden layers of every network (the VAE decoder mirrors
            them). ``None``: the family's default, (256, 256) for GANs, (128,) for VAEs.
        latent_dim: size of the generator's noise vector / the VAE's latent code. ``None``:
            the family's default, 128 for GANs, 32 for VAEs.
        check_every: epochs between two calls of the ``fit`` callback (best-checkpoint keeping).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        balance_classes: conditional families draw class-balanced batches (CTGAN's
            training-by-sampling), so a 10 % minority class is learned as well as the majority.
            Ignored by unconditional families.
        num_threads: torch CPU threads during ``fit`` and ``sample``; ``None`` leaves torch's
            setting alone.

    GAN and WGAN families only (ignored by VAEs):
        generator_lr: Adam learning rate of the generator.
        discriminator_lr: Adam learning rate of the discriminator / critic.
        n_critic: WGAN families: critic steps per generator step. GANs always use 1.
        gp_weight: WGAN families: weight of the gradient penalty.
        dropout: dropout after each hidden layer of the discriminator / critic.
        pac: PacGAN packing: the discriminator judges ``pac`` rows at once, which punishes
            mode collapse. ``batch_size`` is rounded down to a multiple of it.
        gumbel_tau: temperature of the Gumbel-softmax used for one-hot spans in training.

    VAE families only (ignored by GANs):
        vae_lr: Adam learning rate of encoder and decoder. Separate from ``generator_lr``
            because a VAE trains well at TVAE's 1e-3 while the GAN defaults follow CTGAN's
            2e-4 (the plain GAN degrades at 1e-3). On a 5,000 x 125 table after 100 epochs
            the VAE's real-vs-synthetic detection AUC was 0.73 at 1e-3 and 0.92 at 2e-4.
        kl_weight: weight of the KL term of the ELBO (beta-VAE).
    """

    epochs: int = 300
    batch_size: int = 500
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    weight_decay: float = 1e-6
    hidden_dims: tuple[int, ...] | None = None
    latent_dim: int | None = None
    n_critic: int = 5
    gp_weight: float = 10.0
    vae_lr: float = 1e-3
    kl_weight: float = 1.0
    dropout: float = 0.0
    pac: int = 1
    gumbel_tau: float = 0.2
    check_every: int = 10
    device: str = "auto"
    balance_classes: bool = True
    num_threads: int | None = None

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> GeneratorConfig:
        """Build a config from plain data (parameters YAML); unknown keys raise ``ConfigError``."""
        data = dict(data or {})
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ConfigError(
                f"Unknown generator config key(s) {unknown}; valid keys are: {', '.join(valid)}."
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, not tuples), the inverse of :meth:`from_dict`."""
        out = asdict(self)
        if self.hidden_dims is not None:
            out["hidden_dims"] = list(self.hidden_dims)
        return out


def _int(minimum: int) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"Generator config {name}={value!r}: use an integer >= {minimum}.")
        return int(value)

    return check


def _float(minimum: float, maximum: float = float("inf"), strict: bool = False):
    def check(name: str, value: Any) -> float:
        # PyYAML reads "2e-4" (no dot) as a string; accept it rather than fail on a YAML quirk.
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        low_ok = ok and (value > minimum if strict else value >= minimum)
        if not (low_ok and value < maximum):
            bound = f"{'>' if strict else '>='} {minimum}" + (
                f" and < {maximum}" if maximum != float("inf") else ""
            )
            raise ConfigError(f"Generator config {name}={value!r}: use a number {bound}.")
        return float(value)

    return check


def _dims(name: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ConfigError(f"Generator config {name}={value!r}: use a list of layer widths.")
    dims = tuple(value)
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise ConfigError(
            f"Generator config {name}={value!r}: use a non-empty list of integers >= 1."
        )
    return dims


def _device(name: str, value: Any) -> str:
    if value not in DEVICES:
        raise ConfigError(f"Generator config {name}={value!r}: use one of {', '.join(DEVICES)}.")
    return value


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"Generator config {name}={value!r}: use true or false.")
    return value


def _optional_int(name: str, value: Any) -> int | None:
    return None if value is None else _int(1)(name, value)


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "epochs": _int(1),
    "batch_size": _int(1),
    "generator_lr": _float(0.0, strict=True),
    "discriminator_lr": _float(0.0, strict=True),
    "weight_decay": _float(0.0),
    "hidden_dims": _dims,
    "latent_dim": _optional_int,
    "n_critic": _int(1),
    "gp_weight": _float(0.0),
    "vae_lr": _float(0.0, strict=True),
    "kl_weight": _float(0.0),
    "dropout": _float(0.0, 1.0),
    "pac": _int(1),
    "gumbel_tau": _float(0.0, strict=True),
    "check_every": _int(1),
    "device": _device,
    "balance_classes": _bool,
    "num_threads": _optional_int,
}
