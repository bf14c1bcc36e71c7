"""Kedro datasets of synthbalance's own: the raw source, plain-data JSON objects, model files.

None of them pickles anything: schemas and transformers are JSON, generators are a
``torch.save`` of plain data and tensors, loaded back with ``weights_only=True``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any

import charset_normalizer
import fsspec
import fsspec.utils
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
from kedro_datasets._typing import JSONPreview, TablePreview
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from synthbalance.core.demo import make_demo_table
from synthbalance.core.errors import DataValidationError, ModelFileError
from synthbalance.core.naming import MAX_METRIC_NAME, metric_names
from synthbalance.core.postprocess import PostprocessStats
from synthbalance.core.reading import csv_read_options
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
        self._check_bytes()
        try:
            if self._format == "parquet":
                return ParquetDataset(filepath=self._source, load_args=self._read_options).load()
            self._check_header()
            options = csv_read_options(self._source, self._read_options)  # codes stay text
            table = CSVDataset(filepath=self._source, load_args=options).load()
        except Exception as exc:  # noqa: BLE001 - explained below, or raised as it was
            cause = exc.__cause__ if isinstance(exc, DatasetError) and exc.__cause__ else exc
            error = self._explain(cause)
            if error is None:
                raise
            raise error from exc
        self._check_separator(table)
        return table

    def _check_exists(self) -> None:
        fs, path = fsspec.core.url_to_fs(self._source)
        if not fs.exists(path):
            raise DataValidationError(
                f"ingest.source {self._source!r} does not exist. Put the file there (see the "
                "README, 'Your own data') or fix ingest.source."
            )
        if fs.isdir(path):
            inside = sorted(PurePosixPath(p).name for p in fs.ls(path, detail=False))[:5]
            raise DataValidationError(
                f"ingest.source {self._source!r} is a folder (holding {inside}); point "
                "ingest.source at one CSV or Parquet file in it."
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

    def _check_bytes(self) -> None:
        """Compare the file's first bytes with the format and compression it is read as."""
        with fsspec.open(self._source, "rb") as handle:
            found = _kind_of(handle.read(8))
        if self._format == "parquet" or found == "parquet":
            if (self._format == "parquet") != (found == "parquet"):
                actual = "a Parquet file" if found == "parquet" else "not a Parquet file"
                other = "parquet" if found == "parquet" else "csv"
                raise DataValidationError(
                    f"ingest.source {self._source!r} is {actual} but is read as "
                    f"{self._format}; set ingest.format={other}."
                )
            return
        expected = self._read_options.get("compression", "infer")
        if isinstance(expected, dict):
            expected = expected.get("method", "infer")
        if expected == "infer":
            expected = fsspec.utils.infer_compression(self._source)
        if found != expected:
            raise DataValidationError(
                f"ingest.source {self._source!r} is "
                f"{f'{found}-compressed' if found else 'not compressed'} but is read as "
                f"{f'{expected}-compressed' if expected else 'plain text'}; set "
                f"ingest.read_options.compression={found or 'null'} (or rename the file)."
            )

    def _explain(self, exc: BaseException) -> DataValidationError | None:
        """A reading error as one message naming the read option that fixes it."""
        if isinstance(exc, DataValidationError):
            return exc
        if isinstance(exc, pd.errors.EmptyDataError):
            return DataValidationError(
                f"ingest.source {self._source!r} is empty; point it at a file with a header "
                "row and data."
            )
        if isinstance(exc, UnicodeDecodeError):
            return DataValidationError(_encoding_message(self._source, exc, self._read_options))
        if isinstance(exc, pd.errors.ParserError):
            sep = self._read_options.get("sep", ",")
            return DataValidationError(
                _parser_message(self._source, str(exc), sep)
                + (_separator_hint(self._header_line(), sep) or "")
            )
        return None

    def _header_line(self) -> str:
        """The file's first line, decoded leniently (for hints only)."""
        compression = self._read_options.get("compression", "infer")
        with fsspec.open(self._source, "rb", compression=compression) as handle:
            return handle.readline(65_536).decode("utf-8", errors="replace")

    def _check_separator(self, table: pd.DataFrame) -> None:
        """One column whose name holds another separator: the separator is wrong."""
        if table.shape[1] != 1:
            return
        hint = _separator_hint(str(table.columns[0]), self._read_options.get("sep", ","))
        if hint:
            raise DataValidationError(
                f"ingest.source {self._source!r} was read as one column "
                f"{str(table.columns[0])[:80]!r}.{hint}"
            )

    def save(self, data: None) -> None:
        raise DatasetError("The raw table is read-only: synthbalance never writes raw data.")

    def _describe(self) -> dict[str, Any]:
        return {"source": self._source, "format": self._format, "read_options": self._read_options}


