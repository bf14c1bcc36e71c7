"""DP-SGD through Opacus (training.privacy): every family, the budget, the noise, the seed."""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pytest
import torch
from opacus.grad_sample import GradSampleModuleFastGradientClipping, GradSampleModuleNoOp
from opacus.optimizers import DPOptimizer

from synthbalance.core.config import CONDITIONAL_MODELS, MODEL_NAMES, GeneratorConfig
from synthbalance.core.errors import ConfigError
from synthbalance.core.models import make_generator
from synthbalance.core.models.dpsgd import default_delta
from synthbalance.params import parse_params

from .test_models import LAYOUT, TINY, _assert_valid, _labels, _rows

N = 300
#: A fixed noise multiplier skips the calibration (seconds of Opacus' pure-Python RDP).
FIXED = {"epsilon": 50.0, "noise_multiplier": 1.0}



def _fit(name: str, privacy: dict | None, seed: int = 0, n: int = N,
         labels: np.ndarray | None = None, **overrides):
    cfg = GeneratorConfig.from_dict({**TINY, "batch_size": 50, **overrides,
                                     "privacy": privacy})
    classes = 2 if name in CONDITIONAL_MODELS else None
    gen = make_generator(name, LAYOUT, n_classes=classes, config=cfg, seed=seed)
    y = (_labels(n) if labels is None else labels) if classes else None
    return gen.fit(_rows(n), y, progress=False)


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
    # ghost clipping: Opacus' hooks, or the WGAN-GP critic's own norms and no hooks
    assert isinstance(dp.wrapped, GradSampleModuleFastGradientClipping)
    assert dp.clipping == ("norms" if name in ("wgan_gp", "wcgan_gp") else "ghost")
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


def test_the_memoised_accountant_reads_the_same_epsilon_as_opacus_rdp_accountant():
    from opacus.accountants import RDPAccountant

    from synthbalance.core.models.dpsgd import ORDERS, MemoRDPAccountant

    gen = _fit("vae", FIXED, epochs=3)
    assert isinstance(gen._dp.engine.accountant, MemoRDPAccountant)
    history = [*gen._dp.engine.accountant.history, (0.7, 0.3, 5), (1.0, 0.1, 40)]
    for steps in range(1, len(history) + 1):
        ours, theirs = MemoRDPAccountant(), RDPAccountant()
        ours.history = theirs.history = history[:steps]
        assert ours.get_epsilon(1e-5) == theirs.get_epsilon(1e-5, alphas=list(ORDERS)) > 0


def test_training_stops_before_a_fixed_noise_overspends_the_budget(caplog):
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        gen = _fit("vae", {"epsilon": 2.0, "noise_multiplier": 2.0}, epochs=50)
    said = re.search(r"vae: DP-SGD stopped training after epoch (\d+) of 50: one more epoch would "
                     r"take epsilon past 2 at the fixed noise multiplier 2\.", caplog.text)
    assert said and "training.privacy.noise_multiplier" in caplog.text
    assert int(said.group(1)) == len(gen.history["privacy.epsilon"])
    epsilon = gen.history["privacy.epsilon"]
    assert 1 < len(epsilon) < 50 and gen.stop_training
    assert epsilon[-1] <= 2.0 < gen._dp.epsilon_after(gen._dp.steps_per_epoch)


def test_a_delta_not_below_one_over_n_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        _fit("vae", {"epsilon": 50.0, "delta": 0.5}, epochs=1)
    assert re.search(r"training.privacy.delta = 0.5 is not below 1/n = 1/\d+", caplog.text)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="synthbalance"):
        _fit("vae", {"epsilon": 50.0}, epochs=1)  # the default: 1/(10 n)
    assert "is not below 1/n" not in caplog.text


def test_a_noise_too_small_for_one_epoch_is_refused():
    with pytest.raises(ConfigError, match="noise_multiplier=0.3 spends more than"):
        _fit("gan", {"epsilon": 0.5, "noise_multiplier": 0.3})


@pytest.mark.parametrize("name", ["cgan", "wgan_gp", "vae", "ddpm"])
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
    per_row = gen._dp.wrapped.per_sample_gradient_norms  # Opacus' ghost norms
    assert per_row.min() > 10 * norm  # clipping has work to do
    summed = torch.cat([p.summed_grad.flatten() for p in params])
    assert summed.norm() <= len(per_row) * norm * 1.001
    expected = gen._dp.optimizer.expected_batch_size
    added = torch.cat([(p.grad * expected - p.summed_grad).flatten() for p in params])
    assert added.std().item() == pytest.approx(noise * norm, rel=0.1)


def _next_private_batch(name: str):
    """A private fit of one epoch, then the loss and rows of its next private step
    (captured, not taken), with every network in training mode."""
    gen = _fit(name, FIXED, epochs=1)
    captured = []
    gen._dp.step = lambda loss, rows: captured.append((loss, rows)) or {}
    x, labels = gen._check_data(_rows(N, seed=7), _labels(N, 7) if gen.conditional else None)
    rng = torch.Generator().manual_seed(1)
    gen._train_epoch(gen._batches(x, labels, rng), rng)
    del gen._dp.step
    for module in gen._modules.values():
        module.train()
    return gen, *captured[0]


