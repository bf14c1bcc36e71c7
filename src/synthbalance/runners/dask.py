"""``DaskRunner``: Kedro nodes on a Dask cluster, after Kedro's deployment guide ("Dask",
https://docs.kedro.org/en/stable/deploy/supported-platforms/dask/), adapted to Kedro 1.7.

    kedro run --pipelines=grid --runner=synthbalance.runners.DaskRunner             # LocalCluster
    kedro run --pipelines=grid --runner=synthbalance.runners.DaskRunner --env=dask  # a scheduler

Each node is a Dask task that depends on the tasks of the nodes it reads from. As in the
guide, a dataset kept in memory between nodes is published on the scheduler
(:class:`_DaskDataset`); every other dataset must pickle, which the project's do (files and
configuration only; the grid's cells log to MLflow with explicit run ids). Unlike the
guide's, a task gets only the datasets its node reads and writes, the worker registers the
project's hooks but not kedro-mlflow's (it would open stray MLflow runs in the worker,
kedro-mlflow #689) nor kedro-viz's, and the client is opened and closed by each run.

Settings: the ``dask_client`` parameters (``address`` of an existing scheduler, else a
``LocalCluster`` of ``n_workers`` processes with ``threads_per_worker`` threads, default
2 x 1; ``conf/dask/parameters.yml`` names a scheduler), or the constructor's arguments. Each
worker runs torch with ``threads_per_worker`` threads (``torch_threads`` for a scheduler's
workers, default 1) and OpenMP's passive waiting (runtime.py).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, worker_client
from kedro.framework.hooks.manager import (
    _create_hook_manager,
    _register_hooks,
    _register_hooks_entry_points,
)
from kedro.framework.project import settings
from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node
from kedro.runner import AbstractRunner, SequentialRunner

from synthbalance.core.errors import ConfigError

DEFAULT_CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": True}
#: Plugins whose hooks stay out of the workers (distribution names as Kedro compares them;
#: pip spells some with a dash): kedro-mlflow would open stray MLflow runs there, and
#: kedro-viz's dataset statistics hook warns on every node it did not see start.
WORKER_FREE_PLUGINS = ("kedro_mlflow", "kedro-mlflow", "kedro_viz", "kedro-viz")


class _DaskDataset(AbstractDataset):
    """A dataset kept in memory between nodes, published to the Dask scheduler by name."""

    def __init__(self, name: str):
        self._name = name

    def load(self) -> Any:
        with worker_client() as client:
            return client.get_dataset(self._name)

    def save(self, data: Any) -> None:
        with worker_client() as client:
            client.publish_dataset(data, name=self._name, override=True)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


class _ProjectWorker(WorkerPlugin):
    """Sets up each worker as ``kedro run`` sets up its process: the project, one torch
    thread pool of ``threads`` threads, OpenMP's passive waiting."""

    def __init__(self, package: str, threads: int):
        self.package, self.threads = package, threads

    def setup(self, worker: Any) -> None:
        from kedro.framework.project import configure_project

        from synthbalance.runtime import configure_openmp

        configure_openmp()
        import torch

        torch.set_num_threads(self.threads)
        configure_project(self.package)


#: While a LocalCluster closes, its nannies warn "Worker process still alive after 4.0
#: seconds, killing": a worker that imported torch, xgboost and MLflow can take longer than
#: Dask's 4 s to exit, after every result is in, and killing it loses nothing.
NANNY = "distributed.nanny"
#: Loggers of a LocalCluster's scheduler and nannies, which run in this process: at INFO they
#: print some fifty lines a run ("State start", "Remove client", "Lost all workers", a
#: jupyter-server-proxy hint); warnings still show, and the runner logs the dashboard link.
QUIET = {"distributed": logging.WARNING, NANNY: logging.WARNING}
#: Logging of LocalCluster workers: warnings and errors only. Each worker process imports
#: Kedro, which logs which logging file it uses at INFO (three lines a worker).
WORKER_LOGGING = """\
version: 1
disable_existing_loggers: false
formatters:
  plain: {format: "%(asctime)s - %(name)s - %(levelname)s - %(message)s"}
handlers:
  console: {class: logging.StreamHandler, level: WARNING, formatter: plain,
            stream: ext://sys.stderr}
root: {level: WARNING, handlers: [console]}
"""


