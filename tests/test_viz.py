"""kedro-viz builds the real project and shows its pipelines and per-class branches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

KEDRO = Path(sys.executable).with_name("kedro")


def _build(project: Path) -> dict:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    subprocess.run([str(KEDRO), "viz", "build"], cwd=project, env=env, check=True,
                   capture_output=True, timeout=300)
    return json.loads((project / "build/api/main").read_text())


def test_viz_build_shows_every_pipeline_and_a_branch_per_class(project):
    main = _build(project)
    pipelines = {p["id"] for p in main["pipelines"]}
    assert {"ingest", "profiling", "preprocessing", "training", "sampling",
            "postprocessing", "evaluation", "smote_reference"} <= pipelines
    names = {n["name"] for n in main["nodes"]}
    assert {"validate_raw_table", "profile_table", "split_rows", "fit_transformer"} <= names
    modular = {n["name"] for n in main["nodes"] if n["type"] == "modularPipeline"}
    assert modular == {"conditional"}
    # the comparison grid: one modular pipeline per cell, each with its generator branch
    grid = json.loads((project / "build/api/pipelines/grid").read_text())
    cells = {n["name"] for n in grid["nodes"] if n["type"] == "modularPipeline"}
    assert {"grid", "grid.vae_per_class_seed42", "grid.vae_per_class_seed42.minority",
            "grid.cvae_conditional_seed42.conditional"} <= cells and len(cells) == 15

    # per_class with two listed minority classes: one branch per class in the graph
    (project / "conf/local/parameters_viz.yml").write_text(yaml.safe_dump({
        "training": {"model": "vae", "strategy": "per_class"},
        "ingest": {"minority_classes": [1, 2]},
    }))
    main = _build(project)
    modular = {n["name"] for n in main["nodes"] if n["type"] == "modularPipeline"}
    assert modular == {"class_1", "class_2"}
