"""What keeps ``kedro run`` from destroying or mixing data; the project hooks call it.

- :func:`refuse_output_source`: ``ingest.source`` may not be a file the run itself writes.
- :func:`refuse_unready_inputs`: a run of later stages alone needs what earlier stages
  saved, all of one run (none older than a saved dataset it is made from).
- :class:`ProjectLocks`: one run at a time per project. Two locks, both files in the project
  root: a short one around MLflow's store setup (two first runs would both create and
  migrate ``mlflow.db``, and one dies on a half-made schema), and one held for the whole
  pipeline run (two runs share ``data/``: one would read the other's rows, or a half-written
  file). A second run waits, and says what it waits for.
- :func:`refuse_half_made_store`: an ``mlflow.db`` whose creation was cut short (a full disk,
  a killed first run) is named with the fix, not left to MLflow's traceback.
- :class:`InterruptGuard`: a run stopped by Ctrl-C or SIGTERM is recorded as ``KILLED``
  (MLflow's own exit handler would mark it ``FINISHED``; SIGTERM's default action would
  leave it ``RUNNING``).
"""

from __future__ import annotations

import _thread
import atexit
import fnmatch
import glob
import logging
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import mlflow
from filelock import FileLock, Timeout
from kedro.io.core import get_protocol_and_path
from kedro.pipeline import Pipeline

from synthbalance.core.errors import ConfigError, StageOutputError

logger = logging.getLogger(__name__)

#: The data layers a run writes (02_intermediate ... 08_reporting), under the project root.
OUTPUT_FOLDERS = "data/0[2-8]_*"
RUN_LOCK = ".synthbalance-run.lock"
STORE_LOCK = ".synthbalance-store.lock"


def refuse_output_source(source: str, catalog_config: Mapping[str, Any], root: Path) -> None:
    """Refuse an ``ingest.source`` that a run of this project writes to.

    ``catalog_config`` is the catalog's configuration (every ``filepath`` in it, dataset
    factories included, counts as written); ``root`` the folder relative paths start from
    (the project root, where ``kedro run`` runs). Symlinks and relative paths are resolved.

    Raises:
        ConfigError: the source is one of those files, or lies in a ``data/0[2-8]_*`` folder.
    """
    protocol, path = get_protocol_and_path(source)
    if source == "demo" or protocol != "file":
        return
    target = str(_resolve(root, path))
    patterns = [f"{glob.escape(str(_resolve(root, '')))}/{OUTPUT_FOLDERS}/*",
                *(f"{glob.escape(str(f.resolve()))}/*" for f in root.glob(OUTPUT_FOLDERS))]
    for filepath in _filepaths(catalog_config):
        pattern = _written_pattern(root, filepath)
        patterns += [pattern, f"{pattern}/*"]  # versioned: <filepath>/<version>/<name>
    if any(fnmatch.fnmatchcase(target, p) for p in patterns):
        raise ConfigError(
            f"ingest.source {source!r} is a file this project's runs write ({target}): a run "
            "would overwrite it, and raw data must stay as it is. Copy it to data/01_raw/ "
            "(or anywhere outside data/02_intermediate ... data/08_reporting) and point "
            "ingest.source there."
        )


