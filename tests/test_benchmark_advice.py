"""The advice benchmark, small: two settings, one seed, a row sample, one epoch."""

from __future__ import annotations

import json
import subprocess

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
