"""Known answers for the utility experiment's arms, thresholds and bootstrap intervals."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, precision_recall_curve

from synthbalance.core.errors import ConfigError, DataValidationError
from synthbalance.core.metrics import gain_curve, recall_gain_experiment
from synthbalance.core.metrics.bootstrap import (
    Ranked,
    Resamples,
    paired_intervals,
    prevalence_weights,
    resample_weights,
)
from synthbalance.core.metrics.utility import ARMS, _threshold, deployment_shares
from synthbalance.core.schema import infer_schema

FAST = {"xgb_params": {"n_estimators": 40, "max_depth": 4}, "n_jobs": 1, "n_boot": 100}


def _draw(rng: np.random.Generator, n: int, label: int) -> pd.DataFrame:
    mu = 1.3 * label
    return pd.DataFrame({"a": rng.normal(mu, 1.0, n), "b": rng.normal(mu, 1.0, n),
                         "g": rng.choice(["u", "v"], n, p=[0.3, 0.7] if label else [0.6, 0.4]),
                         "y": label})


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    """A starved baseline: 40 minority training rows, hundreds held back."""
    rng = np.random.default_rng(42)
    return {
        "train": pd.concat([_draw(rng, 1500, 0), _draw(rng, 40, 1)], ignore_index=True),
        "test": pd.concat([_draw(rng, 600, 0), _draw(rng, 150, 1)], ignore_index=True),
        "held_back": _draw(rng, 400, 1),
        "synthetic": _draw(rng, 400, 1).assign(a=lambda d: d["a"] + 0.2),
    }


@pytest.fixture(scope="module")
def schema(data):
    return infer_schema(pd.concat([data["train"], data["test"]]), "y")


@pytest.fixture(scope="module")
def result(data, schema):
    return recall_gain_experiment(
        data["train"], data["test"], schema, data["synthetic"], data["held_back"],
        k_grid=[50, 300], seeds=[0, 1], headline_k=300, **FAST)


def test_every_arm_runs_at_every_k_and_the_result_is_complete(result):
    table = result.table
    combos = set(zip(table["method"], table["k"], table["seed"], strict=True))
    expected = {(arm, 0, s) for arm in ("baseline", "class_weights") for s in (0, 1)} | {
        (arm, k, s) for arm in ARMS[2:] for k in (50, 300) for s in (0, 1)}
    assert combos == expected and len(table) == len(expected)
    assert table.drop(columns="threshold").notna().all().all()
    assert (table["reference_precision"] == table["reference_precision"].iloc[0]).all()
    summary = result.summary()
    for prefix in ("", "class_weights_", "random_oversampling_", "smote_", "real_"):
        for name in ("pr_auc_gain", "recall_gain_at_base_precision", "validation_pr_auc_gain"):
            low, high = summary[f"{prefix}{name}_low"], summary[f"{prefix}{name}_high"]
            assert low <= high, (prefix, name)
        assert 0 <= summary[f"{prefix}brier"] <= 1
    assert summary["real_pr_auc_gain"] > 0 and summary["real_pr_auc_gain_low"] > 0
    assert set(result.arms["method"]) == set(ARMS[1:])
    # the advice's intervals are simultaneous: symmetric around the gain, and wider
    arms = result.arms
    gain, low, high = (arms[f"validation_pr_auc_gain{s}"] for s in ("", "_low", "_high"))
    np.testing.assert_allclose(high - gain, gain - low, atol=1e-9)
    assert len(gain_curve(table)) == 10


def test_thresholds_and_validation_scores_never_read_the_test_split(data, schema):
    """Scramble the test split: every test score may move, no choice may."""
    rng = np.random.default_rng(0)
    scrambled = data["test"].assign(y=rng.permutation(data["test"]["y"].to_numpy()),
                                    a=lambda d: d["a"] * -1)
    runs = [recall_gain_experiment(
        data["train"], test, schema, data["synthetic"], None, k_grid=[100], seeds=[0],
        headline_k=100, **FAST) for test in (data["test"], scrambled)]
    chosen = ["method", "k", "seed", "threshold", "reference_precision", "validation_pr_auc"]
    pd.testing.assert_frame_equal(runs[0].table[chosen], runs[1].table[chosen])
    gains = ["method", "k", "validation_pr_auc_gain", "validation_pr_auc_gain_low",
             "validation_pr_auc_gain_high"]
    pd.testing.assert_frame_equal(runs[0].arms[gains], runs[1].arms[gains])
    assert not runs[0].table["pr_auc"].equals(runs[1].table["pr_auc"])


def test_validation_rows_are_never_fitted_on(data, schema):
    """Validation rows given explicitly are scored, not fitted: the fit is the same
    whatever their labels say."""
    train = data["train"]
    validation = train.sample(300, random_state=1)
    flipped = train.copy()
    flipped.loc[validation.index, "y"] = 1 - flipped.loc[validation.index, "y"]
    tables = [recall_gain_experiment(
        t, data["test"], schema, None, None, k_grid=[50], seeds=[0], headline_k=50,
        validation=t.loc[validation.index], smote=False, **FAST).table for t in (train, flipped)]
    pd.testing.assert_series_equal(tables[0]["pr_auc"], tables[1]["pr_auc"])
    with pytest.raises(DataValidationError, match="validation rows must be rows of the "
                                                  "training split"):
        recall_gain_experiment(train, data["test"], schema, None, None, k_grid=[50], seeds=[0],
                               headline_k=50, validation=data["test"].set_axis(
                                   range(10_000, 10_000 + len(data["test"]))), **FAST)


def test_synthetic_k_beyond_supply_reports_k_used(data, schema):
    synth = data["synthetic"].iloc[:80].drop(columns="y")  # one minority class: y optional
    result = recall_gain_experiment(
        data["train"], data["test"], schema, synth, None,
        k_grid=[200], seeds=[0], headline_k=200, smote=False, **FAST)
    assert set(result.table["method"]) == {"baseline", "class_weights", "random_oversampling",
                                           "synthetic"}
    summary = result.summary()
    assert summary["k_used"] == 80 and summary["random_oversampling_k_used"] == 200
    assert not any(key.startswith(("real_", "smote_")) for key in result.summary())


def test_real_ceiling_does_not_depend_on_the_synthetic_rows(data, schema):
    def real_rows(synthetic: pd.DataFrame | None) -> pd.DataFrame:
        table = recall_gain_experiment(
            data["train"], data["test"], schema, synthetic, data["held_back"],
            k_grid=[100], seeds=[3], headline_k=100, smote=False, **FAST).table
        return table[table["method"] == "real"].reset_index(drop=True)

    pd.testing.assert_frame_equal(real_rows(None), real_rows(data["synthetic"]))


def test_multiclass_target_runs_one_vs_rest(data):
    extra = data["held_back"].iloc[:80].assign(y=2, a=lambda d: d["a"] - 3.0)
    train = pd.concat([data["train"], extra.iloc[:40]], ignore_index=True)
    test = pd.concat([data["test"], extra.iloc[40:]], ignore_index=True)
    schema = infer_schema(train, "y", minority_classes=[1, 2])
    held = pd.concat([data["held_back"], extra.iloc[:40]], ignore_index=True)
    result = recall_gain_experiment(train, test, schema, None, held, k_grid=[20], seeds=[0],
                                    headline_k=20, **FAST)
    assert set(result.table["method"]) == set(ARMS) - {"synthetic"}
    assert result.summary()["real_k_used"] == 20
    # each class's own gains, whose mean is the averaged figure
    assert set(result.class_gains) == {1, 2}
    mean = np.mean([result.class_gains[c]["real"] for c in (1, 2)])
    assert mean == pytest.approx(result.summary()["real_pr_auc_gain"])
    logged = result.metrics("utility.")
    assert logged["utility.class_2.smote_pr_auc_gain"] == result.class_gains[2]["smote"]
    assert logged["utility.class_1.class_weights_pr_auc_gain"] == \
        result.class_gains[1]["class_weights"]
    binary = recall_gain_experiment(data["train"], data["test"], infer_schema(data["train"], "y"),
                                    None, None, k_grid=[20], seeds=[0], headline_k=20, **FAST)
    assert not [name for name in binary.metrics() if name.startswith("class_1.")]  # one class


def test_the_threshold_is_the_highest_recall_at_the_reference_precision():
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    proba = np.array([0.9, 0.6, 0.55, 0.7, 0.1, 0.2, 0.3])
    assert _threshold(Ranked.of(y, proba), reference=1.0) == 0.9  # no false positive allowed
    assert _threshold(Ranked.of(y, proba), reference=0.75) == 0.55  # all three, one error
    assert _threshold(Ranked.of(y, proba), reference=1.01) == np.inf  # unreachable


def test_utility_rejects_a_bad_grid(data, schema):
    with pytest.raises(ConfigError, match=r"recall_gain_experiment: headline_k 20 is not in "
                       r"k_grid \[10\]; add it to the grid\."):
        recall_gain_experiment(data["train"], data["test"], schema, None, None,
                               k_grid=[10], seeds=[0], headline_k=20)
    with pytest.raises(ConfigError, match=r"recall_gain_experiment: k_grid is \[0\]"):
        recall_gain_experiment(data["train"], data["test"], schema, None, None,
                               k_grid=[0], seeds=[0], headline_k=0)


# ------------------------------------------------------------------ bootstrap intervals


def test_weighted_scores_equal_scikit_learns_on_the_resampled_rows():
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.1).astype(int)
    proba = np.round(rng.random(3000) * 0.5 + 0.3 * y, 2)  # ties
    ranked = Ranked.of(y, proba)
    w = next(resample_weights(len(y), 6, seed=1))
    batch = Resamples(w)
    ap, at_precision = batch.average_precision(ranked), batch.recall_at_precision(ranked, 0.4)
    for b in range(len(w)):
        rows = np.repeat(np.arange(len(y)), w[b])
        assert ap[b] == pytest.approx(average_precision_score(y[rows], proba[rows]), abs=1e-12)
        precision, recall, _ = precision_recall_curve(y[rows], proba[rows])
        assert at_precision[b] == pytest.approx(recall[precision >= 0.4].max(), abs=1e-12)


def test_a_row_of_weight_three_scores_as_three_copies_of_it():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.2).astype(int)
    proba = np.round(rng.random(400) * 0.6 + 0.3 * y, 2)  # ties
    weight = rng.integers(1, 4, 400).astype(float)
    ranked = Ranked.of(y, proba, weight)
    w = next(resample_weights(len(y), 4, seed=2))
    batch = Resamples(w)
    ap, recall, precision = (batch.average_precision(ranked), batch.recall_at(ranked, 0.5),
                             batch.precision_at(ranked, 0.5))
    for b in range(len(w)):
        rows = np.repeat(np.arange(len(y)), (w[b] * weight).astype(int))
        assert ap[b] == pytest.approx(average_precision_score(y[rows], proba[rows]), abs=1e-12)
        assert recall[b] == pytest.approx((proba[rows][y[rows] == 1] >= 0.5).mean())
        assert precision[b] == pytest.approx(y[rows][proba[rows] >= 0.5].mean())


def test_prevalence_weights_give_the_positives_the_declared_share():
    y = np.r_[np.ones(20), np.zeros(980)]
    weight = prevalence_weights(y, 0.14)
    assert weight[y == 1].sum() / weight.sum() == pytest.approx(0.14)
    assert (weight[y == 0] == 1).all()
    for bad in (0.0, 1.0, 1.4):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            prevalence_weights(y, bad)
    with pytest.raises(ValueError, match="both classes"):
        prevalence_weights(np.zeros(5), 0.1)


def test_after_a_scarce_cut_validation_reads_pr_auc_at_the_share_before_the_cut(data, schema):
    """The fixture keeps 40 minority rows of 440 (2.6 % of its training rows, 22.7 % before
    the cut); its test split has 20 %. Weighted to the share before the cut, the baseline's
    validation PR AUC is near its test PR AUC; read at the cut's share it is far below."""
    shares = deployment_shares(data["train"], data["held_back"], schema)
    assert shares == {1: pytest.approx(440 / 1940)}
    run = partial(recall_gain_experiment, data["train"], data["test"], schema, None,
                  data["held_back"], k_grid=[50], seeds=[0], headline_k=50, smote=False,
                  **FAST)

    def baseline(result):
        row = result.table[result.table["method"] == "baseline"].iloc[0]
        return row["validation_pr_auc"], row["pr_auc"]

    weighted_run = run()
    (weighted, test), (as_cut, same_test) = baseline(weighted_run), baseline(
        run(deployment_prevalence=40 / 1540))
    assert test == same_test  # test rows are never weighted
    assert abs(weighted - test) < 0.1 < test - as_cut
    # the share it was read at is logged
    assert weighted_run.metrics("utility.")["utility.validation_prevalence"] == pytest.approx(
        440 / 1940)
    # and the test rows' own share, the PR AUC of ranking at random, never weighted
    assert weighted_run.metrics("utility.")["utility.test_prevalence"] == pytest.approx(
        (data["test"]["y"] == 1).mean())