def _worker_env(cluster_args: dict[str, Any], stack: ExitStack) -> dict[str, str]:
    """Environment of LocalCluster workers: their OpenMP threads, and
    :data:`WORKER_LOGGING` (``KEDRO_LOGGING_CONFIG``, a file kept while the cluster is)."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="synthbalance-")))
    (folder / "logging.yml").write_text(WORKER_LOGGING)
    return {"OMP_NUM_THREADS": str(cluster_args["threads_per_worker"]),
            "KEDRO_LOGGING_CONFIG": str(folder / "logging.yml")}


class DaskRunner(AbstractRunner):
    """Runs a pipeline's nodes as Dask tasks, on a ``LocalCluster`` or an existing scheduler.

    Args:
        client_args: keyword arguments of ``distributed.Client`` (``address``: a scheduler).
        cluster_args: keyword arguments of ``distributed.LocalCluster`` (when no address),
            over :data:`DEFAULT_CLUSTER`.
        is_async: load and save a node's datasets in threads (Kedro's ``--async``).
    """

    def __init__(self, client_args: dict[str, Any] | None = None,
                 cluster_args: dict[str, Any] | None = None, is_async: bool = False):
        super().__init__(is_async=is_async)
        self._client_args = dict(client_args or {})
        self._cluster_args = dict(cluster_args or {})

    def run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
            run_id: str | None = None, only_missing_outputs: bool = False) -> dict[str, Any]:
        """Open the client (and cluster), run the pipeline on it, close them.

        Raises:
            ConfigError: a dataset of ``pipeline`` logs to the process's MLflow run.
        """
        _refuse_active_run_datasets(pipeline, catalog)
        self._warn_sqlite()
        with self.client(catalog):
            return super().run(pipeline, catalog, hook_manager, run_id, only_missing_outputs)

    @contextmanager
    def client(self, catalog: Any = None) -> Iterator[Client]:
        """The Dask client of a run (settings from ``catalog``'s ``params:dask_client``),
        its workers set up by :class:`_ProjectWorker`; a LocalCluster it opened is closed
        after."""
        from kedro.framework.project import PACKAGE_NAME

        client_args, cluster_args, threads = self._settings(catalog or DataCatalog())
        with ExitStack() as stack:
            cluster = None
            if not client_args.get("address"):
                env = _worker_env(cluster_args, stack)
                for name, level in QUIET.items():  # restored once the cluster has closed
                    stack.callback(logging.getLogger(name).setLevel,
                                   logging.getLogger(name).level)
                    logging.getLogger(name).setLevel(level)
                cluster = stack.enter_context(LocalCluster(env=env, **cluster_args))
                stack.callback(logging.getLogger(NANNY).setLevel, logging.ERROR)  # at close
            client = stack.enter_context(Client(cluster, **client_args) if cluster
                                         else Client(**client_args))
            client.register_plugin(_ProjectWorker(PACKAGE_NAME or "synthbalance", threads),
                                   name="synthbalance")
            if cluster is not None:
                self._logger.info("Dask dashboard: %s", client.dashboard_link)
            yield client

    def _warn_sqlite(self) -> None:
        """Parallel cells writing to a SQLite store may meet "database is locked"."""
        import mlflow

        if mlflow.get_tracking_uri().startswith("sqlite"):
            self._logger.warning(
                "MLflow logs to %s, a SQLite file, from parallel workers; for many cells "
                "log through a server: python -m synthbalance.compare --runner dask starts "
                "one, or set MLFLOW_TRACKING_URI (docs/cluster.md).", mlflow.get_tracking_uri())

    def _settings(self, catalog: Any) -> tuple[dict[str, Any], dict[str, Any], int]:
        """Client and cluster arguments: the constructor's over ``params:dask_client``."""
        params = dict(catalog.load("params:dask_client")) if "params:dask_client" in \
            catalog else {}
        client_args = {k: v for k, v in params.items() if k == "address" and v}
        cluster_args = {k: params[k] for k in DEFAULT_CLUSTER if params.get(k) is not None}
        cluster_args = {**DEFAULT_CLUSTER, **cluster_args, **self._cluster_args}
        client_args.update(self._client_args)
        threads = params.get("torch_threads") or (
            1 if client_args.get("address") else cluster_args["threads_per_worker"])
        return client_args, cluster_args, int(threads)

    @staticmethod
    def _run_node(node: Node, catalog: Any, is_async: bool, run_id: str | None,
                  *dependencies: Node) -> Node:
        """Run ``node`` in a worker (``dependencies``: the futures Dask waits for first)."""
        hook_manager = _create_hook_manager()
        _register_hooks(hook_manager, settings.HOOKS)
        _register_hooks_entry_points(hook_manager, (*settings.DISABLE_HOOKS_FOR_PLUGINS,
                                                    *WORKER_FREE_PLUGINS))
        # a one-node pipeline's "Completed 1 out of 1 tasks" and "Pipeline execution
        # completed" lines, once per node, say nothing the driver does not say
        logging.getLogger("kedro.runner").setLevel(logging.WARNING)
        SequentialRunner(is_async=is_async).run(Pipeline([node]), catalog, hook_manager,
                                                run_id)
        return node

    def _run(self, pipeline: Pipeline, catalog: Any, hook_manager: Any = None,
             run_id: str | None = None) -> None:
        """Submit every node with its dependencies' futures, then wait for them in order
        of completion; the first failure cancels the rest and is raised."""
        client = Client.current()
        shared = {name: _DaskDataset(f"{run_id}:{name}") for name in pipeline.all_outputs()
                  if isinstance(catalog.get(name), MemoryDataset)}
        futures: dict[Node, Any] = {}
        for node in pipeline.nodes:  # topologically sorted
            futures[node] = client.submit(
                DaskRunner._run_node, node, _node_catalog(node, catalog, shared),
                self._is_async, run_id, *(futures[d] for d in pipeline.node_dependencies[node]),
                key=f"{node.name}-{run_id}", pure=False)
        try:
            for done, (_, node) in enumerate(as_completed(futures.values(), with_results=True)):
                self._logger.info("Completed node: %s (%d of %d)", node.name, done + 1,
                                  len(futures))
        except BaseException:
            client.cancel(list(futures.values()))
            raise
        finally:
            _unpublish(client, shared, pipeline, catalog)

    def _get_executor(self, max_workers: int) -> None:
        return None


def _refuse_active_run_datasets(pipeline: Pipeline, catalog: Any) -> None:
    """Datasets that log to the process's active MLflow run would log, in a worker, to no
    run or a stray one (kedro-mlflow #624, #689): refuse them, naming them and the fix.

    Raises:
        ConfigError: the pipeline has such datasets.
    """
    from synthbalance import datasets

    own = (datasets.MetricsDataset, datasets.MlflowTagsDataset,
           datasets.MlflowSynthesizerDataset)
    found = sorted(name for name in pipeline.datasets() if not name.startswith("params:")
                   and (type(catalog.get(name)).__module__.startswith("kedro_mlflow")
                        or isinstance(catalog.get(name), own)))
    if found:
        raise ConfigError(
            f"The DaskRunner cannot run datasets that log to the MLflow run of their process "
            f"({', '.join(found[:4])}{', ...' if len(found) > 4 else ''}): on a Dask worker "
            "there is none. Run --pipelines=grid on Dask (its cells log with explicit run "
            "ids), and other pipelines with the default runner.")


def _node_catalog(node: Node, catalog: Any, shared: dict[str, _DaskDataset]) -> DataCatalog:
    """The datasets ``node`` reads and writes, in-memory ones replaced by shared ones."""
    names = dict.fromkeys([*node.inputs, *node.outputs])
    return DataCatalog(datasets={n: shared.get(n) or catalog.get(n) for n in names})


def _unpublish(client: Client, shared: dict[str, _DaskDataset], pipeline: Pipeline,
               catalog: Any) -> None:
    """Copy the pipeline's free in-memory outputs home, then free the scheduler's copies."""
    published = set(client.list_datasets())
    for name, dataset in shared.items():
        if dataset._name in published:
            if name in pipeline.outputs():
                catalog.save(name, client.get_dataset(dataset._name))
            client.unpublish_dataset(dataset._name)
