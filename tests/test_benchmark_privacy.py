"""benchmarks.privacy end to end on the built-in table: cells, records, resume, the section."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import privacy
from benchmarks._privacy_report import TITLE
from benchmarks._sections import keep_sections

OTHER = "# Benchmark over several tables\n\nSomeone else's text.\n"


def _run(tmp_path):
    return privacy.main([
        "--tables", "demo", "--epsilons", "inf", "4", "--rows", "2000", "--epochs", "1",
        "--min-steps", "0", "--trees", "5", "--n-boot", "20", "--isolation", "none",
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
    text = out.read_text()
    assert text.startswith(OTHER) and text.count(f"## {TITLE}") == 1
    assert "| 4 | " in text and "| ∞ (no DP) | " in text and "| SMOTE (no privacy) |" in text
    assert "ε = 4: PR AUC gain >= SMOTE's" in text
    assert text.count("| met |") + text.count("| missed |") == 3  # vs SMOTE, no DP, ε = 4

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
