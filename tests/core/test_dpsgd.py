"""DP-SGD through Opacus (training.privacy): every family, the budget, the noise, the seed."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from opacus.grad_sample import GradSampleModuleNoOp
from opacus.optimizers import DPOptimizer

from synthbalance.core.config import CONDITIONAL_MODELS, MODEL_NAMES, GeneratorConfig
from synthbalance.core.errors import ConfigError
from synthbalance.core.models import make_generator
from synthbalance.core.models.dpsgd import default_delta

from .test_models import LAYOUT, TINY, _assert_valid, _labels, _rows

N = 300
#: A fixed noise multiplier skips the calibration (seconds of Opacus' pure-Python RDP).
FIXED = {"epsilon": 50.0, "noise_multiplier": 1.0}

pytestmark = pytest.mark.filterwarnings("ignore:Optimal order is the largest alpha")


def _fit(name: str, privacy: dict | None, seed: int = 0, n: int = N, **overrides):
    cfg = GeneratorConfig.from_dict({**TINY, "batch_size": 50, **overrides,
                                     "privacy": privacy})
    classes = 2 if name in CONDITIONAL_MODELS else None
    gen = make_generator(name, LAYOUT, n_classes=classes, config=cfg, seed=seed)
    return gen.fit(_rows(n), _labels(n) if classes else None, progress=False)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_family_trains_with_dp_sgd_on_its_private_networks(name):
    gen = _fit(name, FIXED)
    epsilon = gen.history["privacy.epsilon"]
    assert len(epsilon) == 2 and 0 < epsilon[0] < epsilon[1] <= FIXED["epsilon"]
    assert gen.history["privacy.delta"] == [pytest.approx(default_delta(N))]
    _assert_valid(gen.sample(200, y=1 if gen.conditional else None, seed=0), LAYOUT)
    # Opacus' DP optimiser steps exactly the networks that read real rows
    dp = gen._dp
    assert isinstance(dp.optimizer, DPOptimizer)
    assert isinstance(dp.wrapped, GradSampleModuleNoOp)
    private = {id(p) for net in gen.private_nets for p in gen._modules[net].parameters()}
    assert {id(p) for p in dp.optimizer.params} == private
    assert set(gen.private_nets) >= ({"discriminator"} if "gan" in name else set())


def test_delta_defaults_below_one_over_the_rows_read():
    for n in (2, 300, 250_000):
        assert default_delta(n) < 1 / n


def test_calibrated_noise_spends_the_budget_over_the_planned_epochs_and_no_more():
    gen = _fit("gan", {"epsilon": 2.0}, epochs=3)
    epsilon = gen.history["privacy.epsilon"]
    assert len(epsilon) == 3 and epsilon == sorted(epsilon)
    assert 0.9 * 2.0 < epsilon[-1] <= 2.0  # Opacus calibrates to within 0.01 below


def test_training_stops_before_a_fixed_noise_overspends_the_budget():
    gen = _fit("vae", {"epsilon": 2.0, "noise_multiplier": 2.0}, epochs=50)
    epsilon = gen.history["privacy.epsilon"]
    assert 1 < len(epsilon) < 50 and gen.stop_training
    assert epsilon[-1] <= 2.0 < gen._dp.epsilon_after(gen._dp.steps_per_epoch)


def test_a_noise_too_small_for_one_epoch_is_refused():
    with pytest.raises(ConfigError, match="noise_multiplier=0.3 spends more than"):
        _fit("gan", {"epsilon": 0.5, "noise_multiplier": 0.3})


@pytest.mark.parametrize("name", ["cgan", "vae"])
def test_same_seed_gives_the_same_private_model_and_rows(name):
    first, second = _fit(name, FIXED), _fit(name, FIXED)
    for net, weights in first.weights().items():
        for key, value in weights.items():
            assert torch.equal(value, second.weights()[net][key]), (net, key)
    y = 1 if first.conditional else None
    np.testing.assert_array_equal(first.sample(100, y=y, seed=3), second.sample(100, y=y, seed=3))
    assert first.history == second.history


def test_dp_clips_each_rows_gradient_and_adds_noise():
    """The last step's per-row gradients are larger than the clip norm, their clipped sum
    is not, and the gradient Adam stepped with is that sum plus noise of the set scale."""
    norm, noise = 1e-3, 1.0
    gen = _fit("gan", {"epsilon": 50.0, "noise_multiplier": noise, "max_grad_norm": norm})
    params = gen._dp.optimizer.params
    per_row = torch.stack([p.grad_sample.reshape(len(p.grad_sample), -1).norm(dim=1)
                           for p in params], 1).norm(dim=1)
    assert per_row.min() > 10 * norm  # clipping has work to do
    summed = torch.cat([p.summed_grad.flatten() for p in params])
    assert summed.norm() <= len(per_row) * norm * 1.001
    expected = gen._dp.optimizer.expected_batch_size
    added = torch.cat([(p.grad * expected - p.summed_grad).flatten() for p in params])
    assert added.std().item() == pytest.approx(noise * norm, rel=0.1)


def test_private_weights_differ_from_the_non_private_run_with_the_same_seed():
    private, plain = _fit("ddpm", FIXED), _fit("ddpm", None)
    assert "privacy.epsilon" not in plain.history and plain._dp is None
    differs = [not torch.equal(v, plain.weights()["denoiser"][k])
               for k, v in private.weights()["denoiser"].items()]
    assert all(differs)


@pytest.mark.parametrize(("privacy", "key"), [
    ({"epsilon": 0}, "training.privacy.epsilon"),
    ({"epsilon": -1}, "training.privacy.epsilon"),
    ({"epsilon": 1, "delta": 1}, "training.privacy.delta"),
    ({"epsilon": 1, "delta": 0}, "training.privacy.delta"),
    ({"epsilon": 1, "max_grad_norm": 0}, "training.privacy.max_grad_norm"),
    ({"epsilon": 1, "epsilom": 2}, "training.privacy.epsilom"),
    ({"delta": 1e-5}, "training.privacy.epsilon"),
])
def test_invalid_privacy_settings_are_one_clear_config_error(privacy, key):
    from synthbalance.params import TrainingParams

    with pytest.raises(ConfigError) as info:
        TrainingParams.from_dict({"privacy": privacy})
    message = str(info.value)
    assert key in message and "\n" not in message


def test_privacy_needs_one_row_per_pack():
    with pytest.raises(ConfigError, match="Use pac: 1 with privacy"):
        GeneratorConfig.from_dict({"pac": 2, "privacy": {"epsilon": 1}})


def test_a_private_model_saves_and_reloads_without_opacus_state():
    gen = _fit("wgan_gp", FIXED)
    state = gen.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = type(gen).from_state(state)
    assert again.config.privacy is not None and again._dp is None
    np.testing.assert_array_equal(gen.sample(50, seed=1), again.sample(50, seed=1))


def test_the_private_gans_generator_never_takes_a_real_rows_class():
    """Post-processing covers the generator only if nothing else of the data reaches it:
    with every real row of class 0, its steps must still see both classes, drawn uniformly."""
    from synthbalance.core.models.gan import CGAN

    seen: list[torch.Tensor] = []

    class Spy(CGAN):
        def _generator_step(self, n, cond, rng):
            seen.append(cond.argmax(1))
            return super()._generator_step(n, cond, rng)

    cfg = GeneratorConfig.from_dict({**TINY, "batch_size": 50, "privacy": FIXED})
    Spy(LAYOUT, n_classes=2, config=cfg).fit(_rows(N), np.zeros(N, np.int64), progress=False)
    share = torch.cat(seen).float().mean().item()
    assert 0.3 < share < 0.7


def test_the_loss_plot_draws_epsilon_and_leaves_out_the_one_off_values():
    from synthbalance.core.plots import loss_curves

    gen = _fit("vae", FIXED)
    titles = [ax.get_title() for ax in loss_curves(gen.history).axes if ax.get_title()]
    assert "Privacy spent (ε, DP-SGD)" in titles
    assert not any(t.startswith(("privacy.delta", "privacy.noise")) for t in titles)


@pytest.mark.parametrize("name", ["wgan_gp", "cvae"])
def test_per_row_gradients_are_each_rows_own_gradient(name):
    """What Opacus clips is, row by row, the gradient of that row's loss alone (the WGAN-GP
    penalty's double backprop and the VAE decoder's learned scale included)."""
    from synthbalance.core.models.dpsgd import _per_row_grads

    gen = _fit(name, FIXED)
    x = torch.from_numpy(_rows(4, seed=5))
    if name == "wgan_gp":
        with torch.no_grad():  # steep enough that the one-sided penalty is not zero
            gen._modules["discriminator"][0].weight.mul_(20)
        loss = gen._discriminator_loss
        rows = (x, torch.from_numpy(_rows(4, seed=6)), None, torch.rand(4, 1))
        assert loss(*rows)[1]["gradient_penalty"] > 0
    else:
        loss = gen._elbo
        cond = gen._condition(torch.tensor([0, 1, 1, 0]))
        rows = (x, cond, torch.randn(4, gen.config.latent_dim))
    params = dict(gen._dp.module.named_parameters())
    grads, _ = _per_row_grads(gen._dp.module, loss, rows, params)
    for i in range(4):
        for p in params.values():
            p.grad = None
        loss(*(None if t is None else t[i:i + 1] for t in rows))[0].backward()
        for key, p in params.items():
            torch.testing.assert_close(grads[key][i], p.grad, rtol=1e-4, atol=1e-6)
