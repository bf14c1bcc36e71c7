"""Every bad input of issue 14 ends in one message naming the file, column or parameter and
the fix, and ``kedro run`` prints it without a stack trace unless asked to."""

from __future__ import annotations

import gzip
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io.core import Version

from synthbalance.cli import own_error, split_params
from synthbalance.core.errors import ConfigError, DataValidationError, ModelFileError
from synthbalance.core.split import class_rows_needed, inner_split, split_table
from synthbalance.core.synthesizer import Synthesizer
from synthbalance.core.validation import validate_table
from synthbalance.datasets import SchemaDataset, SourceTableDataset, SynthesizerDataset
from synthbalance.params import parse_params
from synthbalance.pipelines.ingest.nodes import validate_raw_table

ROWS = "a,b,label\n1,2,0\n3,4,1\n5,6,0\n"


def _write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _parquet(path: Path) -> Path:
    pd.read_csv(io.StringIO(ROWS)).to_parquet(path)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    _write(path / "part.csv", ROWS)
    return path


# name, how the file is made, the message (regex), the options that fix it
READING = [
    ("semicolon.csv", lambda p: _write(p, ROWS.replace(",", ";")),
     r"one column 'a;b;label'.*separator looks like ';'.*ingest.read_options.sep",
     {"read_options": {"sep": ";"}}),
    ("tab.csv", lambda p: _write(p, ROWS.replace(",", "\t")),
     r"separator looks like '\\t'.*sep: \"\\t\"", {"read_options": {"sep": "\t"}}),
    ("excel.csv", lambda p: _write(p, "name,label\nJosé,0\nRené,1\n".encode("cp1252")),
     r"not utf-8 text.*ingest.read_options.encoding.*cp1252",
     {"read_options": {"encoding": "cp1252"}}),
    ("zipped_without_suffix.csv", lambda p: _write(p, gzip.compress(ROWS.encode())),
     r"gzip-compressed but is read as plain text.*ingest.read_options.compression=gzip",
     {"read_options": {"compression": "gzip"}}),
    ("plain.csv.gz", lambda p: _write(p, ROWS),
     r"not compressed but is read as gzip-compressed.*compression=null",
     {"read_options": {"compression": None}}),
    ("table.csv", _parquet, r"is a Parquet file but is read as csv; set ingest.format=parquet",
     {"format": "parquet"}),
    ("table.parquet", lambda p: _write(p, ROWS),
     r"is not a Parquet file but is read as parquet; set ingest.format=csv", {"format": "csv"}),
    ("extra_field.csv", lambda p: _write(p, ROWS + "7,8,9,1\n9,9,0\n"),
     r"Line 5 of .* has 4 fields where the header has 3.*ingest.read_options.on_bad_lines=skip",
     {"read_options": {"on_bad_lines": "skip"}}),
]


@pytest.mark.parametrize(("name", "make", "message", "fix"), READING,
                         ids=[case[0] for case in READING])
def test_a_reading_error_names_the_option_that_fixes_it(tmp_path, name, make, message, fix):
    path = make(tmp_path / name)
    with pytest.raises(Exception) as info:
        SourceTableDataset(str(path)).load()
    error = own_error(info.value)
    assert isinstance(error, DataValidationError)
    assert name in str(error)
    assert re.search(message, str(error), flags=re.S), str(error)
    assert SourceTableDataset(str(path), **fix).load().shape[1] == 3 - (name == "excel.csv")


def test_a_folder_as_the_source(tmp_path):
    with pytest.raises(Exception) as info:
        SourceTableDataset(str(_folder(tmp_path / "exports"))).load()
    assert isinstance(own_error(info.value), DataValidationError)
    assert "is a folder (holding ['part.csv']); point ingest.source at one" in \
        str(own_error(info.value))


@pytest.mark.parametrize("text", ['{"target": "label", "columns": {', '{"kind": 1}'])
def test_a_corrupt_schema_file_names_the_file_and_the_pipeline_that_rewrites_it(tmp_path,
                                                                                   text):
    path = _write(tmp_path / "schema.json", text)
    with pytest.raises(Exception) as info:
        SchemaDataset(filepath=str(path)).load()
    error = own_error(info.value)
    assert isinstance(error, ModelFileError)
    assert str(path) in str(error) and "is corrupt" in str(error)
    assert "Delete it and run kedro run --pipelines=ingest" in str(error)


