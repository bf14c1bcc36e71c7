"""Known answers for the advice: augment where added rows help, not where labels are noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthbalance.core.advice import (
    ADDED_COLUMN,
    Advice,
    advise,
    augmented_rows,
    privacy_warning,
    rows_summary,
    verdict,
)
from synthbalance.core.metrics import recall_gain_experiment
from synthbalance.core.metrics.attacks import ATTACK_FPR, chance_spread, tpr_at_fpr
from synthbalance.core.schema import infer_schema

FAST = {"xgb_params": {"n_estimators": 100, "max_depth": 4}, "n_jobs": 1, "n_boot": 300}
CENTRES = np.random.default_rng(99).normal(0, 2.5, (30, 6))


def _table(seed: int, signal: bool) -> dict[str, pd.DataFrame]:
    """Minority rows in 30 tight clusters (``signal``) or drawn like the majority (noise).

    The fitting rows hold 60 minority rows, too few to cover the clusters; the validation
    rows (given explicitly) hold 300, so the choice is not left to chance.
    """
    rng = np.random.default_rng(seed)

    def draw(n: int, label: int) -> pd.DataFrame:
        if label and signal:
            x = CENTRES[rng.integers(0, 30, n)] + rng.normal(0, 0.6, (n, 6))
        else:
            x = rng.normal(0, 2.0, (n, 6))
        return pd.DataFrame({**{f"x{i}": x[:, i] for i in range(6)}, "y": label})

    fit = pd.concat([draw(5000, 0), draw(60, 1)], ignore_index=True)
    train = pd.concat([fit, draw(3000, 0), draw(300, 1)], ignore_index=True)
    return {"train": train, "validation": train.iloc[len(fit):],
            "test": pd.concat([draw(3000, 0), draw(300, 1)], ignore_index=True),
            "more": draw(2000, 1)}


def _advice(seed: int, signal: bool) -> Advice:
    data = _table(seed, signal)
    schema = infer_schema(data["train"], "y")
    result = recall_gain_experiment(
        data["train"], data["test"], schema, data["more"], None, [500, 2000], [0], 2000,
        validation=data["validation"], **FAST)
    return advise(result.arms, result.summary()["pr_auc_baseline"])


@pytest.mark.parametrize("seed", [0, 1])
def test_where_added_real_rows_help_the_advice_is_to_add_them(seed):
    """The "synthetic" rows here are fresh real minority rows: a perfect generator."""
    advice = _advice(seed, signal=True)
    assert advice.arm == "synthetic" and advice.k in (500, 2000)
    assert advice.validation_pr_auc_gain_low > 0 and advice.test_pr_auc_gain > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_where_the_labels_are_noise_the_advice_is_not_to_augment(seed):
    advice = _advice(seed, signal=False)
    assert advice.arm == "none" and advice.k == 0 and advice.test_pr_auc_gain == 0.0
    assert advice.best_rejected  # the verdict can say what came closest


def _arms(**gains: tuple[float, float]) -> pd.DataFrame:
    """An arms table with the given validation gains and lower bounds (method@k keys)."""
    rows = []
    for key, (gain, low) in gains.items():
        method, k = key.rsplit("_at_", 1)
        rows.append({"method": method, "k": int(k), "validation_pr_auc_gain": gain,
                     "validation_pr_auc_gain_low": low, "validation_pr_auc_gain_high": 2 * gain,
                     "pr_auc_gain": gain / 2, "pr_auc_gain_low": 0.0, "pr_auc_gain_high": gain})
    return pd.DataFrame(rows)


def test_the_best_validated_candidate_wins_and_real_rows_are_never_advised():
    arms = _arms(real_at_100=(0.5, 0.4), smote_at_100=(0.02, 0.01),
                 synthetic_at_100=(0.03, -0.01), class_weights_at_0=(0.015, 0.005))
    advice = advise(arms, pr_auc_baseline=0.3)
    assert (advice.arm, advice.k, advice.validation_pr_auc_gain) == ("smote", 100, 0.02)
    assert advise(_arms(smote_at_10=(0.02, 0.01), smote_at_100=(0.02, 0.01)), 0.3).k == 10
    assert advise(_arms(class_weights_at_0=(0.01, 0.001)), 0.3).arm == "class_weights"


def test_a_perfect_validation_baseline_is_said_as_such_not_as_a_zero_gain_candidate():
    """Validation PR AUC 1.0 leaves no gain to find: every arm reads +0.0000 [+0.0000,
    +0.0000], and the verdict says why and what it may mean (a column giving the label
    away) instead of naming one of them the best candidate."""
    arms = _arms(class_weights_at_0=(0.0, 0.0), synthetic_at_331=(0.0, 0.0))
    perfect = advise(arms, 1.0, validation_pr_auc_baseline=1.0)
    assert (perfect.arm, perfect.best_rejected, perfect.synthetic_best) == ("none", "", "")
    said = verdict(perfect, "p")
    assert said.startswith("Advice: do not augment. The classifier trained on the real rows "
                           "alone already ranks every validation minority row above every "
                           "other row (validation PR AUC 1.0000; test 1.0000)")
    assert "ingest.drop_columns" in said and "best candidate" not in said
    # no column found: none named, nor a leak suspected; few rows rank perfectly too
    assert "Here each value" not in said and "often means a column gives" not in said
    assert "No column gives the label away by itself" in said
    few = verdict(perfect, "p", validation_minority=5)
    assert "ranks all 5 validation minority rows above every other row" in few
    assert "so no arm can raise it on those rows" in few
    named = verdict(perfect, "p", proxies=["status", "code"])
    assert "A score this perfect often means a column gives the label away" in named
    assert ("Here each value of status, code, or whether it is filled in, occurs with one "
            "class only.") in named
    assert "drop it (ingest.drop_columns=[status, code]) and run again" in named
    assert Advice.from_dict(perfect.to_dict()) == perfect
    # short of perfect, or not given (a benchmark cell): the usual advice
    for near in (0.999, None):
        usual = advise(arms, 1.0, validation_pr_auc_baseline=near)
        assert "best candidate: class_weights with k = 0" in verdict(usual, "p")
    # a perfect baseline does not hide an arm a caller's table says gained (it cannot)
    assert advise(_arms(smote_at_100=(0.02, 0.01)), 1.0, 1.0).arm == "none"


def test_the_advice_keeps_the_synthetic_rows_best_when_another_arm_leads():
    smote_leads = advise(_arms(smote_at_100=(0.02, 0.01), synthetic_at_100=(0.012, -0.01),
                               synthetic_at_500=(0.015, -0.02)), 0.3)
    assert smote_leads.synthetic_best == "k = 500: +0.0150 [-0.0200, +0.0300]"
    said = verdict(smote_leads, "p")
    assert ("validation PR AUC +0.0200 [+0.0100, +0.0400] (synthetic rows at their best, "
            "k = 500: +0.0150 [-0.0200, +0.0300]), on the test split") in said
    none = advise(_arms(smote_at_100=(0.02, -0.01), synthetic_at_100=(0.01, -0.02)), 0.3)
    assert none.arm == "none" and none.synthetic_best.startswith("k = 100: +0.0100")
    assert ("(best candidate: smote with k = 100: +0.0200 [-0.0100, +0.0400]; synthetic rows "
            "at their best, k = 100: +0.0100 [-0.0200, +0.0200])") in verdict(none, "p")
    # the synthetic rows lead: already said, not repeated
    assert advise(_arms(smote_at_100=(0.01, 0.005), synthetic_at_100=(0.02, 0.01)),
                  0.3).synthetic_best == ""
    assert advise(_arms(smote_at_100=(0.01, -0.01), synthetic_at_100=(0.02, -0.01)),
                  0.3).synthetic_best == ""
    assert "ranking at random" not in verdict(none, "p")
    assert "(baseline test PR AUC 0.3000, 0.0850 ranking at random)" in verdict(
        none, "p", chance=0.085)


def test_the_advised_training_set_marks_exactly_the_added_rows():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300),
                          "y": (rng.random(300) < 0.2).astype(int)})
    schema = infer_schema(train, "y")
    synthetic = train[train["y"] == 1].assign(x=lambda d: d["x"] + 100.0)
    for arm, k in (("none", 0), ("class_weights", 0), ("random_oversampling", 25),
                   ("smote", 25), ("synthetic", 25)):
        advice = Advice(arm, k, 0.1, 0.05, 0.2, 0.08, 0.01, 0.15, 0.4)
        rows = augmented_rows(advice, train, synthetic, schema, seed=0)
        added = rows[rows[ADDED_COLUMN]]
        assert len(rows) == len(train) + k and len(added) == k, arm
        pd.testing.assert_frame_equal(rows.iloc[: len(train)].drop(columns=ADDED_COLUMN),
                                      train.reset_index(drop=True))
        assert (added["y"] == 1).all(), arm
        if arm == "synthetic":
            assert (added["x"] > 50).all()
        if arm == "random_oversampling":  # copies of real minority rows
            assert set(added["x"]) <= set(train.loc[train["y"] == 1, "x"])


def test_the_verdict_says_what_to_do_with_its_numbers_and_where_the_rows_are():
    path = "data/05_model_input/augmented_train.parquet"
    add = verdict(Advice("synthetic", 500, 0.012, 0.004, 0.02, 0.008, -0.001, 0.017, 0.4),
                  path)
    assert "add 500 synthetic rows" in add and "+0.0120 [+0.0040, +0.0200]" in add
    assert "+0.0080" in add and path in add and ADDED_COLUMN in add
    assert "unconfirmed" not in add  # the test split agrees
    # a README trial: augment on validation, -0.0217 [-0.0479, +0.0017] on the test split
    against = verdict(Advice("synthetic", 421, 0.0616, 0.0068, 0.1164, -0.0217, -0.0479,
                             0.0017, 0.4), path)
    assert "on the test split -0.0217 [-0.0479, +0.0017]. On the test split the gain reads " \
           "below 0: it did not hold on these fresh rows, so treat it as unconfirmed" in against
    weights = verdict(Advice("class_weights", 0, 0.01, 0.002, 0.02, 0.01, 0.0, 0.02, 0.4),
                      path, class_weight=6.25)
    assert "scale_pos_weight = 6.25" in weights
    none = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4, "smote with k = 10: ..."), path)
    assert none.startswith("Advice: do not augment") and "smote with k = 10" in none
    assert none.endswith(f"{path} (drop the column synthbalance_added, False on every row, "
                         "before training).")
    assert "too few to confirm" not in none  # its best candidate did not gain
    assert "recall gain above 0 in metrics.csv (utility.*recall_gain) does not contradict" \
        in none  # two README trials read it as a win the advice had missed
    unsure = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4, "synthetic with k = 600: "
                            "+0.0271 [-0.0620, +0.1161]", 0.0271), path)
    assert "too few to confirm this gain" in unsure  # not "there is no gain"
    zero = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4, "random_oversampling with k = "
                          "169: +0.0000 [-0.0465, +0.0465]", 2.1e-5), path)
    assert "too few to confirm" not in zero  # a gain that prints as +0.0000 is not one
    assert "deployment prevalence" not in unsure  # validation rows not weighted: not said
    weighted = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4), path, prevalence=0.1393)
    assert weighted.startswith(verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4), path))
    assert weighted.endswith("weigh minority rows to a share of 13.9 %, the deployment "
                             "prevalence (docs/metrics.md); the test split counts its rows "
                             "as they are.")
    cut = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4), path, prevalence=0.1393,
                  source="before_cut")
    assert "13.9 %, the deployment prevalence, the training split's minority share before " \
           "the scarce cut (docs/metrics.md)" in cut
    declared = verdict(Advice("none", 0, 0, 0, 0, 0, 0, 0, 0.4), path, prevalence=0.05,
                       source="declared")
    assert "5.0 %, the deployment prevalence, as evaluation.deployment_prevalence declares" \
           in declared


def test_with_several_minority_classes_the_verdict_says_its_figures_are_their_mean():
    advice = Advice("synthetic", 230, 0.1, 0.05, 0.2, 0.08, 0.01, 0.15, 0.4)
    said = verdict(advice, "augmented.parquet", minority=("readmitted_30d", "died"))
    assert "With 2 minority classes (readmitted_30d, died), each PR AUC is the mean over " \
           "their one-vs-rest classifiers, and k counts the rows added to each class; each " \
           "class's own test gains are utility.class_<class>.*" in said
    assert "minority classes" not in verdict(advice, "augmented.parquet", minority=(1,))


def test_the_rows_summary_says_each_figure_beside_what_it_reads_without_a_leak():
    path = "data/07_model_output/synthetic_rows.parquet"
    metrics = {"detection.accuracy": 0.6123, "detection.accuracy_low": 0.58,
               "detection.accuracy_high": 0.64, "detection.scored_rows": 1234.0,
               "detection.reference_accuracy": 0.503, "fidelity.wasserstein_mean": 0.0456,
               "privacy.attack_members": 800.0, "privacy.dcr_auc": 0.512,
               "privacy.dcr_tpr_at_fpr10": 0.111, "privacy.domias_auc": 0.534,
               "privacy.domias_tpr_at_fpr10": 0.142, "privacy.mia_auc": 0.534}
    said = rows_summary(metrics, path)
    assert said.startswith(f"The synthetic rows ({path}): an xgboost classifier tells them")
    assert "accuracy 0.612 [0.580, 0.640] on 1,234 held-out rows, real and synthetic (0.5: " \
           "not at all; real training rows score 0.503 in the same test, about what a " \
           "perfect generator would, within the same noise)" in said
    assert "distance to the real test rows 0.046" in said
    assert "over 800 training rows and as many unseen ones: DCR AUC 0.512, TPR at 10 % FPR " \
           "0.111; DOMIAS AUC 0.534, TPR at 10 % FPR 0.142 (0.5 and 0.10: they learn " \
           "nothing; the targets are at most 0.55 and 0.15" in said
    # DOMIAS is not logged with fewer than 20 reference rows: left out, not printed as nan
    fewer = rows_summary({k: v for k, v in metrics.items() if "domias" not in k}, path)
    assert "DCR AUC 0.512" in fewer and "DOMIAS" not in fewer
    assert "nan" not in rows_summary({**metrics, "privacy.domias_auc": float("nan")}, path)
    assert rows_summary({"privacy.mia_auc": 0.5}, path) == ""


def test_attack_figures_above_their_targets_are_said_as_chance_or_as_more_than_chance():
    """A trial's run read DCR AUC 0.590 and TPR 0.195 on 128 rows a side beside targets
    of 0.55 and 0.15, and the paragraph did not say they were above them."""
    path = "synthetic_rows.parquet"
    trial = {"privacy.attack_members": 128.0, "privacy.dcr_auc": 0.590,
             "privacy.dcr_tpr_at_fpr10": 0.195, "privacy.domias_auc": 0.52,
             "privacy.domias_tpr_at_fpr10": 0.12}
    few = rows_summary(trial, path)
    assert "DCR AUC and DCR TPR are above their targets but within what a coin flip " \
           "reaches on 128 rows a side (up to AUC 0.61 and TPR 0.21" in few
    assert "neither show a leak nor rule one out: for rows that must stay private, train " \
           "with training.privacy" in few and "DOMIAS AUC and" not in few
    many = rows_summary({**trial, "privacy.attack_members": 1000.0}, path)
    assert "DCR AUC and DCR TPR are above their targets and above what a coin flip " \
           "reaches on 1,000 rows a side (up to AUC 0.54 and TPR 0.14" in many
    assert "tell something about the rows they were trained on" in many
    within = rows_summary({**trial, "privacy.dcr_auc": 0.55, "privacy.dcr_tpr_at_fpr10": 0.15},
                          path)
    assert "target" in within and "coin flip" not in within  # at the targets: nothing to add


def test_the_tpr_spread_of_a_coin_flip_attack_is_what_simulation_reads():
    """Both samples add their variance: the threshold is the non-members' own quantile."""
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], 128)
    reads = [tpr_at_fpr(labels, rng.random(256), ATTACK_FPR) for _ in range(2000)]
    assert chance_spread(128)[1] == pytest.approx(np.std(reads), rel=0.1)