def refuse_unready_inputs(pipeline: Any, catalog: Any, stages: Mapping[str, Any]) -> None:
    """Refuse, before any node runs, a run that reads what earlier stages have not saved,
    or saved outputs of two stages that do not belong together.

    ``pipeline`` is the run's pipeline, ``catalog`` its data catalog, ``stages`` the
    project's stage pipelines by name, in run order (``pipeline_registry.STAGES``). Only
    what a stage writes is checked (the raw table and parameters have checks of their
    own). An output is written after what it is made from, so an input, or a dataset it
    is made from, older than a dataset it is made from (``utility_arms``, made from the
    generator that ``--pipelines=training`` wrote again since) belongs to an earlier run,
    and reading it would mix two runs' figures. Kedro itself would fail only at the first
    node that loads a missing input, after the nodes before it have rewritten their
    outputs, and would mix silently.

    Raises:
        StageOutputError: naming the missing or older inputs, the stages that write them,
            and the command that runs those stages again.
    """
    made_by = {name: stage for stage, made in stages.items() for name in made.all_outputs()}
    inputs = [name for name in sorted(pipeline.inputs()) if name in made_by]
    missing = [name for name in inputs if not catalog.exists(name)]
    if missing:
        listed = "; ".join(f"{name} (written by {made_by[name]})" for name in missing)
        raise StageOutputError(
            f"This run reads what earlier stages save, and some is not there: {listed}. "
            "Run the stages that write them with this run's own, e.g. "
            f"{_rerun(stages, [made_by[n] for n in missing], pipeline)}, or one whole "
            "kedro run.")
    stale = _outdated(inputs, made_by, catalog, sum(stages.values(), Pipeline([])))
    if stale:
        source, outdated = stale
        start = min((made_by[name] for name in outdated), key=list(stages).index)
        listed = ", ".join(outdated[:4]) + (", ..." if len(outdated) > 4 else "")
        raise StageOutputError(
            f"{source} (written by {made_by[source]}) was written again after what is made "
            f"from it: {listed} (this run reads them, or what is made from them) are of an "
            f"earlier {source}, and this run would mix the outputs of two runs. Run the "
            f"stages from {start} on again, e.g. "
            f"{_rerun(stages, [start], pipeline, f'of the run that wrote {source}')}.")


def _outdated(inputs: list[str], made_by: Mapping[str, str], catalog: Any, full: Pipeline
              ) -> tuple[str, list[str]] | None:
    """``(source, outdated)``: the most recently written dataset that some of ``inputs``,
    or a dataset they are made from (by the nodes of ``full``, all stages), is older than
    while made from it, and those older datasets; else None. Datasets with no local file
    (in memory, remote) are not compared."""
    ancestors = {name: full.to_outputs(name).all_inputs() & made_by.keys() for name in inputs}
    for name in set().union(*ancestors.values()) - ancestors.keys():
        ancestors[name] = full.to_outputs(name).all_inputs() & made_by.keys()
    times = {name: when for name in ancestors
             if (when := _written_at(catalog.get(name))) is not None}
    for source in sorted(times, key=times.__getitem__, reverse=True):
        outdated = sorted(name for name in times
                          if source in ancestors[name] and times[name] < times[source])
        if outdated:
            return source, outdated
    return None


def _written_at(dataset: Any) -> float | None:
    """When the local file a dataset loads was written (its newest version's, if
    versioned); None without one."""
    from synthbalance.datasets import MetricsDataset

    if isinstance(dataset, MetricsDataset):
        dataset = dataset._file
    load_path = getattr(dataset, "_get_load_path", None)
    if load_path is None or getattr(dataset, "_protocol", "file") != "file":
        return None
    try:
        return os.path.getmtime(load_path())
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _rerun(stages: Mapping[str, Any], first: list[str], pipeline: Any,
           settings: str = "of this run") -> str:
    """``kedro run --pipelines=...`` of the stages from the earliest of ``first`` to the
    last of ``first`` and the stages of ``pipeline`` (the run's own), leaving out stages
    between whose outputs none of them reads; ``settings`` says whose ``--params`` and
    ``--env`` to give it."""
    names = list(stages)
    start = min(names.index(stage) for stage in first)
    own = [s for s in names if set(pipeline.nodes) & set(stages[s].nodes)]
    end = max([names.index(stage) for stage in first + own])
    chain = names[start : end + 1]
    needed = set().union(*(stages[s].inputs() for s in chain))
    kept = [s for s in chain if s in first or s in own or stages[s].all_outputs() & needed]
    return f"kedro run --pipelines={','.join(kept)} with the --params and --env {settings}"


def _resolve(root: Path, path: str) -> Path:
    return (root / path).resolve()


def _filepaths(config: Any) -> Iterator[str]:
    """Every ``filepath`` string in a catalog configuration, nested datasets included."""
    if isinstance(config, Mapping):
        for key, value in config.items():
            if key == "filepath" and isinstance(value, str):
                yield value
            else:
                yield from _filepaths(value)


