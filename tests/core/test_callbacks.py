"""The training loop's callbacks: the hooks, their order, timing, checks and early stop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthbalance.core.errors import ConfigError
from synthbalance.core.models import make_generator
from synthbalance.core.models.callbacks import (
    BestCheckpoint,
    Callback,
    EpochTimer,
    PeriodicCheck,
)

from .test_models import LAYOUT, TINY, _rows


class Recorder(Callback):
    """Logs every hook call; stops training after ``stop_at`` epochs if given."""

    def __init__(self, stop_at: int | None = None):
        self.calls: list[tuple] = []
        self.stop_at = stop_at

    def on_train_begin(self, generator, n_rows):
        self.calls.append(("train_begin", n_rows))

    def on_epoch_begin(self, generator, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, generator, epoch, losses):
        assert generator.history["loss"][-1] == losses["loss"]  # recorded before the hook
        self.calls.append(("epoch_end", epoch))
        if epoch == self.stop_at:
            generator.stop_training = True

    def on_train_end(self, generator):
        self.calls.append(("train_end",))


def _vae(**overrides):
    return make_generator("vae", LAYOUT, config={**TINY, **overrides}, seed=0)


def test_hooks_run_in_order_around_every_epoch():
    recorder = Recorder()
    _vae(epochs=2).fit(_rows(128), callbacks=[recorder], progress=False)
    assert recorder.calls == [("train_begin", 128), ("epoch_begin", 1), ("epoch_end", 1),
                              ("epoch_begin", 2), ("epoch_end", 2), ("train_end",)]


def test_a_callback_stops_training_and_the_check_runs_on_the_last_epoch_trained():
    checked = []

    def check(epoch, generator):
        checked.append(epoch)
        return {"score": float(epoch)}

    gen = _vae(epochs=10, check_every=4).fit(
        _rows(128), callbacks=[Recorder(stop_at=3), PeriodicCheck(check), BestCheckpoint()],
        progress=False)
    assert len(gen.history["loss"]) == 3 and checked == [3]
    assert gen.best_epoch == 3 and gen.history["check.epoch"] == [3.0]


def test_epoch_timer_times_each_epoch_and_changes_no_weight():
    timer = EpochTimer()
    timed = _vae(epochs=3).fit(_rows(128), callbacks=[timer], progress=False)
    plain = _vae(epochs=3).fit(_rows(128), progress=False)
    assert len(timer.seconds) == 3 and all(s > 0 for s in timer.seconds)
    assert timer.n_rows == 128
    for net, weights in plain.weights().items():
        for key, value in weights.items():
            assert torch.equal(timed.weights()[net][key], value), (net, key)


def test_a_check_without_a_score_is_a_clear_error():
    with pytest.raises(ConfigError, match="without a 'score' key"):
        _vae(epochs=1).fit(_rows(64), callbacks=[PeriodicCheck(lambda e, g: {"x": 1.0})],
                           progress=False)


def test_best_checkpoint_ignores_nan_scores_and_keeps_the_last_epoch_without_checks():
    scores = iter([float("nan"), 2.0, 1.0, float("nan")])
    gen = _vae(epochs=4, check_every=1).fit(
        _rows(64), callbacks=[PeriodicCheck(lambda e, g: {"score": next(scores)}),
                              BestCheckpoint()], progress=False)
    assert gen.best_epoch == 3
    assert np.isnan(gen.history["check.score"][0])
    assert _vae(epochs=2).fit(_rows(64), progress=False).best_epoch == 2


def test_early_stopping_ends_a_run_whose_checks_stopped_improving():
    from synthbalance.core.models.callbacks import EarlyStopping

    scores = iter([3.0, 2.0, 2.5, 2.1, 9.0, 0.1, 0.1])
    gen = _vae(epochs=7, check_every=1).fit(
        _rows(64), callbacks=[PeriodicCheck(lambda e, g: {"score": next(scores)}),
                              EarlyStopping(patience=3), BestCheckpoint()], progress=False)
    assert len(gen.history["loss"]) == 5  # epochs 3, 4 and 5 did not beat epoch 2
    assert gen.best_epoch == 2


def test_auto_epochs_spend_a_step_budget_that_grows_with_rows_and_width():
    from synthbalance.core.config import BUDGET_MAX, BUDGET_MIN, planned_epochs, step_budget

    assert step_budget(1_000, 30) == BUDGET_MIN and step_budget(10**7, 500) == BUDGET_MAX
    assert step_budget(14_000, 70) < step_budget(140_000, 70) < step_budget(140_000, 140)
    config = {"epochs": "auto", "check_every": "auto"}
    gen = _vae(**config).fit(_rows(512), progress=False)  # 8 steps of 64 rows per epoch
    epochs, every = planned_epochs(gen.config, 512, LAYOUT.width, 8)
    assert gen.epochs == epochs == -(-step_budget(512, LAYOUT.width) // 8)
    assert gen.check_every == every == round(epochs / 10)
    assert len(gen.history["loss"]) == epochs


def test_auto_epochs_without_checks_train_the_minimum_budget():
    """No periodic check (too few validation rows) means no early stop and no choice of
    checkpoint, so ``auto`` trains BUDGET_MIN steps, not the budget of the rows."""
    from synthbalance.core.config import BUDGET_MIN, step_budget

    rows, per_epoch = _rows(16_384), 16_384 // 64
    assert step_budget(16_384, LAYOUT.width) > BUDGET_MIN + per_epoch
    config = {"epochs": "auto", "check_every": "auto"}
    unchecked = _vae(**config).fit(rows, progress=False)
    checked = _vae(**config).fit(rows, callbacks=[PeriodicCheck(lambda e, g: None)],
                                 progress=False)
    assert unchecked.epochs == -(-BUDGET_MIN // per_epoch)
    assert checked.epochs == -(-step_budget(16_384, LAYOUT.width) // per_epoch)


def test_train_synthesizer_stops_early_with_patience_from_a_plain_config(demo):
    from synthbalance.core.schema import infer_schema
    from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
    from synthbalance.core.transformer import TabularTransformer

    schema = infer_schema(demo, "outcome")
    transformer = TabularTransformer(seed=0).fit(demo, schema)
    plan = TrainingPlan("cvae", {"epochs": 40, "check_every": 1, "patience": 1,
                                 "hidden_dims": [8], "device": "cpu"})
    synth = train_synthesizer(demo, transformer.transform(demo), transformer, schema, plan,
                              progress=False)
    history = synth.generator.history
    assert len(history["loss"]) < 40  # a check that did not improve ended the run
    assert history["check.score"][-1] >= min(history["check.score"][:-1])


def test_an_early_stop_and_checks_left_out_are_said(demo, caplog):
    """The user learns why a run ended before its planned epochs, and that a class with too
    few validation rows gets no checks (so no early stop and no choice of checkpoint)."""
    import logging

    from synthbalance.core.models.callbacks import EarlyStopping

    scores = iter([3.0, 2.0, 2.5, 2.1, 9.0])
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        _vae(epochs=7, check_every=1).fit(
            _rows(64), callbacks=[PeriodicCheck(lambda e, g: {"score": next(scores)}),
                                  EarlyStopping(patience=3)], progress=False)
    assert "stopped after epoch 5 of 7, 3 checks in a row without a better check.score " \
           "(training.patience); the best check was at epoch 2" in caplog.text
    # a run that spends its whole budget says which epoch's weights it keeps, once
    scores = iter([3.0, 2.0, 2.5, 2.1])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        gen = _vae(epochs=4, check_every=1).fit(
            _rows(64), callbacks=[PeriodicCheck(lambda e, g: {"score": next(scores)}),
                                  EarlyStopping(patience=3), BestCheckpoint()], progress=False)
    assert gen.best_epoch == 2
    assert caplog.text.count("whose weights are kept") == 1
    assert "trained all 4 epochs; the best check was at epoch 2, whose weights are kept." \
        in caplog.text
    # patience running out at the last epoch is the budget's end, not an early stop
    scores = iter([3.0, 2.0, 2.5, 2.1, 2.2])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        _vae(epochs=5, check_every=1).fit(
            _rows(64), callbacks=[PeriodicCheck(lambda e, g: {"score": next(scores)}),
                                  EarlyStopping(patience=3), BestCheckpoint()], progress=False)
    assert "stopped after" not in caplog.text and "trained all 5 epochs" in caplog.text

    from synthbalance.core.schema import infer_schema
    from synthbalance.core.synthesizer import TrainingPlan, train_synthesizer
    from synthbalance.core.transformer import TabularTransformer

    schema = infer_schema(demo, "outcome")
    minority = demo["outcome"] == schema.minority_classes[0]
    small = demo.drop(demo.index[minority][60:])  # 60 minority rows: 12 validate
    transformer = TabularTransformer(seed=0).fit(small, schema)
    plan = TrainingPlan("cvae", {"epochs": 2, "hidden_dims": [8], "device": "cpu"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        synth = train_synthesizer(small, transformer.transform(small), transformer, schema,
                                  plan, progress=False)
    assert "validation rows, fewer than the 50 a check needs" in caplog.text
    assert "so no choice of checkpoint; the last epoch is kept." in caplog.text
    # what the run did not ask for is not named: a fixed budget, no patience
    assert "epochs: auto" not in caplog.text and "training.patience" not in caplog.text
    assert "check.score" not in synth.generator.history
    per_class = TrainingPlan("vae", {"epochs": 2, "hidden_dims": [8], "device": "cpu"},
                             strategy="per_class", class_value=1)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        train_synthesizer(demo, transformer.transform(demo), transformer, schema, per_class,
                          progress=False)
    assert "vae (class 1): trained all 2 epochs" in caplog.text  # which class's generator
    auto = TrainingPlan("cvae", {"epochs": "auto", "patience": 3, "hidden_dims": [8],
                                 "batch_size": 500, "device": "cpu"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="synthbalance.core"):
        train_synthesizer(small, transformer.transform(small), transformer, schema, auto,
                          progress=False)
    assert "so no early stop (training.patience) and no choice of checkpoint" in caplog.text
    assert "epochs: auto trains its minimum budget (1000 steps)" in caplog.text


def test_without_a_terminal_the_progress_bar_gives_way_to_a_few_log_lines(capfd, caplog):
    with caplog.at_level("INFO", logger="synthbalance.core.models.callbacks"):
        _vae(epochs=30).fit(_rows(128), progress=True)
    assert "\r" not in capfd.readouterr().err  # no bar redrawn into a file or a CI log
    lines = [r.getMessage() for r in caplog.records if ": epoch " in r.getMessage()]
    assert len(lines) == 10 and lines[-1].startswith("vae: epoch 30 of 30, loss ")