@pytest.mark.parametrize(("given", "arrives"), [
    ("ingest.read_options.na_values=?", "?"),
    ("ingest.read_options.na_values=[?]", ["?"]),
    ('ingest.read_options.na_values=["?","n/a"]', ["?", "n/a"]),
    ("ingest.read_options.na_values=[?, n/a]", ["?", "n/a"]),
    ("ingest.read_options.na_values=n/a", "n/a"),
])
def test_na_values_on_the_command_line_in_the_forms_the_readme_shows(given, arrives):
    params = split_params(None, None, f"ingest.target=label,{given},seed=3")
    assert params["ingest"]["read_options"]["na_values"] == arrives
    assert params["ingest"]["target"] == "label" and params["seed"] == 3
    read = parse_params(params).ingest.read_options.pandas_options()
    assert read["na_values"] == arrives


@pytest.mark.parametrize("given", ["decimal=','", 'decimal=","', "decimal=\\,"])
def test_a_quoted_or_escaped_comma_arrives_as_a_comma(given):
    params = split_params(None, None, f"ingest.read_options.{given},seed=1")
    assert params == {"ingest": {"read_options": {"decimal": ","}}, "seed": 1}


@pytest.mark.parametrize(("given", "arrives"), [
    ('ingest.read_options.sep="\\t"', {"ingest": {"read_options": {"sep": "\t"}}}),
    ("training.hidden_dims=[128, 64]", {"training": {"hidden_dims": [128, 64]}}),
    ("ingest.drop_columns=[id, name]", {"ingest": {"drop_columns": ["id", "name"]}}),
])
def test_a_tab_and_lists_with_several_items_on_the_command_line(given, arrives):
    assert split_params(None, None, given) == arrives


def test_a_bare_comma_is_refused_with_the_form_that_works():
    params = split_params(None, None, "ingest.read_options.decimal=,seed=1")
    with pytest.raises(ConfigError) as info:
        parse_params(params)
    assert "ingest.read_options.decimal' is None" in str(info.value)
    assert "--params \"ingest.read_options.decimal=','\"" in str(info.value)


def test_nrows_that_is_not_a_number():
    with pytest.raises(ConfigError, match=r"'ingest.read_options.nrows' is 'abc'.*integer"):
        parse_params(split_params(None, None, "ingest.read_options.nrows=abc"))


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=300), "label": np.r_[[1] * 30, [0] * 270]})


def test_a_target_in_drop_columns_is_blamed_on_drop_columns(table):
    with pytest.raises(ConfigError, match=r"ingest.drop_columns lists 'label', the label"):
        validate_table(table, "label", drop_columns=["label"])


def test_a_continuous_target_is_named_in_a_few_words(table):
    with pytest.raises(DataValidationError) as info:
        validate_table(table, "x")
    assert "has 300 distinct values in 300 rows" in str(info.value)
    assert "looks continuous" in str(info.value) and "and 295 more" in str(info.value)
    assert len(str(info.value)) < 600


def test_a_class_too_small_for_the_splits_stops_at_ingest(table):
    small = table.iloc[25:]  # 5 rows of class 1
    ingest = {"source": "t.csv", "target": "label", "min_class_rows": 5}
    with pytest.raises(DataValidationError) as info:
        validate_raw_table(small, ingest, {"test_size": 0.3, "validation_size": 0.2})
    message = str(info.value)
    for part in ("'label'", "1: 5 rows", "at least 8 rows", "ingest.min_class_rows=5",
                 "preprocessing.test_size=0.3", "no split shares let it through"):
        assert part in message, message


def test_the_split_shares_a_small_class_is_told_to_use_let_it_through(table):
    seven = table.iloc[23:]  # 7 rows of class 1: too few at the default shares
    ingest = {"source": "t.csv", "target": "label", "min_class_rows": 5}
    with pytest.raises(DataValidationError) as info:
        validate_raw_table(seven, ingest, {"test_size": 0.3, "validation_size": 0.2})
    shares = re.search(r"test_size=([\d.]+) and preprocessing.validation_size=([\d.]+) \(",
                       str(info.value))
    assert shares, str(info.value)
    advised = {"test_size": float(shares[1]), "validation_size": float(shares[2])}
    validate_raw_table(seven, ingest, advised)  # the advice works


