"""Shared fixtures: real data from ../shared, the demo table, and a project sandbox."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synthbalance import configure_openmp

# Before any test imports torch or xgboost, as kedro run does (synthbalance/runtime.py):
# busy CI cores stay responsive.
configure_openmp()

from synthbalance.cli import params_items  # noqa: E402
from synthbalance.core.demo import make_demo_table  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
BRFSS = PROJECT.parent / "shared" / "data" / "diabetes_binary_health_indicators_BRFSS2015.csv.gz"

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")

#: Parameters that keep a whole run to seconds: few rows, epochs and trees.
SMALL_RUN: dict[str, Any] = {
    "ingest": {"demo_rows": 3000},
    "profiling": {"sample_rows": 500},
    "training": {"epochs": 2, "batch_size": 200, "check_every": 1, "hidden_dims": [32, 32]},
    "evaluation": {"seeds": 1, "k_ratios": [0.5, 1.0], "n_trees": 20, "max_rows": 500,
                   "compare_sample_rows": 300},
}


@pytest.fixture(scope="session")
def brfss() -> pd.DataFrame:
    """The real BRFSS 2015 table (253,680 rows), read from ../shared/data."""
    if not BRFSS.exists():
        pytest.fail(f"{BRFSS} is missing: the shared data must sit beside the checkout.")
    return pd.read_csv(BRFSS)


@pytest.fixture(scope="session")
def demo() -> pd.DataFrame:
    return make_demo_table(4000, seed=3)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


def make_project(path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's conf in ``path``, which becomes the cwd.

    Data layers and the SQLite MLflow store are written there, never into the checkout.
    """
    shutil.copytree(PROJECT / "conf", path / "conf")
    shutil.copy(PROJECT / "pyproject.toml", path / "pyproject.toml")
    (path / "src").mkdir()  # the package itself is installed (pip install -e .)
    monkeypatch.chdir(path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return path


def run_kedro(project: Path, pipelines: list[str] | None = None, env: str | None = None,
              params: dict[str, Any] | None = None, small: bool = True) -> dict[str, Any]:
    """Run pipelines of the real project through a Kedro session (small settings by default)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    runtime = _merge(SMALL_RUN if small else {}, params or {})
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime) as session:
        return session.run(pipeline_names=pipelines)


def run_kedro_cli(project: Path, params: dict[str, Any] | None = None,
                  small: bool = True) -> str:
    """``kedro run`` typed in a shell in ``project`` (small settings by default, passed as
    ``--params``); returns what it printed (stdout and stderr), and fails the test with
    that output if the run failed."""
    runtime = _merge(SMALL_RUN if small else {}, params or {})
    flat = ",".join(f"{key}={value}" for key, value in params_items(runtime))
    code = os.pathsep.join([str(PROJECT / "src"), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(["kedro", "run", *([f"--params={flat}"] if flat else [])],
                          cwd=project, capture_output=True, timeout=600,
                          check=False, env={**_without_columns(os.environ),
                                            "KEDRO_DISABLE_TELEMETRY": "true",
                                            "PYTHONPATH": code})
    # bytes decoded by hand: text mode would turn a progress bar's carriage returns into
    # newlines, and a test reads whether a log sent to a file holds any
    output = (done.stdout + done.stderr).decode(errors="replace")
    if done.returncode != 0:
        pytest.fail(f"kedro run failed ({done.returncode}):\n{output[-3000:]}")
    return output


def _without_columns(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment less ``COLUMNS``, which a terminal may export and which would set
    the width of the run's log (tests read it as a log sent to a file)."""
    return {key: value for key, value in environ.items() if key != "COLUMNS"}


@pytest.fixture(scope="session")
def ran_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after one full default run (cvae, conditional) on small settings.

    Typed as ``kedro run`` in a shell; what it printed is in ``kedro_run.log`` beside the
    project. Shared by the session (tests/test_run.py, tests/test_viz.py): tests read it,
    and those that run pipelines in it again write only what those pipelines write.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = make_project(tmp_path_factory.mktemp("project"), monkeypatch)
        (project.parent / "kedro_run.log").write_text(run_kedro_cli(project))
    return project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return make_project(tmp_path, monkeypatch)


@pytest.fixture
def run_project(project: Path) -> Callable[..., dict[str, Any]]:
    """``run_project(pipelines, env=None, params=None)`` in the ``project`` sandbox."""
    return lambda *args, **kwargs: run_kedro(project, *args, **kwargs)


def mlflow_runs(project: Path) -> pd.DataFrame:
    """Every run of the project's SQLite MLflow store, newest first (metrics, params, tags)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, order_by=["attributes.start_time DESC"])
    return pd.DataFrame([
        {"run_id": r.info.run_id, "experiment_id": r.info.experiment_id,
         **{f"metrics.{k}": v for k, v in r.data.metrics.items()},
         **{f"params.{k}": v for k, v in r.data.params.items()},
         **{f"tags.{k}": v for k, v in r.data.tags.items()}}
        for r in runs
    ])