def _written_pattern(root: Path, filepath: str) -> str:
    """A glob pattern of a catalog filepath; ``{namespace}`` placeholders match anything."""
    protocol, path = get_protocol_and_path(filepath)
    if protocol != "file":
        return filepath
    parts = Path(path).parts
    fixed = next((i for i, part in enumerate(parts) if "{" in part), len(parts))
    head = glob.escape(str(_resolve(root, str(Path(*parts[:fixed])) if fixed else "")))
    tail = [re.sub(r"\{[^}]*\}", "*", glob.escape(part)) for part in parts[fixed:]]
    return "/".join([head, *tail])


class ProjectLocks:
    """The project's two inter-process locks (see the module docstring), waited for.

    Locks are ``filelock`` locks on files in ``root``: the operating system frees them when
    the holding process ends, however it ends, so a killed run never blocks the next one.
    """

    def __init__(self, root: Path):
        self._store = FileLock(root / STORE_LOCK)
        self._run = FileLock(root / RUN_LOCK)

    @contextmanager
    def store(self) -> Iterator[None]:
        """Held while MLflow's store is opened (created and migrated on first use)."""
        _acquire(self._store, "is setting up the MLflow store")
        try:
            yield
        finally:
            self._store.release()

    def hold_run(self) -> None:
        """Take the run lock, waiting (with a message) while another run holds it."""
        _acquire(self._run, "is running in this project")

    def release_run(self) -> None:
        """Free the run lock if this process holds it (a no-op otherwise)."""
        if self._run.is_locked:
            self._run.release(force=True)


def refuse_half_made_store(root: Path) -> None:
    """Stop when ``root/mlflow.db`` holds an MLflow store whose creation or migration was
    cut short: Alembic's temporary tables (``_alembic_tmp_*``) are left in it, and MLflow
    then fails to open it with a traceback of hundreds of lines (a trial's first run hit a
    full disk while MLflow created it). Says how many runs it holds and what to do.

    Raises:
        StageOutputError: the store is half made.
    """
    path = root / "mlflow.db"
    if not path.is_file():
        return
    try:
        with closing(sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] \
                if "runs" in tables else 0
    except sqlite3.DatabaseError:
        return  # not a store this check can read: MLflow says what is wrong with it
    left = sorted(name for name in tables if name.startswith("_alembic_tmp_"))
    if left:
        fix = ("It holds no run: delete it, and the next run makes a new one." if not runs
               else f"It holds {runs} run(s): move it aside (mv mlflow.db mlflow.db.broken) "
               "and run again; its runs stay readable with sqlite3.")
        raise StageOutputError(
            f"{path} is an MLflow store whose set-up was cut short (a full disk or a killed "
            f"first run left the table {left[0]} in it), and MLflow cannot open it. {fix}")


def _acquire(lock: FileLock, doing: str) -> None:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.warning(
            "Another kedro run %s (lock file %s). This run waits until it ends, so that "
            "neither reads the other's files; stop it with Ctrl-C, or run the other in a "
            "copy of the project.", doing, lock.lock_file,
        )
        lock.acquire()


