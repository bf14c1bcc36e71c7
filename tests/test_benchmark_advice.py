"""The advice benchmark, small: two settings, one seed, a row sample, one epoch."""

from __future__ import annotations

import json
import subprocess

from scipy.stats import norm

from benchmarks._advice_report import _power, _yardsticks
from benchmarks._git import git_sha
from benchmarks.advice import main


def test_cells_are_recorded_resumed_and_reported(tmp_path):
    records, out = tmp_path / "cells.jsonl", tmp_path / "advice.md"
    argv = ["--settings", "demo", "brfss-100", "--seeds", "1", "--epochs", "1", "--rows",
            "4000", "--trees", "20", "--n-boot", "50", "--threads", "1",
            "--records", str(records), "--out", str(out)]
    assert main(argv) == out
    cells = [json.loads(line) for line in records.read_text().splitlines()]
    assert [(c["setting"], c["seed"]) for c in cells] == [("demo", 0), ("brfss-100", 0)]
    for cell in cells:
        methods = {arm["method"] for arm in cell["arms"]}
        assert {"class_weights", "random_oversampling", "smote", "synthetic"} <= methods
        assert cell["advice"]["arm"] in ("none", "class_weights", "random_oversampling",
                                         "smote", "synthetic")
    assert "real" in {arm["method"] for arm in cells[1]["arms"]}  # the scarce cut's ceiling
    report = out.read_text()
    assert "## Targets" in report and "| brfss-100 | 0 |" in report
    for cell in cells:  # a "none" cell names the best candidate it did not advise
        if cell["advice"]["arm"] == "none":
            assert f"| — | {cell['advice']['best_rejected']} |" in report
    assert "held-back real rows" in report
    first = records.read_text()
    main(argv)  # every cell is on record: nothing runs again
    assert records.read_text() == first


def test_records_name_the_commit_in_a_linked_worktree_too(tmp_path):
    """Benchmarks run from a worktree (so that merges leave the code under them alone):
    their records must still name the commit, not ``unknown``."""
    repo, linked = tmp_path / "repo", tmp_path / "linked"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    repo.mkdir()
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "f").write_text("x")
    subprocess.run([*git, "add", "f"], check=True)
    subprocess.run([*git, "commit", "-qm", "c"], check=True)
    subprocess.run([*git, "worktree", "add", "-q", "--detach", str(linked)], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    assert git_sha(repo) == git_sha(linked) == head
    assert git_sha(tmp_path / "nowhere") == "unknown"


def _cell(setting, seed, gains, se=0.01):
    """A recorded cell whose candidates have the given (test, validation) gains, and
    simultaneous validation intervals of standard error ``se``."""
    z = norm.ppf(1 - 0.05 / (2 * len(gains)))
    arms = [{"method": method, "k": k, "pr_auc_gain": test, "validation_pr_auc_gain": val,
             "validation_pr_auc_gain_low": val - z * se,
             "validation_pr_auc_gain_high": val + z * se}
            for (method, k), (test, val) in gains.items()]
    return {"setting": setting, "seed": seed, "headline_k": 100, "arms": arms}


def test_yardsticks_score_the_validation_argmax_and_the_best_fixed_candidate():
    # seed 0: validation points at smote, which costs 0.01 on test; synthetic is best (0.02)
    # seed 1: validation points at synthetic 2x (0.03 on test, the best)
    cells = [
        _cell("s", 0, {("smote", 100): (-0.01, 0.05), ("synthetic", 200): (0.02, 0.01)}),
        _cell("s", 1, {("smote", 100): (0.00, 0.00), ("synthetic", 200): (0.03, 0.04)}),
    ]
    text = "\n".join(_yardsticks(cells))
    # argmax: shortfalls 0.02 - (-0.01) = 0.03 and 0; one cell below the baseline
    assert "no interval: mean shortfall 0.0150, 1 of 2 cells" in text
    # the fixed candidate of highest mean test gain is synthetic 2x: no shortfall
    assert "mean shortfall 0.0000 (s synthetic 2x)" in text
    assert "would meet the target (0.0000 <= 0.005)" in text


def test_power_says_which_settings_no_validation_can_confirm_and_what_that_costs():
    # a: synthetic 2x gains 0.015, se 0.01: one split's bar 1.96 * 0.01 = 0.0196 is not
    #    reached, five folds' 0.0196 / sqrt(5) = 0.0088 is
    # b: synthetic 2x gains 0.01, se 0.02: bar 0.0175, out of reach (none: shortfall 0.01)
    cells = [_cell(name, seed, {("smote", 100): (-0.01, 0.0), ("synthetic", 200): (gain, gain)},
                   se)
             for name, gain, se in (("a", 0.015, 0.01), ("b", 0.01, 0.02)) for seed in (0, 1)]
    text = "\n".join(_power(cells))
    # z of two simultaneous intervals: 2.2414
    assert "| a | synthetic 2x | 0.0150 | 0.0100 | 0.0196 | 0.0224 | 0.0088 | 0.0100 |" in text
    assert "| b | synthetic 2x | 0.0100 | 0.0200 | 0.0392 |" in text
    # one split, simultaneous (z 2.2414): a 0.0224, b 0.0448; the best mean test gain 0.015
    assert ("exceeds about 0.022 (a) to 0.045 (b). The best candidates' mean test gains "
            "here are at most 0.015") in text
    assert "per-candidate bar (b), no use" in text
    assert "in hindsight by 0.0050 on average" in text  # (0 for a + 0.01 for b) / 2
    assert "instead of each cell's, by 0.0050." in text  # b's fixed candidate gains 0.01


def test_power_shows_the_held_back_real_rows_as_the_ceiling():
    # real 1x gains 0.019 with se 0.02: 5-fold bars 0.0175 (per candidate, cleared) and
    # 0.0200 (simultaneous over two arms: z 2.2414); real 2x gains 0.05: clears both
    cells = [_cell("c", seed, {("smote", 100): (0.0, 0.0), ("real", 100): (0.019, 0.02)}, 0.02)
             for seed in (0, 1)]
    cells += [_cell("d", seed, {("smote", 100): (0.0, 0.0), ("real", 200): (0.05, 0.05)}, 0.02)
              for seed in (0, 1)]
    text = "\n".join(_power(cells))
    assert "| c | real 1x | 0.0190 | 0.0200 | 0.0392 | 0.0448 | 0.0175 | 0.0200 |" in text
    assert ("clear the 5-fold per-candidate bar: c real 1x, d real 2x; the simultaneous "
            "one: d real 2x.") in text
    # nothing but none helps on average in c and d: no bar, and none is the answer there
    assert "per-candidate bar (c, d), no use" in text
    without = "\n".join(_power([c for c in cells if c["setting"] == "c"][:1] + [
        _cell("e", 0, {("smote", 100): (0.0, 0.0), ("synthetic", 100): (0.01, 0.01)})]))
    assert "held-back real rows" in without and "| e | real" not in without