@pytest.mark.parametrize(("test_size", "validation_size"), [(0.3, 0.2), (0.5, 0.5), (0.1, 0.25)])
def test_the_rows_a_class_needs_are_enough_for_every_split(test_size, validation_size):
    """A class of exactly the needed rows leaves 2 test, 1 validation and 2 fitting rows;
    one row fewer is refused."""
    from synthbalance.core.schema import infer_schema

    needed = class_rows_needed(test_size, validation_size)
    labels = np.r_[[1] * needed, [0] * 400]
    df = pd.DataFrame({"x": np.arange(len(labels), dtype=float), "label": labels})
    schema = infer_schema(df, "label")
    for seed in range(5):
        train, test = split_table(df, schema, test_size, seed)
        fit, validation = inner_split(train, schema, validation_size, seed)
        assert (test["label"] == 1).sum() >= 2 and (validation["label"] == 1).sum() >= 1
        assert (fit["label"] == 1).sum() >= 2
    with pytest.raises(DataValidationError, match="too small for the splits"):
        validate_table(df.iloc[1:], "label", min_class_rows=2,
                       split_shares=(test_size, validation_size))


def test_a_scarce_cut_too_small_for_validation_and_smote():
    with pytest.raises(ConfigError, match=r"scarce_minority_rows=2 keeps too few.*at least 5"):
        parse_params({"preprocessing": {"scarce_minority_rows": 2}})


class _NotPlainData:
    pass


def test_a_refused_model_file_names_the_file_its_version_and_the_risk(tmp_path):
    version = "2026-01-01T00.00.00.000Z"
    folder = tmp_path / "generator.pt" / version
    folder.mkdir(parents=True)
    torch.save({"format": "synthbalance.synthesizer", "x": _NotPlainData()},
               folder / "generator.pt")
    dataset = SynthesizerDataset(str(tmp_path / "generator.pt"), version=Version(None, None))
    with pytest.raises(Exception) as info:
        dataset.load()
    message = str(own_error(info.value))
    assert isinstance(own_error(info.value), ModelFileError)
    assert str(folder / "generator.pt") in message and f"(version {version})" in message
    assert "weights_only=False" in message and "would run code from the file" in message
    assert "only with a file you made yourself" in message
    assert "kedro run --pipelines=training" in message
    with pytest.raises(ModelFileError, match="was refused"):
        Synthesizer.load(folder / "generator.pt")


def test_a_corrupt_model_file_is_called_corrupt_not_refused(tmp_path):
    path = tmp_path / "generator.pt"
    path.write_bytes(b"garbage\n" * 10)  # no pickled class in it: nothing was refused
    with pytest.raises(ModelFileError) as info:
        Synthesizer.load(path)
    assert "is corrupt" in str(info.value) and "refused" not in str(info.value)


def _kedro(args: list[str], project: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", **env}
    return subprocess.run(args, cwd=project, env=environ, capture_output=True, text=True,
                          timeout=300, check=False)


def test_kedro_run_prints_the_message_without_a_stack_trace(project):
    _write(project / "semicolon.csv", ROWS.replace(",", ";"))
    params = ("--params=ingest.source=semicolon.csv,ingest.target=label,"
              "ingest.read_options.na_values=[?, n/a]")
    quiet = _kedro(["kedro", "run", "--pipelines=ingest", params], project)
    output = quiet.stdout + quiet.stderr
    assert quiet.returncode != 0
    assert "Traceback" not in output and "❱" not in output
    block = output[output.index("DataValidationError: "):].strip().splitlines()
    assert len(block) < 15, block
    assert "ingest.read_options.sep" in block[0] and "semicolon.csv" in block[0]
    loud = _kedro([sys.executable, "-m", "synthbalance", "--pipelines=ingest", params,
                   "--verbose"], project)
    assert loud.returncode != 0 and "Traceback" in loud.stdout + loud.stderr
    assert "ingest.read_options.sep" in loud.stdout + loud.stderr


@pytest.mark.parametrize("switch", ["0", "1"])
def test_the_environment_switch_brings_the_traceback_back(project, monkeypatch, switch):
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from synthbalance.cli import TRACEBACK_ENV, run

    bootstrap_project(project)
    monkeypatch.setenv(TRACEBACK_ENV, switch)
    _write(project / "semicolon.csv", ROWS.replace(",", ";"))
    result = CliRunner().invoke(run, ["--pipelines=ingest",
                                      "--params=ingest.source=semicolon.csv,ingest.target=label"])
    assert result.exit_code != 0
    if switch == "1":  # raised as it was, for the traceback
        assert isinstance(own_error(result.exception), DataValidationError)
    else:
        assert isinstance(result.exception, SystemExit)
        assert "DataValidationError: " in result.output and "ingest.read_options.sep" in \
            result.output


def test_python_dash_m_takes_the_word_run_as_kedro_does():
    for args in (["run", "--help"], ["--help"]):
        done = subprocess.run([sys.executable, "-m", "synthbalance", *args], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0 and "--params" in done.stdout, done.stderr[-500:]
