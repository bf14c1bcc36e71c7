"""benchmarks.privacy end to end on the built-in table: cells, records, resume, the section."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import privacy
from benchmarks._privacy_report import TITLE, render
from benchmarks._sections import keep_sections

OTHER = "# Benchmark over several tables\n\nSomeone else's text.\n"


def _run(tmp_path):
    return privacy.main([
        "--tables", "demo", "--epsilons", "inf", "4", "--rows", "2000", "--epochs", "1",
        "--min-steps", "0", "--trees", "5", "--n-boot", "20", "--isolation", "none",
        "--generator", '{"vae_lr": 0.005, "latent_dim": 4}',
        "--records", str(tmp_path / "records.jsonl"), "--out", str(tmp_path / "bench.md")])


def test_privacy_benchmark_records_and_section(tmp_path):
    (tmp_path / "bench.md").write_text(OTHER)
    out = _run(tmp_path)
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    records = {(r["method"], r["epsilon"]): r for r in map(json.loads, lines)}
    assert set(records) == {("reference", None), ("cvae", None), ("cvae", 4.0)}
    plain, dp = records["cvae", None]["seeds"][0], records["cvae", 4.0]["seeds"][0]
    assert plain["epsilon_spent"] is None
    assert 0 < dp["epsilon_spent"] <= 4.0 and 0 < dp["delta"] < 1
    for seed in (plain, dp):
        for key in ("dcr_auc", "dcr_tpr_at_fpr10", "domias_auc", "domias_tpr_at_fpr10",
                    "exact_copy_share", "holdout_exact_copy_share"):
            assert 0 <= seed[f"privacy.{key}"] <= 1, key
        assert seed["s_per_epoch"] > 0
    assert any(a["method"] == "smote" for a in records["reference", None]["arms"])
    assert all(r["ks"] == [r["minority_train_rows"]] for r in records.values())
    for seed in (plain, dp):  # --generator reached the generator; the budget keys won
        assert seed["config"]["vae_lr"] == 0.005 and seed["config"]["latent_dim"] == 4
        assert seed["config"]["epochs"] == seed["epochs"]
    assert dp["config"]["privacy"]["epsilon"] == 4.0 and plain["config"]["privacy"] is None
    text = out.read_text()
    assert text.startswith(OTHER) and text.count(f"## {TITLE}") == 1
    assert "| 4 | " in text and "| ∞ (no DP) | " in text and "| SMOTE (no privacy) |" in text
    assert "ε = 4: PR AUC gain >= SMOTE's" in text
    verdicts = ("| met |", "| missed |", "| not shown (noise) |")
    assert sum(text.count(v) for v in verdicts) == 3  # vs SMOTE, no DP, ε = 4

    _run(tmp_path)  # resumes: nothing re-run, the section replaced, not added
    assert len((tmp_path / "records.jsonl").read_text().splitlines()) == len(lines)
    again = out.read_text()
    assert again.count(f"## {TITLE}") == 1 and again.startswith(OTHER)


def test_tables_report_keeps_the_privacy_section():
    old = OTHER + "\n<!-- begin privacy -->\n## DP\nfigures\n<!-- end privacy -->\n"
    new = keep_sections(old, "# Benchmark over several tables\n\nnew text\n")
    assert new.startswith("# Benchmark over several tables\n\nnew text\n")
    assert new.count("<!-- begin privacy -->\n## DP\nfigures\n<!-- end privacy -->") == 1
    assert "Someone else's text" not in new
    assert keep_sections(old, old) == old


def test_epsilon_option_refuses_a_non_positive_budget(capsys):
    with pytest.raises(SystemExit):
        privacy.parse_args(["--epsilons", "0"])
    assert "an ε must be > 0" in capsys.readouterr().err
    assert math.isinf(privacy.parse_args(["--epsilons", "inf"]).epsilons[0])


@pytest.mark.parametrize(("text", "says"), [
    ("{vae_lr: 1}", "Expecting property name"),
    ('["vae_lr"]', "give an object of settings"),
    ('{"vae_rate": 0.01}', "vae_rate"),
    ('{"vae_lr": -1}', "vae_lr"),
])
def test_generator_option_refuses_bad_settings(capsys, text, says):
    with pytest.raises(SystemExit):
        privacy.parse_args(["--generator", text])
    assert says in capsys.readouterr().err


def _cell(method, epsilon, gain, auc, tpr, members=80):
    arm = {"k": 100, "pr_auc_gain": gain, "pr_auc_gain_low": gain - 0.01,
           "pr_auc_gain_high": gain + 0.01, "pr_auc_baseline": 0.4}
    seed = {"epochs": 1, "s_per_epoch": 2.0, "epsilon_spent": epsilon, "detection_accuracy": 0.6,
            "wasserstein_mean": 0.1, "privacy.dcr_auc": 0.5, "privacy.domias_auc": auc,
            "privacy.dcr_tpr_at_fpr10": tpr, "privacy.domias_tpr_at_fpr10": 0.1,
            "privacy.exact_copy_share": 0.0, "privacy.holdout_exact_copy_share": 0.01,
            "privacy.members": members}
    return {"table": "t", "method": method, "epsilon": epsilon, "ks": [100],
            "minority_train_rows": 100, "train_rows": 1000, "worker_s": 1.0,
            "arms": [{**arm, "method": "smote" if method == "reference" else "synthetic"}],
            "seeds": [seed], "smote_quality": {}}


def test_verdicts_follow_the_targets():
    meta = {"command": "c", "date": "d", "session_s": 1.0,
            "options": {"epochs": 1, "min_steps": 0, "max_epochs": 1, "seeds": 1, "trees": 1,
                        "n_boot": 1, "rows": None}}
    # 800 members: a coin flip's spread is 0.010 (AUC) and 0.011 (TPR), below these gaps
    cells = [_cell("reference", None, 0.01, 0, 0),
             _cell("cvae", None, 0.03, 0.56, 0.12, 800),
             _cell("cvae", 4.0, 0.02, 0.52, 0.10), _cell("cvae", 1.0, 0.0, 0.57, 0.10)]
    text = render(cells, meta)
    assert "| t | ε = 4: PR AUC gain >= SMOTE's (k = 100) | met |" in text
    assert "| t | no DP: attack AUC <= 0.55, TPR at 10 % FPR <= 0.15 | missed | AUC 0.560" in text
    assert "| t | ε = 4: attack AUC and TPR lower than without DP | met |" in text
    assert "| t | ε = 1: attack AUC and TPR lower than without DP | missed |" in text
    # 80 members (spreads 0.046 and 0.034): gaps of 0.04 and 0.02 show neither
    cells[1] = _cell("cvae", None, 0.03, 0.56, 0.12, 80)
    noisy = render(cells, meta)
    assert ("| t | ε = 4: attack AUC and TPR lower than without DP | not shown (noise) | "
            "AUC 0.520 vs 0.560, TPR 0.100 vs 0.120; both differences within 1 sd") in noisy
    cells[2] = _cell("cvae", 4.0, 0.005, 0.52, 0.10)  # below SMOTE's +0.01
    assert "| t | ε = 4: PR AUC gain >= SMOTE's (k = 100) | missed |" in render(cells, meta)
