"""Where a run is seen in the MLflow UI: links that open the classic "Machine learning" view.

MLflow 3.17's UI opens every experiment in its GenAI view (traces, "No data" for a training
run) unless the address says ``workflowType=machine_learning`` or the browser remembers that
choice; its front end reads that query parameter before the experiment's
``mlflow.experimentKind`` tag (``mlflow/server/js``, the ``workflowType`` context). Earlier
MLflow 3 releases read the tag, so the project sets both: the tag on the experiment
(:data:`EXPERIMENT_KIND`), the parameter in every link it prints.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from synthbalance.core.errors import SynthBalanceError

#: The experiment tag and value MLflow's UI reads as "a model-training experiment".
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")
#: The query that opens an experiment or run page in the classic training view.
CLASSIC_VIEW = "workflowType=machine_learning"


def ui_base(tracking_uri: str, host: str = "127.0.0.1", port: int | str = 5000) -> str:
    """The UI's address: the tracking server itself, or ``mlflow ui`` on ``host:port``."""
    if urlsplit(tracking_uri).scheme in ("http", "https"):
        return tracking_uri.rstrip("/")
    return f"http://{host}:{port}"


def experiment_url(base: str, experiment_id: str) -> str:
    """The experiment's run list in the classic view."""
    return f"{base}/#/experiments/{experiment_id}?{CLASSIC_VIEW}"


def run_url(base: str, experiment_id: str, run_id: str, tab: str = "") -> str:
    """A run's page in the classic view: its overview (parameters, metrics, artifacts),
    or another ``tab`` such as ``model-metrics`` (the metric charts)."""
    page = f"{run_id}/{tab}" if tab else run_id
    return f"{base}/#/experiments/{experiment_id}/runs/{page}?{CLASSIC_VIEW}"


def model_url(base: str, experiment_id: str, model_id: str) -> str:
    """A logged model's page (its metrics, parameters and source run)."""
    return f"{base}/#/experiments/{experiment_id}/models/{model_id}?{CLASSIC_VIEW}"


def ui_command(tracking_uri: str, host: str = "127.0.0.1", port: int | str = 5000) -> str | None:
    """The ``mlflow ui`` command that serves a local store, else ``None`` (a server)."""
    if urlsplit(tracking_uri).scheme in ("http", "https"):
        return None
    where = "" if (host, str(port)) == ("127.0.0.1", "5000") else f" --host {host} --port {port}"
    return f"mlflow ui --backend-store-uri {tracking_uri}{where}"


@contextmanager
def serve_mlflow_ui(tracking_uri: str, port: int | None = None, timeout: float = 120.0,
                    log: Path | None = None) -> Iterator[str]:
    """Serve ``tracking_uri`` with ``mlflow ui`` on 127.0.0.1 while the block runs; yields
    its base address (``http://127.0.0.1:<port>``). See :func:`serve_mlflow`."""
    with serve_mlflow("ui", tracking_uri, port, timeout, log) as base:
        yield base


@contextmanager
def serve_mlflow(command: str, tracking_uri: str, port: int | None = None,
                 timeout: float = 120.0, log: Path | None = None,
                 cwd: Path | None = None) -> Iterator[str]:
    """``mlflow <command>`` (``ui`` or ``server``) over the store ``tracking_uri`` on
    127.0.0.1 while the block runs; yields its base address (``http://127.0.0.1:<port>``).

    One worker and no job runner, in a session of its own, so the whole process group is
    stopped when the block ends, however it ends. ``port``: a free one when ``None``.
    ``log``: where the server's output is appended (default: discarded). ``cwd``: the
    server's working directory (a ``server`` keeps artifacts in ``./mlartifacts`` there).

    Raises:
        SynthBalanceError: the server did not answer ``/health`` within ``timeout`` seconds
            (about 30 s on two busy cores); its log is named if one was kept.
    """
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log or os.devnull, "ab") as out:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "mlflow", command, "--workers", "1", "--host", "127.0.0.1",
             "--port", str(port), "--backend-store-uri", tracking_uri],
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            # no background job workers (GenAI scorers and trace jobs): six fewer processes
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    try:
        _wait_until_healthy(f"mlflow {command}", base, server, timeout, log)
        yield base
    finally:
        with suppress(ProcessLookupError):  # the group has exited
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        finally:
            with suppress(ProcessLookupError):  # what is left of the group
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(what: str, base: str, server: subprocess.Popen, timeout: float,
                        log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    where = f"; its log: {log}" if log else ""
    raise SynthBalanceError(f"{what} on {base} did not start within {timeout:.0f} s{where}.")

