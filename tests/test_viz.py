"""kedro-viz builds the real project and shows its pipelines and per-class branches; its
server shows the layers and the previews of a finished run."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from synthbalance.core.naming import HEADLINE_METRICS

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


# ----------------------------------------------------------------- the kedro-viz server
#: Kedro's data layers in their order (the data/0N_ folders); the layer view lists those
#: the catalog uses, in this order.
LAYERS = ["raw", "intermediate", "primary", "feature", "model_input", "models",
          "model_output", "reporting"]


def _free_port() -> int:
    """A free port that kedro-viz takes: it refuses ports above 49151, which the system's
    own choice (binding port 0) often is, and moves on from a busy one."""
    for port in random.Random().sample(range(20_000, 49_000), 200):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    pytest.fail("No free port between 20000 and 49000 for kedro viz.")


@contextmanager
def _viz_server(project: Path, log: Path) -> Iterator[str]:
    """``kedro viz run`` on 127.0.0.1 in its own process group; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(KEDRO), "viz", "run", "--no-browser", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # setsid: the group holds uvicorn's workers too
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/main", timeout=5).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"kedro viz did not start:\n{log.read_text()[-3000:]}")
                    time.sleep(0.5)
            yield url
        finally:
            _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """End the server's whole process group (uvicorn and its children)."""
    with contextlib.suppress(ProcessLookupError):  # the group has ended already
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def test_kedro_viz_shows_layers_and_previews_of_a_finished_run(ran_project, tmp_path):
    log = tmp_path / "viz.log"
    with _viz_server(ran_project, log) as url:
        main = _get(f"{url}/api/main")
        ids = {n["name"]: n["id"] for n in main["nodes"]}
        previews = {name: _get(f"{url}/api/nodes/{ids[name]}")
                    for name in ("schema", "transformer", "cleaning_rules", "metrics_table")}

    assert {"__default__", "ingest", "training", "evaluation", "advice"} <= {
        p["id"] for p in main["pipelines"]}
    # the layer view: every dataset has a layer, and the layers sort (no layer loops back)
    datasets = [n for n in main["nodes"] if n["type"] == "data"]
    assert [n["name"] for n in datasets if n["layer"] not in LAYERS] == []
    assert main["layers"] == [layer for layer in LAYERS
                              if layer in {n["layer"] for n in datasets}]
    assert len(main["layers"]) >= 5

    assert [name for name, p in previews.items() if p.get("preview") is None] == []
    assert {name: p.get("preview_type") for name, p in previews.items()} == {
        "schema": "JSONPreview", "transformer": "TablePreview",
        "cleaning_rules": "TablePreview", "metrics_table": "TablePreview"}
    schema = json.loads(previews["schema"]["preview"])
    assert schema["target"] == "outcome" and schema["columns"]["region"]["kind"] == "categorical"
    transformer = previews["transformer"]["preview"]
    assert transformer["columns"] == ["column", "kind", "encoding", "width"]
    assert ["smoker", "binary", "one-hot: 2 levels", 2] in transformer["data"]
    rules = previews["cleaning_rules"]["preview"]
    assert rules["columns"][:2] == ["column", "kind"] and len(rules["data"]) == len(
        schema["columns"])
    metrics = previews["metrics_table"]["preview"]
    assert [row[0] for row in metrics["data"][:len(HEADLINE_METRICS)]] == list(HEADLINE_METRICS)
    assert len(metrics["data"]) > 50  # the rest follows: the preview shows every metric
    assert "could not be previewed" not in log.read_text()