#: The first bytes of each format or compression the raw table may come in.
_MAGIC = (
    (b"PAR1", "parquet"), (b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "zip"), (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
)
_SEPARATORS = (";", "\t", "|", ",")


def _kind_of(head: bytes) -> str | None:
    """``parquet``, a compression name (as pandas and fsspec spell it), or None: text."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _separator_hint(header: str, sep: str) -> str | None:
    """A sentence naming the separator ``header`` seems to use, if not ``sep``."""
    try:
        found = csv.Sniffer().sniff(header, delimiters="".join(_SEPARATORS)).delimiter
    except csv.Error:
        found = next((c for c in _SEPARATORS if c in header), None)
    if found is None or found == sep:
        return None
    value = "\\t" if found == "\t" else found
    return (f" Its separator looks like {found!r}, not {sep!r}: set ingest.read_options.sep "
            f"(in YAML, sep: \"{value}\"; on the command line, --params "
            f"'ingest.read_options.sep=\"{value}\"').")


def _parser_message(source: str, error: str, sep: str) -> str:
    """pandas' ParserError as the line at fault and the two ways out."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", error)
    if found is None:
        return (f"ingest.source {source!r} could not be parsed as CSV with "
                f"ingest.read_options.sep={sep!r} ({error.strip()}); check the separator, "
                "quotechar and comment options.")
    expected, line, saw = found.groups()
    return (f"Line {line} of {source!r} has {saw} fields where the header has {expected} "
            f"(separator {sep!r}). Fix that line (a value holding the separator needs quotes), "
            "or skip such lines with ingest.read_options.on_bad_lines=skip "
            "(on_bad_lines=warn lists them).")


def _encoding_message(source: str, exc: UnicodeDecodeError, options: dict[str, Any]) -> str:
    """Which encoding the file seems to be in, from charset-normalizer's guess."""
    guess = charset_normalizer.from_bytes(exc.object[:65_536]).best()
    name = codecs.lookup(guess.encoding).name if guess else "latin-1"
    return (f"ingest.source {source!r} is not {options.get('encoding', 'utf-8')} text (byte "
            f"{exc.object[exc.start:exc.start + 1]!r} at position {exc.start}). Set "
            "ingest.read_options.encoding to the file's encoding: charset-normalizer guesses "
            f"{name}; files saved by Excel on Windows are usually cp1252 (a superset of "
            "latin-1), e.g. --params 'ingest.read_options.encoding=cp1252'.")


def _steps(value: Any) -> Any:
    if isinstance(value, dict):
        return value.items()
    return enumerate(value if isinstance(value, list | tuple) else [value])


def _from_json(dataset: JSONDataset, build: Callable[[Any], Any], what: str,
               pipeline: str) -> Any:
    """``build`` applied to the JSON file of ``dataset``.

    Raises:
        ModelFileError: the file is missing, not JSON, or not what ``build`` reads; the
            message names the file and the pipeline that writes it again.
    """
    path = str(dataset._filepath)
    if not dataset.exists():
        raise ModelFileError(
            f"{path} (the saved {what}) does not exist; run kedro run --pipelines={pipeline} "
            "to write it."
        )
    try:
        return build(JSONDataset.load(dataset))
    except (DatasetError, KeyError, TypeError, ValueError, AttributeError) as exc:
        cause = exc.__cause__ if isinstance(exc, DatasetError) and exc.__cause__ else exc
        detail = (str(cause).splitlines() or [""])[0][:200]
        raise ModelFileError(
            f"{path} (the saved {what}) is corrupt or not a {what} synthbalance wrote "
            f"({type(cause).__name__}: {detail}). Delete it and run kedro run "
            f"--pipelines={pipeline} to write it again."
        ) from exc


class AtomicParquetDataset(AtomicLocalSave, ParquetDataset):
    """kedro-datasets' ``pandas.ParquetDataset``, saved atomically on a local disk.

    A save that fails halfway (a full disk, Ctrl-C) leaves the previous file as it was,
    never a truncated one that the next stage would read (see :mod:`synthbalance.files`).
    """


def _table_preview(table: pd.DataFrame) -> TablePreview:
    """``table`` as kedro-viz's table preview (pandas' ``split`` layout), missing as null.

    kedro-viz answers previews as JSON, which has no NaN.
    """
    cells = table.astype(object).where(table.notna(), None)
    return TablePreview(cells.to_dict(orient="split", index=False))


# kedro-viz previews (its "preview" docs): a ``preview`` method whose return annotation names
# the preview type. JSONDataset's own preview dumps what ``load`` returns, which for the
# datasets below is an object, not JSON: kedro-viz logged a serialisation error instead.
class SchemaDataset(AtomicLocalSave, JSONDataset):
    """A :class:`~synthbalance.core.schema.Schema` stored as readable, editable JSON."""

    def load(self) -> Schema:  # type: ignore[override]
        return _from_json(self, Schema.from_dict, "schema", "ingest")

    def save(self, data: Schema) -> None:  # type: ignore[override]
        super().save(data.to_dict())

    def preview(self) -> JSONPreview:
        """The schema as written: target, classes, and each column's kind, bounds, levels."""
        return JSONPreview(json.dumps(self.load().to_dict()))


class CleaningRulesDataset(AtomicLocalSave, JSONDataset):
    """Fitted postprocessing rules (:class:`~synthbalance.core.postprocess.PostprocessStats`)."""

    def load(self) -> PostprocessStats:  # type: ignore[override]
        return _from_json(self, PostprocessStats.from_dict, "cleaning rules", "postprocessing")

    def save(self, data: PostprocessStats) -> None:  # type: ignore[override]
        super().save(data.to_dict())

    def preview(self) -> TablePreview:
        """One row per column: bounds, level count and missing share (``summary()``)."""
        return _table_preview(self.load().summary())


class TransformerDataset(AtomicLocalSave, JSONDataset):
    """A fitted :class:`~synthbalance.core.transformer.TabularTransformer` as JSON."""

    def load(self) -> TabularTransformer:  # type: ignore[override]
        return _from_json(self, TabularTransformer.from_state, "transformer",
                          "preprocessing")

    def save(self, data: TabularTransformer) -> None:  # type: ignore[override]
        super().save(data.to_state())

    def preview(self) -> TablePreview:
        """One row per column: its kind, encoding and width (``summary()``)."""
        return _table_preview(self.load().summary())


class MetricsDataset(AbstractDataset[dict, dict]):
    """MLflow metrics of the active run, from ``{name: value | [values] | {step: value}}``.

    Nodes return ordinary dicts of floats; a list becomes a history with steps 0, 1, ...
    (``loss.generator`` per epoch), a dict one with its own steps (``utility.curve.*`` with
    k as the step); NaN values are skipped. Names are logged exactly
    as given (plus ``prefix``), so the contract names in DESIGN.md hold; a name MLflow
    refuses is made safe, and kept apart from the others, by
    :func:`~synthbalance.core.naming.metric_names`. (kedro-mlflow's own
    metrics dataset renames un-prefixed metrics after the dataset, hence this class.)
    Single values (not histories) are also linked to the generator models the run has
    logged so far (MLflow 3 ``LoggedModel`` metrics), so a model's page shows the
    evaluation of its own rows; MLflow itself links only what was logged before the model.
    Without an active run (tracking disabled) nothing is logged.

    Metrics a later stage reads (``postprocess_metrics`` in the evaluation's
    ``metrics.csv``, the evaluation's in the advice) are also written to ``filepath`` as
    JSON, beside the rows they describe, so a run of that stage alone
    (``kedro run --pipelines=evaluation``) reads them from there: its own MLflow run has
    none. ``pipeline`` is the pipeline that writes them, named when the file is missing.
    """

    def __init__(self, prefix: str | None = None, filepath: str | None = None,
                 pipeline: str | None = None, metadata: dict[str, Any] | None = None):
        self._prefix = prefix
        self._file = None if filepath is None else _MetricsFile(
            filepath=filepath, save_args={"indent": 1, "default": float})
        self._pipeline = pipeline or "<the stage that writes them>"
        self.metadata = metadata
        self._data: dict[str, Any] | None = None

    def save(self, data: dict[str, Any]) -> None:
        self._data = dict(data)  # what the next node loads: exactly this node's metrics
        if self._file is not None:
            self._file.save(self._data)
        run = mlflow.active_run()
        if run is None:
            return
        client = MlflowClient()
        metrics = mlflow_metrics({self._name(key): value for key, value in data.items()},
                                 _run_models(client, run.info.run_id))
        for start in range(0, len(metrics), 1000):  # MLflow's batch limit
            client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])

    def load(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        if self._file is not None:
            return _from_json(self._file, dict, "metrics", self._pipeline)
        metrics = _latest_run("metrics").data.metrics
        prefix = f"{self._prefix}." if self._prefix else ""
        return {k[len(prefix):]: v for k, v in metrics.items() if k.startswith(prefix)}

    def _exists(self) -> bool:
        # without a file, load reads the MLflow run, which always answers
        return self._data is not None or self._file is None or self._file.exists()

    def _name(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix,
                "filepath": None if self._file is None else str(self._file._filepath)}


class _MetricsFile(AtomicLocalSave, JSONDataset):
    """The JSON copy of a :class:`MetricsDataset`'s metrics (numpy numbers as floats)."""


def _run_models(client: MlflowClient, run_id: str) -> list[str | None]:
    """Ids of the models run ``run_id`` has logged, else ``[None]`` (link to no model)."""
    outputs = client.get_run(run_id).outputs
    return [m.model_id for m in (outputs.model_outputs if outputs else [])] or [None]


def mlflow_metrics(data: dict[str, Any], models: Sequence[str | None] = (None,)
                   ) -> list[Metric]:
    """MLflow metrics from ``{name: value | [values] | {step: value}}`` (see
    :class:`MetricsDataset`): lists and dicts become histories, NaN and None are skipped,
    names MLflow refuses are made safe. A single value is linked to each of ``models``
    (logged-model ids; ``None``: the run only); histories stay on the run."""
    now = int(time.time() * 1000)
    names = metric_names(data, max_length=MAX_METRIC_NAME)
    return [Metric(names[key], float(v), now, int(step), model_id=model)
            for key, value in data.items() for step, v in _steps(value)
            if v is not None and math.isfinite(float(v))
            # a metric row per model: the run's own copies are written once (same key)
            for model in (models if not isinstance(value, dict | list | tuple) else [None])]


class MlflowCellRunDataset(AbstractDataset[dict, dict]):
    """One cell of the comparison grid as its own MLflow run, nested under the grid's run.

    Saves a record of :func:`~synthbalance.pipelines.grid.nodes.cell_record`: ``parent``
    (``tracking_uri``, ``experiment_id``, ``run_id`` of the parent run), ``name``,
    ``tags``, ``params`` (nested dicts flattened with ``.``) and ``metrics`` (as
    :class:`MetricsDataset` takes them). It logs through ``MlflowClient(tracking_uri)``
    with the new run's explicit id, never the process's active run, so a cell logs the
    same from a Dask worker as from the main process (kedro-mlflow #624, #689), and it
    holds no client or file: it pickles. No parent run (tracking off): nothing is logged.
    """

    def __init__(self, metadata: dict[str, Any] | None = None):
        self.metadata = metadata
        self._data: dict[str, Any] | None = None

    def save(self, data: dict[str, Any]) -> None:
        self._data = data
        parent = data["parent"]
        if not parent.get("run_id"):
            return
        client = MlflowClient(parent["tracking_uri"])
        tags = {**{k: str(v) for k, v in data["tags"].items()},
                "mlflow.parentRunId": parent["run_id"], "synthbalance.grid": "cell"}
        run = client.create_run(parent["experiment_id"], run_name=data["name"], tags=tags)
        try:
            params = [Param(k, str(v)[:6000]) for k, v in _flat(data["params"]).items()]
            metrics = mlflow_metrics(data["metrics"])
            for start in range(0, max(len(metrics), len(params)), 100):
                client.log_batch(run.info.run_id, metrics=metrics[start : start + 100],
                                 params=params[start : start + 100])
        except BaseException:
            client.set_terminated(run.info.run_id, status="FAILED")
            raise
        client.set_terminated(run.info.run_id)

    def load(self) -> dict[str, Any]:
        if self._data is None:
            raise DatasetError("A grid cell's run is read from MLflow (experiment_table), "
                               "not from the catalog.")
        return self._data

    def _describe(self) -> dict[str, Any]:
        return {}


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


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
            synthesizer = Synthesizer.load(content, device=self._device, name="this file")
        except ModelFileError as exc:  # the file's name and version, which Synthesizer lacks
            older = (f" Or delete {PurePosixPath(path).parent} to use the version before it."
                     if self._version else "")
            raise ModelFileError(f"{origin}: {exc}{older}") from None
        synthesizer.origin = origin
        synthesizer.version = self.resolve_load_version() if self._version else None
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