class InterruptGuard:
    """Records a run stopped by Ctrl-C (SIGINT) or SIGTERM as ``KILLED`` in MLflow.

    Kedro calls no hook on ``KeyboardInterrupt``, and MLflow's exit handler then ends the
    active run as ``FINISHED``; SIGTERM's default action ends the process with the run left
    ``RUNNING``. While a run is watched, SIGTERM raises ``SystemExit(143)`` (so the stack
    unwinds as it does for Ctrl-C), and an exit handler that runs before MLflow's ends the
    run as ``KILLED``. Errors are not its business: the pipeline-error hook marks ``FAILED``,
    unless the guard saw a SIGINT or SIGTERM first (:attr:`signalled`): a library may turn
    the interrupt into an error of its own, and the run is then still ``KILLED``.

    A signal whose exception lands in a garbage-collection callback is swallowed by Python
    ("Exception ignored in ... KeyboardInterrupt"; seen in SQLAlchemy's ``_collection_gced``
    just as training starts) and the run would go on; while watching, such a swallowed
    interrupt is delivered again.
    """

    def __init__(self) -> None:
        self._run_id: str | None = None
        self._previous: dict[str, Any] = {}
        #: A SIGINT or SIGTERM reached the watched run. A library may turn the interrupt
        #: into an error of its own (and Kedro then calls the pipeline-error hook); the run
        #: was still stopped by the user, so it is ``KILLED``, not ``FAILED``.
        self.signalled = False

    def watch(self, run_id: str) -> None:
        """Watch the active MLflow run ``run_id`` until :meth:`release`."""
        self._run_id, self.signalled = run_id, False
        atexit.register(self.end_interrupted)  # atexit is LIFO: before MLflow's handler
        if threading.current_thread() is threading.main_thread():
            self._previous = {"sigterm": signal.signal(signal.SIGTERM, self._on_signal),
                              "sigint": signal.signal(signal.SIGINT, self._on_signal),
                              "unraisable": sys.unraisablehook}
            sys.unraisablehook = self._deliver_swallowed_interrupts

    def release(self) -> None:
        """Stop watching (the run ended through a hook), restoring the handlers it set."""
        atexit.unregister(self.end_interrupted)
        if self._previous:
            signal.signal(signal.SIGTERM, self._previous["sigterm"])
            signal.signal(signal.SIGINT, self._previous["sigint"])
            sys.unraisablehook = self._previous["unraisable"]
            self._previous = {}
        self._run_id = None

    def _on_signal(self, signum: int, frame: Any) -> None:
        """Note the signal and act on it: SIGTERM raises ``SystemExit(128 + signum)``;
        SIGINT does what the handler that was there does (Python's raises
        ``KeyboardInterrupt``), or nothing if SIGINT was ignored."""
        previous = self._previous.get("sigint")
        if signum == signal.SIGINT and previous == signal.SIG_IGN:
            return
        self.signalled = True
        if signum == signal.SIGTERM:
            _exit_on_sigterm(signum, frame)
        if callable(previous):
            previous(signum, frame)
            return
        raise KeyboardInterrupt  # SIG_DFL, or a handler not set from Python

    def end_interrupted(self) -> None:
        """End the watched run as ``KILLED`` if it is still active (an interrupted run).

        Called at exit, and by the next run of the same process (a notebook where Ctrl-C
        stopped a run: no exit handler ran, and the run would otherwise stay open and
        receive the next run's metrics). A second Ctrl-C waits until the status is written.
        """
        run_id = self._run_id
        self.release()
        if run_id is not None:
            with _signals_held():
                close_run(run_id, "KILLED")
            print(f"Interrupted: MLflow run {run_id} is recorded as KILLED; its outputs "
                  "may be partial, so run the pipeline again.", file=sys.stderr, flush=True)

    def _deliver_swallowed_interrupts(self, unraisable: Any) -> None:
        """``sys.unraisablehook`` while a run is watched: send a swallowed interrupt again.

        From another thread, a moment later, so that it arrives after this hook returns (an
        exception raised in the hook would be swallowed too; ``_thread`` because
        ``threading.Thread.start`` waits, and the signal could land in that wait).
        """
        signum = (signal.SIGINT if issubclass(unraisable.exc_type, KeyboardInterrupt) else
                  signal.SIGTERM if issubclass(unraisable.exc_type, SystemExit) else None)
        if signum is None:
            self._previous.get("unraisable", sys.__unraisablehook__)(unraisable)
            return
        _thread.start_new_thread(_send_soon, (signum,))


def _send_soon(signum: int) -> None:
    time.sleep(0.05)
    os.kill(os.getpid(), signum)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (they arrive afterwards) where the platform can."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def close_run(run_id: str, status: str = "FINISHED") -> None:
    """End every copy of ``run_id`` still on MLflow's active-run stack.

    kedro-mlflow re-opens the run before each node (for threaded runners); with MLflow 3 each
    re-open stacks another copy and only one is closed, so a second Kedro session in the same
    process would log into this run. Seen with kedro-mlflow 2.0.3 and MLflow 3.17.
    """
    while (run := mlflow.active_run()) is not None and run.info.run_id == run_id:
        mlflow.end_run(status)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
