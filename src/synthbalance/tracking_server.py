"""A local MLflow tracking server for runs with parallel writers (the grid on Dask).

MLflow's SQLite store answers concurrent writers with "database is locked"; MLflow's advice
for many writers is a tracking server. :func:`tracking_server` starts
``mlflow server --host 127.0.0.1 --port <free> --backend-store-uri sqlite:///<project>/mlflow.db
--workers 1`` in its own process group (:func:`~synthbalance.mlflow_ui.serve_mlflow`),
points ``MLFLOW_TRACKING_URI`` at it while the block runs, and stops the group after. A
server the user names in ``MLFLOW_TRACKING_URI`` (``http(s)://...``) is used as it is, and
neither started nor stopped; a store named there (``sqlite:///...``) is the one the started
server serves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synthbalance.mlflow_ui import serve_mlflow

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
            ``<project>/mlflow-server.log``, says why; or name a running one in
            ``MLFLOW_TRACKING_URI``).
    """
    named = os.environ.get(ENV, "")
    if named.startswith(("http://", "https://")):
        yield named
        return
    backend = named or f"sqlite:///{(project / 'mlflow.db').as_posix()}"
    store = {STORE_ENV: backend, **_QUIET}
    with serve_mlflow("server", backend, timeout=timeout_s, log=project / "mlflow-server.log",
                      cwd=project) as uri:
        os.environ.update({ENV: uri, **store})
        try:
            yield uri
        finally:
            for name in (ENV, *store):
                os.environ.pop(name, None)
            if named:
                os.environ[ENV] = named
