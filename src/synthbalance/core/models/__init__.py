"""Seven generator families over encoded tables (GANs, WGAN-GPs, VAEs, diffusion), behind
one small interface.

>>> cfg = GeneratorConfig.from_dict({"epochs": 50})
>>> gen = make_generator("wcgan_gp", layout, n_classes=2, config=cfg, seed=0)  # doctest: +SKIP
>>> gen.fit(X, y).sample(1000, y=1, seed=0)  # doctest: +SKIP

Models are saved as plain data (``gen.state_dict()``, loadable with
``torch.load(..., weights_only=True)``) and rebuilt with :func:`load_generator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthbalance.core.config import CONDITIONAL_MODELS, MODEL_NAMES, GeneratorConfig
from synthbalance.core.errors import ConfigError, ModelFileError
from synthbalance.core.layout import SpanLayout
from synthbalance.core.models.base import FORMAT_VERSION, SAMPLE_BATCH, BaseGenerator
from synthbalance.core.models.diffusion import DDPM
from synthbalance.core.models.gan import CGAN, GAN
from synthbalance.core.models.vae import CVAE, VAE
from synthbalance.core.models.wgan import WCGANGP, WGANGP

#: The family of every name in :data:`~synthbalance.core.config.MODEL_NAMES` (the names live
#: there, without torch, so parameters are checked before a model loads).
FAMILIES: dict[str, type[BaseGenerator]] = {
    cls.name: cls for cls in (GAN, CGAN, WGANGP, WCGANGP, VAE, CVAE, DDPM)
}

__all__ = [
    "CONDITIONAL_MODELS",
    "FAMILIES",
    "FORMAT_VERSION",
    "MODEL_NAMES",
    "SAMPLE_BATCH",
    "BaseGenerator",
    "GeneratorConfig",
    "load_generator",
    "make_generator",
]


def make_generator(
    name: str,
    layout: SpanLayout,
    n_classes: int | None = None,
    config: GeneratorConfig | Mapping[str, Any] | None = None,
    seed: int = 0,
) -> BaseGenerator:
    """A fresh generator of family ``name`` for rows of ``layout``.

    ``n_classes`` (>= 2) is required by conditional families and must be ``None``/0 for the
    others. ``config`` is a :class:`GeneratorConfig`, a dict of its fields, or ``None``.
    """
    if name not in FAMILIES:
        raise ConfigError(f"Unknown model {name!r}; use one of {', '.join(MODEL_NAMES)}.")
    return FAMILIES[name](layout, n_classes, config, seed)


def load_generator(state: Mapping[str, Any], device: str | None = None) -> BaseGenerator:
    """Rebuild a generator from ``BaseGenerator.state_dict()`` output.

    ``device`` overrides the saved ``config.device``. A corrupt or mismatched state (missing
    keys, wrong shapes, unknown model, newer format) raises :class:`ModelFileError`.
    """
    if not isinstance(state, Mapping):
        raise ModelFileError(
            f"A saved generator is a dict, got {type(state).__name__}; pass the object "
            "written from BaseGenerator.state_dict() (torch.load(path, weights_only=True))."
        )
    name = state.get("name")
    if name not in FAMILIES:
        raise ModelFileError(
            f"Saved generator names model {name!r}, not one of {', '.join(MODEL_NAMES)}; "
            "the file is corrupt or not a synthbalance generator."
        )
    return FAMILIES[name].from_state(state, device=device)
