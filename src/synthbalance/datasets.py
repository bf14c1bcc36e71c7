"""Kedro datasets of synthbalance's own: the raw source, plain-data JSON objects, model files.

None of them pickles anything: schemas and transformers are JSON, generators are a
``torch.save`` of plain data and tensors, loaded back with ``weights_only=True``.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import time
from pathlib import PurePosixPath
from typing import Any

import fsspec
import mlflow
import pandas as pd
from kedro.io.core import (
    AbstractDataset,
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

from synthbalance.core.demo import make_demo_table
from synthbalance.core.errors import DataValidationError, ModelFileError
from synthbalance.core.naming import metric_key
from synthbalance.core.postprocess import PostprocessStats
from synthbalance.core.schema import Schema
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.core.transformer import TabularTransformer
from synthbalance.files import AtomicLocalSave, replace_on_close

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


class SourceTableDataset(AbstractDataset[None, pd.DataFrame]):
    """The raw table named by ``ingest.source``: ``demo``, or a CSV / Parquet path or URL.

    Read-only: synthbalance never writes to a user's raw data. ``read_options`` go to
    pandas (``sep``, ``na_values``, ...). Any fsspec URL that kedro-datasets reads works.
    """

    def __init__(
        self,
        source: str = "demo",
        read_options: dict[str, Any] | None = None,
        format: str | None = None,  # noqa: A002 - the user-facing parameter's name
        demo_rows: int = 20_000,
        seed: int = 0,
        metadata: dict[str, Any] | None = None,
    ):
        self._source = source
        self._read_options = dict(read_options or {})
        self._format = format or ("parquet" if source.endswith(_PARQUET_SUFFIXES) else "csv")
        self._demo_rows = demo_rows
        self._seed = seed
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        if self._source == "demo":
            return make_demo_table(self._demo_rows, self._seed)
        self._check_exists()
        if self._format == "parquet":
            return ParquetDataset(filepath=self._source, load_args=self._read_options).load()
        self._check_header()
        try:
            return CSVDataset(filepath=self._source, load_args=self._read_options).load()
        except DatasetError as exc:
            if isinstance(exc.__cause__, pd.errors.EmptyDataError):
                raise DataValidationError(
                    f"ingest.source {self._source!r} is empty; point it at a file with a "
                    "header row and data."
                ) from None
            raise

    def _check_exists(self) -> None:
        fs, path = fsspec.core.url_to_fs(self._source)
        if not fs.exists(path):
            raise DataValidationError(
                f"ingest.source {self._source!r} does not exist. Put the file there (see the "
                "README, 'Your own data') or fix ingest.source."
            )
        if fs.size(path) == 0:
            raise DataValidationError(
                f"ingest.source {self._source!r} is an empty file; point it at a file with a "
                "header row and data."
            )

    def _check_header(self) -> None:
        """pandas silently renames a repeated header ('a', 'a.1'); look at the raw one."""
        keep = ("sep", "encoding", "skiprows", "comment", "quotechar")
        options = {k: v for k, v in self._read_options.items() if k in keep}
        compression = self._read_options.get("compression", "infer")
        try:
            with fsspec.open(self._source, "rb", compression=compression) as handle:
                header = pd.read_csv(handle, header=None, nrows=1, **options)
        except pd.errors.EmptyDataError:
            raise DataValidationError(
                f"ingest.source {self._source!r} has no rows; point it at a file with a "
                "header row and data."
            ) from None
        names = [str(v) for v in header.iloc[0].tolist()]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataValidationError(
                f"Column name(s) {dupes} appear more than once in {self._source!r}; rename "
                "them so each column has a unique name."
            )

    def save(self, data: None) -> None:
        raise DatasetError("The raw table is read-only: synthbalance never writes raw data.")

    def _describe(self) -> dict[str, Any]:
        return {"source": self._source, "format": self._format, "read_options": self._read_options}


def _steps(value: Any) -> Any:
    if isinstance(value, dict):
        return value.items()
    return enumerate(value if isinstance(value, list | tuple) else [value])


class AtomicParquetDataset(AtomicLocalSave, ParquetDataset):
    """kedro-datasets' ``pandas.ParquetDataset``, saved atomically on a local disk.

    A save that fails halfway (a full disk, Ctrl-C) leaves the previous file as it was,
    never a truncated one that the next stage would read (see :mod:`synthbalance.files`).
    """


class SchemaDataset(AtomicLocalSave, JSONDataset):
    """A :class:`~synthbalance.core.schema.Schema` stored as readable, editable JSON."""

    def load(self) -> Schema:  # type: ignore[override]
        return Schema.from_dict(super().load())

    def save(self, data: Schema) -> None:  # type: ignore[override]
        super().save(data.to_dict())


class CleaningRulesDataset(AtomicLocalSave, JSONDataset):
    """Fitted postprocessing rules (:class:`~synthbalance.core.postprocess.PostprocessStats`)."""

    def load(self) -> PostprocessStats:  # type: ignore[override]
        return PostprocessStats.from_dict(super().load())

    def save(self, data: PostprocessStats) -> None:  # type: ignore[override]
        super().save(data.to_dict())


class TransformerDataset(AtomicLocalSave, JSONDataset):
    """A fitted :class:`~synthbalance.core.transformer.TabularTransformer` as JSON."""

    def load(self) -> TabularTransformer:  # type: ignore[override]
        return TabularTransformer.from_state(super().load())

    def save(self, data: TabularTransformer) -> None:  # type: ignore[override]
        super().save(data.to_state())


class MetricsDataset(AbstractDataset[dict, dict]):
    """MLflow metrics of the active run, from ``{name: value | [values] | {step: value}}``.

    Nodes return ordinary dicts of floats; a list becomes a history with steps 0, 1, ...
    (``loss.generator`` per epoch), a dict one with its own steps (``utility.curve.*`` with
    k as the step); NaN values are skipped. Names are logged exactly
    as given (plus ``prefix``), so the contract names in DESIGN.md hold. (kedro-mlflow's own
    metrics dataset renames un-prefixed metrics after the dataset, hence this class.)
    Without an active run (tracking disabled) nothing is logged.
    """

    def __init__(self, prefix: str | None = None, metadata: dict[str, Any] | None = None):
        self._prefix = prefix
        self.metadata = metadata
        self._data: dict[str, Any] | None = None

    def save(self, data: dict[str, Any]) -> None:
        self._data = dict(data)  # what the next node loads: exactly this node's metrics
        run = mlflow.active_run()
        if run is None:
            return
        now = int(time.time() * 1000)
        metrics = [
            Metric(metric_key(self._name(key)), float(v), now, int(step))
            for key, value in data.items()
            for step, v in _steps(value)
            if v is not None and math.isfinite(float(v))
        ]
        client = MlflowClient()
        for start in range(0, len(metrics), 1000):  # MLflow's batch limit
            client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])

    def load(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        metrics = _latest_run("metrics").data.metrics
        prefix = f"{self._prefix}." if self._prefix else ""
        return {k[len(prefix):]: v for k, v in metrics.items() if k.startswith(prefix)}

    def _name(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix}


def _latest_run(what: str) -> Any:
    """The active MLflow run, else the last one of this process, with its data."""
    run = mlflow.active_run() or mlflow.last_active_run()
    if run is None:
        raise DatasetError(f"No MLflow run to read {what} from.")
    return MlflowClient().get_run(run.info.run_id)


class MlflowTagsDataset(AbstractDataset[dict, dict]):
    """Tags of the active MLflow run, from ``{name: value}`` (``advice.arm``, say).

    kedro-mlflow has datasets for metrics and artifacts, none for tags; the values are
    logged as text. Without an active run (tracking disabled) nothing is logged.
    """

    def __init__(self, metadata: dict[str, Any] | None = None):
        self.metadata = metadata
        self._data: dict[str, Any] | None = None

    def save(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        if mlflow.active_run() is not None:
            mlflow.set_tags({k: str(v) for k, v in data.items()})

    def load(self) -> dict[str, Any]:
        return self._data if self._data is not None else dict(_latest_run("tags").data.tags)

    def _describe(self) -> dict[str, Any]:
        return {}


class SynthesizerDataset(AbstractVersionedDataset[Synthesizer, Synthesizer]):
    """A trained :class:`~synthbalance.core.synthesizer.Synthesizer` as a versioned file.

    The file holds plain data and tensors written by ``torch.save`` and is read back with
    ``weights_only=True``: loading a model file never runs code from it.
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        device: str | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **({"auto_mkdir": True} if protocol == "file"
                                                  else {}))
        self._device = device
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def load(self) -> Synthesizer:
        path = get_filepath_str(self._get_load_path(), self._protocol)
        if not self._fs.exists(path):
            raise ModelFileError(f"Model file {path} does not exist; run training first.")
        with self._fs.open(path, "rb") as handle:
            content = handle.read()
        origin = f"Model file {path}" + (f" (version {self.resolve_load_version()})"
                                         if self._version else "")
        try:
            synthesizer = Synthesizer.load(content, device=self._device)
        except ModelFileError as exc:  # the file's name and version, which Synthesizer lacks
            older = (f" Or delete {PurePosixPath(path).parent} to use the version before it."
                     if self._version else "")
            raise ModelFileError(f"{origin}: {exc}{older}") from None
        synthesizer.origin = origin
        return synthesizer

    def save(self, data: Synthesizer) -> None:
        """Write the model file; on a local disk atomically (see :mod:`synthbalance.files`).

        A save that fails (a full disk, an error while serialising, Ctrl-C) leaves no file
        and no empty version folder behind, so the newest version stays the last good one.
        """
        path = get_filepath_str(self._get_save_path(), self._protocol)
        if self._protocol != "file":
            buffer = io.BytesIO()
            data.save(buffer)
            with self._fs.open(path, "wb") as handle:
                handle.write(buffer.getvalue())
        else:
            try:
                with replace_on_close(path, "wb") as handle:
                    data.save(handle)
            except BaseException:
                _remove_empty_folder(PurePosixPath(path).parent if self._version else None)
                raise
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}