def test_deployment_shares_declared_or_from_the_cut(data, schema):
    train, held = data["train"], data["held_back"]
    assert deployment_shares(train, None, schema) == {1: None}  # no cut: rows as they are
    assert deployment_shares(train, held, schema, 0.05) == {1: 0.05}
    assert deployment_shares(train, None, schema, {"1": 0.05}) == {1: 0.05}  # keys as text
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        deployment_shares(train, None, schema, 1.5)
    with pytest.raises(ConfigError, match="names no share for the minority classes"):
        deployment_shares(train, None, schema, {})
    with pytest.raises(ConfigError, match=r"names \[3\], which are not minority classes"):
        deployment_shares(train, None, schema, {1: 0.05, 3: 0.1})
    three = infer_schema(pd.concat([train, held.assign(y=2)]), "y", minority_classes=[1, 2])
    with pytest.raises(ConfigError, match="one share, but the table has the minority"):
        deployment_shares(train, None, three, 0.05)


def test_the_interval_of_a_recall_difference_is_that_of_a_proportion():
    """The arm finds half the positives the baseline misses: the gain in recall is a
    proportion of the 2,000 positives, with a normal-approximation interval."""
    n_pos, n_neg = 2000, 2000
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    base = Ranked.of(y, np.zeros(len(y)))
    arm = Ranked.of(y, np.r_[np.tile([0.9, 0.1], n_pos // 2), np.zeros(n_neg)])
    gains = {"recall": [(lambda b: b.recall_at(arm, 0.5), lambda b: b.recall_at(base, 0.5))]}
    low, high = paired_intervals(gains, len(y), n_boot=2000, seed=0)["recall"]
    half_width = 1.96 * np.sqrt(0.25 / n_pos)
    assert low == pytest.approx(0.5 - half_width, abs=0.004)
    assert high == pytest.approx(0.5 + half_width, abs=0.004)
    same = {"same": [(lambda b: b.average_precision(arm), lambda b: b.average_precision(arm))]}
    assert paired_intervals(same, len(y), n_boot=50, seed=0)["same"] == (0.0, 0.0)


def test_batches_stay_within_their_cell_budget_and_give_the_same_intervals(monkeypatch):
    """A long test split is resampled in small batches (the classifiers' curves of a batch
    are all held at once): every batch within ``MAX_CELLS``, the draws and the intervals
    those of one big batch."""
    rng = np.random.default_rng(3)
    y = (rng.random(4001) < 0.05).astype(int)
    arms = [Ranked.of(y, rng.random(len(y)) + k * 0.1 * y) for k in range(3)]
    gains = {k: [(lambda b, r=r: b.average_precision(r),
                  lambda b: b.average_precision(arms[0]))] for k, r in enumerate(arms[1:])}
    wide = paired_intervals(gains, len(y), n_boot=60, seed=2)
    monkeypatch.setattr("synthbalance.core.metrics.bootstrap.MAX_CELLS", 3 * len(y))
    shapes = [w.shape for w in resample_weights(len(y), 60, seed=2)]
    assert max(rows * cols for rows, cols in shapes) <= 3 * len(y)
    assert sum(rows for rows, _ in shapes) == 60
    assert paired_intervals(gains, len(y), n_boot=60, seed=2) == wide


def test_simultaneous_intervals_widen_with_the_number_of_gains_they_cover():
    """The same recall gain as above: alone, about the proportion's interval; among 13
    gains, wider by the Bonferroni quantile (z = 3.03 against 1.96)."""
    from synthbalance.core.metrics.bootstrap import simultaneous_intervals

    n_pos = 2000
    y = np.r_[np.ones(n_pos), np.zeros(n_pos)]
    base = Ranked.of(y, np.zeros(len(y)))
    arm = Ranked.of(y, np.r_[np.tile([0.9, 0.1], n_pos // 2), np.zeros(n_pos)])
    pair = (lambda b: b.recall_at(arm, 0.5), lambda b: b.recall_at(base, 0.5))
    alone = simultaneous_intervals({"g": [pair]}, len(y), 1000, seed=0)["g"]
    among = simultaneous_intervals({i: [pair] for i in range(13)}, len(y), 1000, seed=0)[0]
    se = np.sqrt(0.25 / n_pos)
    assert alone == pytest.approx((0.5 - 1.96 * se, 0.5 + 1.96 * se), abs=0.003)
    assert among == pytest.approx((0.5 - 3.03 * se, 0.5 + 3.03 * se), abs=0.004)