def _clipped_rows(params, loss, rows, norm: float | None):
    """The old path, row by row: each row's own gradient clipped to ``norm`` (Opacus'
    factor ``min(1, C / (||g|| + 1e-6))``), summed; and the rows' gradient norms."""
    n = next(t.shape[0] for t in rows if t is not None)
    total, norms = [torch.zeros_like(p) for p in params], []
    for i in range(n):
        value = loss(*(None if t is None else t[i:i + 1] for t in rows))[0].sum()
        grads = torch.autograd.grad(value, params)
        norms.append(torch.cat([g.flatten() for g in grads]).norm())
        factor = 1.0 if norm is None else min(1.0, norm / (norms[-1].item() + 1e-6))
        total = [t + factor * g for t, g in zip(total, grads, strict=True)]
    return total, torch.stack(norms)


def _set_clip(dp, norm: float) -> None:
    dp.optimizer.max_grad_norm = norm
    dp.wrapped.max_grad_norm = norm  # ghost clipping's factor reads the module's


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_clipped_noised_gradient_equals_the_row_by_row_reference(name):
    """With zero noise, the gradient DP-SGD steps with is the sum of each row's own
    gradient clipped to max_grad_norm, divided by the expected batch size: ghost
    clipping (Opacus', or WGAN-GP's own) gives what the materialised per-row path gave."""
    gen, loss, rows = _next_private_batch(name)
    dp = gen._dp
    params = list(dp.optimizer.params)
    reference = getattr(gen, "_discriminator_loss", loss)  # WGAN-GP: the torch.func penalty
    if name in ("wgan_gp", "wcgan_gp"):
        with torch.no_grad():  # steep enough that the one-sided penalty is not zero
            gen._modules["discriminator"][0].weight.mul_(20)
        assert reference(*rows)[1]["gradient_penalty"] > 0
    _, norms = _clipped_rows(params, reference, rows, None)
    clip = norms.median().item()  # some rows clipped, some not
    assert (norms > 1.1 * clip).any() and (norms < clip / 1.1).any()
    expected, _ = _clipped_rows(params, reference, rows, clip)
    _set_clip(dp, clip)
    dp.optimizer.noise_multiplier = 0.0
    dp.step(loss, rows)
    batch = dp.optimizer.expected_batch_size
    for param, reference in zip(params, expected, strict=True):
        torch.testing.assert_close(param.grad, reference / batch, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["cgan", "wcgan_gp", "vae", "ddpm"])
def test_one_rows_influence_on_the_summed_gradient_is_at_most_max_grad_norm(name):
    """Adding a row to the batch moves the clipped sum by at most max_grad_norm, however
    large its own gradient (the sensitivity DP-SGD's noise is calibrated to)."""
    gen, loss, rows = _next_private_batch(name)
    dp, norm = gen._dp, 1e-3
    _set_clip(dp, norm)
    dp.optimizer.noise_multiplier = 0.0
    params = list(dp.optimizer.params)
    start = [p.detach().clone() for p in params]
    sums = []
    for batch in (rows, tuple(None if t is None else t[1:] for t in rows)):
        with torch.no_grad():
            for param, value in zip(params, start, strict=True):
                param.copy_(value)
        dp.step(loss, batch)
        sums.append(torch.cat([p.summed_grad.flatten() for p in params]))
    one_row = _clipped_rows(params, loss, tuple(None if t is None else t[:1] for t in rows),
                            None)[1]
    assert one_row.item() > 10 * norm  # its own gradient would move the weights further
    assert (sums[0] - sums[1]).norm().item() <= norm * (1 + 1e-4)


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
    with pytest.raises(ConfigError, match="Set pac=1 with privacy"):
        GeneratorConfig.from_dict({"pac": 2, "privacy": {"epsilon": 1}})
    with pytest.raises(ConfigError, match=r"^training.privacy is set with training.pac=2: .*"
                                          r"Set training.pac=1 with privacy.$"):
        parse_params({"training": {"pac": 2, "privacy": {"epsilon": 1}, "model": "cgan"}})


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


@pytest.mark.parametrize("name", ["gan", "wgan_gp", "vae"])
def test_an_empty_poisson_batch_takes_a_noise_only_step(name):
    gen, loss, rows = _next_private_batch(name)
    dp = gen._dp
    dp.step(loss, tuple(None if t is None else t[:0] for t in rows))
    summed = torch.cat([p.summed_grad.flatten() for p in dp.optimizer.params])
    noise = torch.cat([p.grad.flatten() for p in dp.optimizer.params])
    assert not summed.any() and noise.std().item() > 0


def test_a_critic_with_dropout_takes_the_vmap_route():
    gen = _fit("wgan_gp", FIXED, dropout=0.2)
    assert gen._dp.clipping == "vmap" and isinstance(gen._dp.wrapped, GradSampleModuleNoOp)
    assert len(gen.history["privacy.epsilon"]) == 2


