"""A local MLflow tracking server for runs with parallel writers (the grid on Dask).

MLflow's SQLite store answers concurrent writers with "database is locked"; MLflow's advice
for many writers is a tracking server. :func:`tracking_server` starts
``mlflow server --host 127.0.0.1 --port <free> --backend-store-uri sqlite:///<project>/mlflow.db
--workers 1`` in its own process group, points ``MLFLOW_TRACKING_URI`` at it while the
block runs, and stops the group after. A server the user names in ``MLFLOW_TRACKING_URI``
(``http(s)://...``) is used as it is, and neither started nor stopped; a store named there
(``sqlite:///...``) is the one the started server serves.
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

from synthbalance.core.errors import SynthBalanceError

ENV = "MLFLOW_TRACKING_URI"
#: The store behind a server this module started (it stops with the command): the runs'
#: closing links point at ``mlflow ui`` on this store, which outlives the server.
STORE_ENV = "SYNTHBALANCE_STORE_URI"
#: MLflow prints a "View run ... at" link for every run ended against a server; the
#: server's links die with it.
_QUIET = {"MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}


@contextmanager
def tracking_server(project: Path, timeout_s: float = 90.0) -> Iterator[str]:
    """The tracking URI to log to while the block runs (see the module docstring).

    Raises:
        SynthBalanceError: the server did not answer within ``timeout_s`` seconds (its log,
            ``<project>/mlflow-server.log``, says why).
    """
    named = os.environ.get(ENV, "")
    if named.startswith(("http://", "https://")):
        yield named
        return
    backend = named or f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    port = _free_port()
    log = (project / "mlflow-server.log").open("ab")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", backend, "--workers", "1"],
        cwd=project, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    store = {STORE_ENV: backend, **_QUIET}
    try:
        _wait_healthy(uri, server, timeout_s, project)
        os.environ.update({ENV: uri, **store})
        yield uri
    finally:
        for name in (ENV, *store):
            os.environ.pop(name, None)
        if named:
            os.environ[ENV] = named
        _stop(server)
        log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(uri: str, server: subprocess.Popen, timeout_s: float, project: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        with suppress(OSError), urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise SynthBalanceError(
        f"The MLflow server at {uri} did not start in {timeout_s:.0f} s; see "
        f"{project / 'mlflow-server.log'}, or name a running one in {ENV}.")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (uvicorn and its worker), then SIGKILL."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            server.wait(wait_s)
            return