def _remove_empty_folder(folder: PurePosixPath | None) -> None:
    """Remove a version folder a failed save created, if nothing is in it."""
    if folder is not None:
        with contextlib.suppress(OSError):  # not empty, or already gone: leave it
            os.rmdir(folder)


class MlflowSynthesizerDataset(AbstractDataset[Synthesizer, Any]):
    """Logs a synthesizer to the active MLflow run as a pyfunc model.

    ``mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"n_rows": [1000]}))`` then returns
    synthetic rows in the original schema (see :mod:`synthbalance.mlflow_model`). The model
    is logged as code plus the plain-data model file, not as a pickled object.
    """

    def __init__(self, artifact_path: str = "generator", metadata: dict[str, Any] | None = None):
        self._artifact_path = artifact_path
        self.metadata = metadata

    def save(self, data: Synthesizer) -> None:
        if mlflow.active_run() is None:
            return
        from synthbalance.mlflow_model import log_synthesizer

        log_synthesizer(data, self._artifact_path)

    def load(self) -> Any:
        run = mlflow.active_run() or mlflow.last_active_run()
        if run is None:
            raise DatasetError("No MLflow run to load the generator from.")
        return mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/{self._artifact_path}")

    def _describe(self) -> dict[str, Any]:
        return {"artifact_path": self._artifact_path}
