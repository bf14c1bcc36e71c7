"""Remake the MLflow screenshots of docs/screens-mlflow.md (docs/img/mlflow-*.png).

    python -m benchmarks.screenshots_mlflow                    # a fresh default kedro run
    python -m benchmarks.screenshots_mlflow --store sqlite:///mlflow.db   # its newest run

Without ``--store`` it copies the project's ``conf/`` to a temporary folder and runs the
default ``kedro run`` there (1-3 min on 2 cores), so the pictures show what a new user
gets. Then it serves the store with ``mlflow ui`` on a free port and photographs each
screen with headless Chromium (Debian's ``chromium`` package), at the addresses a run
prints (the classic "Model training" view, see synthbalance/mlflow_ui.py). The MLflow
Assistant panel on the right is cropped away; each picture is a 256-colour PNG, well
under 300 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from synthbalance.mlflow_ui import (
    CLASSIC_VIEW,
    experiment_url,
    model_url,
    run_url,
    serve_mlflow_ui,
)

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "docs" / "img"
WINDOW = (1600, 1000)
#: Where MLflow 3.17's Assistant panel starts in a 1600-pixel-wide window.
CONTENT_WIDTH = 1188


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an MLflow tracking URI (default: a fresh run)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or _fresh_run(Path(tmp))
        with serve_mlflow_ui(store, log=Path(tmp) / "mlflow-ui.log") as base:
            for name, url in _screens(base, store).items():
                _photograph(args.chromium, url, OUT / f"mlflow-{name}.png", Path(tmp))
                print(f"docs/img/mlflow-{name}.png  <- {url}")


def _fresh_run(folder: Path) -> str:
    """The default ``kedro run`` in a copy of the project's configuration."""
    shutil.copytree(PROJECT / "conf", folder / "conf")
    shutil.copy(PROJECT / "pyproject.toml", folder / "pyproject.toml")
    (folder / "src").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}  # its own store
    env.update(KEDRO_DISABLE_TELEMETRY="true",
               PYTHONPATH=os.pathsep.join([str(PROJECT / "src"), env.get("PYTHONPATH", "")]))
    subprocess.run(["kedro", "run"], cwd=folder, env=env, check=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _screens(base: str, store: str) -> dict[str, str]:
    """The newest run's screens: its experiment's run list, its overview, a loss and the
    periodic check on one epoch axis, and its logged generator model."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store)
    experiments = [e.experiment_id for e in client.search_experiments()]
    run = client.search_runs(experiments, order_by=["attributes.start_time DESC"],
                             max_results=1)[0]
    experiment, run_id = run.info.experiment_id, run.info.run_id
    model = client.search_logged_models([experiment],
                                        filter_string=f"source_run_id = '{run_id}'")[0]
    return {
        "runs": experiment_url(base, experiment),
        "run": run_url(base, experiment, run_id),
        "epochs": _metric_url(base, experiment, run_id, ["loss.loss", "check.score"]),
        "model": model_url(base, experiment, model.model_id),
    }


def _metric_url(base: str, experiment: str, run_id: str, keys: list[str]) -> str:
    """MLflow's metric page plotting ``keys`` of one run against the step (the epoch)."""
    query = "&".join([
        f"runs={json.dumps([run_id])}", f"metric={quote(json.dumps(keys[0]))}",
        f"experiments={json.dumps([experiment])}",
        f"plot_metric_keys={quote(json.dumps(keys))}", "plot_layout={}", "x_axis=step",
        "y_axis_scale=linear", "line_smoothness=1", "show_point=true",
        "deselected_curves=[]", "last_linear_y_axis_range=[]", CLASSIC_VIEW])
    return f"{base}/#/metric/{quote(keys[0])}?{query}"


def _photograph(chromium: str, url: str, target: Path, tmp: Path) -> None:
    shot = tmp / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=30000",
         # without it the metric charts are photographed while they still load
         "--run-all-compositor-stages-before-draw",
         f"--user-data-dir={tmp / 'chromium'}", f"--screenshot={shot}", url],
        check=True, capture_output=True, timeout=180)
    with Image.open(shot) as image:
        cropped = image.convert("RGB").crop((0, 0, CONTENT_WIDTH, WINDOW[1]))
        target.parent.mkdir(parents=True, exist_ok=True)
        cropped.quantize(colors=256).save(target, optimize=True)


if __name__ == "__main__":
    main()