def test_the_privacy_warning_names_each_leak_and_is_silent_without_one():
    path = "data/07_model_output/synthetic_rows.parquet"
    clean = {"privacy.unique_row_copies": 0.0, "privacy.unique_row_copies_beyond_chance": 0.0,
             "privacy.unique_row_chance_share": 0.0, "privacy.mia_auc": 0.59}
    assert privacy_warning(clean, path) == ""
    assert privacy_warning({"privacy.mia_auc": float("nan")}, path) == ""  # no attack ran
    # copies of unique rows that chance explains (a coarse table): no warning
    assert privacy_warning({**clean, "privacy.unique_row_copies": 23.0,
                            "privacy.unique_row_chance_share": 0.06}, path) == ""
    one = privacy_warning({**clean, "privacy.unique_row_copies": 1.0,
                           "privacy.unique_row_copies_beyond_chance": 1.0}, path)
    assert one.startswith("Privacy: 1 synthetic row equals a training row") and path in one
    assert "which no real row here does by chance" in one
    coarse = privacy_warning({**clean, "privacy.unique_row_copies": 40.0,
                              "privacy.unique_row_copies_beyond_chance": 12.0,
                              "privacy.unique_row_chance_share": 0.06}, path)
    assert "40 synthetic rows equal" in coarse and "12 more than chance explains" in coarse
    assert "6.0 % of the time" in coarse
    attack = privacy_warning({**clean, "privacy.mia_auc": 0.6}, path)
    assert "with AUC 0.600 (privacy.mia_auc" in attack and "unique_row_copies" not in attack
    # each trigger with its own fix: copies are dropped, an attack needs another training
    assert "training.patience=null" in attack and "drop the rows" not in attack
    assert "drop the rows that copy a unique real row" in one
    assert "training.patience=null" not in one


def test_the_attack_warning_is_not_set_off_by_what_chance_reads_on_few_rows():
    """On 20 attacked members a coin flip's AUC has standard deviation 0.09: 0.7 is
    chance there, a leak on 800 rows (where 0.6 already warns)."""
    path = "synthetic_rows.parquet"
    few = {"privacy.mia_auc": 0.7, "privacy.attack_members": 20.0}
    assert privacy_warning(few, path) == ""
    leak = privacy_warning({**few, "privacy.mia_auc": 0.8}, path)
    assert "AUC 0.800 (privacy.mia_auc over 20 training rows" in leak and "from 0.78" in leak
    many = privacy_warning({"privacy.mia_auc": 0.6, "privacy.attack_members": 800.0}, path)
    assert "over 800 training rows" in many and "from 0.60" in many