def test_per_row_gradients_are_each_rows_own_gradient():
    """What Opacus clips on the vmap route is, row by row, the gradient of that row's loss
    alone (the WGAN-GP penalty's double backprop included)."""
    from synthbalance.core.models.dpsgd import _per_row_grads

    gen = _fit("wgan_gp", FIXED)
    x = torch.from_numpy(_rows(4, seed=5))
    with torch.no_grad():  # steep enough that the one-sided penalty is not zero
        gen._modules["discriminator"][0].weight.mul_(20)
    loss = gen._discriminator_loss
    rows = (x, torch.from_numpy(_rows(4, seed=6)), None, torch.rand(4, 1))
    assert loss(*rows)[1]["gradient_penalty"] > 0
    params = dict(gen._dp.module.named_parameters())
    grads, _ = _per_row_grads(gen._dp.module, loss, rows, params)
    for i in range(4):
        for p in params.values():
            p.grad = None
        loss(*(None if t is None else t[i:i + 1] for t in rows))[0].sum().backward()
        for key, p in params.items():
            torch.testing.assert_close(grads[key][i], p.grad, rtol=1e-4, atol=1e-6)


def test_calibrating_the_noise_leaks_no_warning_of_opacus_search():
    """Opacus' bisection probes huge noise levels whose best RDP order lies past its own
    orders; that warning says nothing about the run and must not reach the user."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gen = _fit("cvae", {"epsilon": 4.0}, n=2000)
    assert 0 < gen.history["privacy.epsilon"][-1] <= 4.0
    assert not [w for w in caught if "largest alpha" in str(w.message)]


def test_a_small_budget_is_read_without_running_out_of_rdp_orders():
    """ε = 1 planned over 82 epochs of 246 steps (BRFSS 1,000's budget): after its first
    epoch the best order lies past Opacus' 63. Read at Opacus' orders, ε is looser and
    Opacus warns on every such epoch; ours go on to 1024."""
    from opacus.accountants import RDPAccountant

    from synthbalance.core.models.dpsgd import MemoRDPAccountant

    history = [(2.754, 500 / 123_067, 246)]
    ours, theirs = MemoRDPAccountant(), RDPAccountant()
    ours.history = theirs.history = history
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        eps, order = ours.get_privacy_spent(delta=1e-6)
    assert not [w for w in caught if "largest alpha" in str(w.message)]
    assert order > max(RDPAccountant.DEFAULT_ALPHAS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert 0 < eps < theirs.get_epsilon(1e-6)  # tighter, and still Opacus' own bound
    assert [w for w in caught if "largest alpha" in str(w.message)]


def _imbalanced_private_fit(balance: bool):
    """cvae under DP on 2,000 rows of which 200 are class 1, batches of 100."""
    labels = np.r_[np.ones(200, dtype=np.int64), np.zeros(1800, dtype=np.int64)]
    gen = _fit("cvae", FIXED, n=2000, labels=labels, batch_size=100, balance_classes=balance)
    return gen, labels


def test_private_conditional_batches_are_class_balanced_at_per_class_poisson_rates():
    """Under DP a conditional family still sees a rare class in about half of each batch
    (as training-by-sampling draws it without DP): each class's rows join a batch at their
    class's rate, 50 / 200 and 50 / 1,800 here. The accountant is stepped at the largest
    rate, and Opacus averages over the expected batch of 100."""
    from synthbalance.core.models.dpsgd import PoissonBatches

    gen, labels = _imbalanced_private_fit(balance=True)
    noise, rate, steps = gen._dp.engine.accountant.history[0]
    assert rate == pytest.approx(0.25) and steps == 2 * 20  # 2 epochs of 2,000 // 100
    assert gen._dp.optimizer.expected_batch_size == 100
    batches = PoissonBatches(torch.zeros(2000, 1), None, 100, seed=0,
                             balance_labels=torch.from_numpy(labels))
    drawn = torch.cat([batches._indices() for _ in range(400)])
    assert abs(len(drawn) / 400 - 100) < 2
    assert abs(float((torch.from_numpy(labels)[drawn] == 1).float().mean()) - 0.5) < 0.02


def test_without_class_balancing_private_batches_are_opacus_uniform_poisson_ones():
    gen, _ = _imbalanced_private_fit(balance=False)
    noise, rate, steps = gen._dp.engine.accountant.history[0]
    assert rate == pytest.approx(1 / 20) and steps == 2 * 20
    assert gen._dp.optimizer.expected_batch_size == 100


def test_the_epsilon_spent_and_what_it_leaves_out_are_logged_when_training_ends(caplog):
    with caplog.at_level("INFO", logger="synthbalance.core.models.dpsgd"):
        gen = _fit("vae", FIXED)
    spent = gen.history["privacy.epsilon"][-1]
    assert f"DP-SGD spent epsilon = {spent:.4g} of 50" in caplog.text
    assert "privacy.not_covered" in caplog.text
