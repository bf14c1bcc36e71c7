"""The peers of the tables benchmark, trained the way their users would train them.

- CTGAN and TVAE: SDV's single-table synthesizers (the ``bench`` extra; BUSL-licensed, so
  never imported by ``src/``), per class on the minority fitting rows, the schema's
  discrete columns declared categorical, batch 500 (SDV's default).
- TabularARGN: MOSTLY AI's open-source engine (``mostlyai-engine``), per class on the
  same rows, with its own defaults but the epoch budget. It brings transformers and
  torchvision; where they do not fit the project's environment it runs in a virtual
  environment of its own (``--argn-python``; see benchmarks/README.md).

Each trainer returns ``(sample, measured)``: ``sample(n, seed)`` gives ``n`` raw rows with
the target column, which the worker cleans with the same postprocessing as ours.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pandas as pd

from benchmarks._data import Prepared
from benchmarks._methods import (
    ctgan_discrete_columns,
    ctgan_epoch_timer,
    ctgan_transformer_timer,
    timed,
)

PEER_NAMES: tuple[str, ...] = ("ctgan", "tvae", "argn")
Sampler = Callable[[int, int], pd.DataFrame]


def train_peer(name: str, data: Prepared, epochs: int, seed: int,
               minutes: float = 1.0) -> tuple[Sampler, dict]:
    """Train peer ``name`` (one of :data:`PEER_NAMES`) on the minority fitting rows;
    ``minutes`` caps TabularARGN's training (its ``max_training_time``)."""
    if name == "argn":
        return _train_argn(data, epochs, seed, minutes)
    return _train_sdv(name, data, epochs, seed)


def _train_sdv(name: str, data: Prepared, epochs: int, seed: int) -> tuple[Sampler, dict]:
    """SDV's ``CTGANSynthesizer`` or ``TVAESynthesizer`` (which handle missing values that
    the bare ``ctgan`` classes fail on), with the schema's discrete columns declared
    categorical; epochs timed from inside the ``ctgan`` fit loop they run."""
    import numpy as np
    import torch
    from ctgan.synthesizers import ctgan as ctgan_module
    from ctgan.synthesizers import tvae as tvae_module
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, TVAESynthesizer

    schema = data.schema
    train = data.minority_rows(data.fit)[schema.names]
    metadata = Metadata.detect_from_dataframes({"table": train})  # SDV 1.x and 2.x alike
    if metadata.tables["table"].primary_key:  # e.g. credit card's Time: a feature, not an id
        metadata.remove_primary_key(table_name="table")
    discrete = set(ctgan_discrete_columns(data, "schema"))
    for column in schema.names:
        metadata.update_column(column_name=column, table_name="table",
                               sdtype="categorical" if column in discrete else "numerical")
    maker = CTGANSynthesizer if name == "ctgan" else TVAESynthesizer
    model = maker(metadata, epochs=epochs, enable_gpu=False)
    module = ctgan_module if name == "ctgan" else tvae_module
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the ctgan models draw from the global generators
    with ctgan_transformer_timer() as transformer, ctgan_epoch_timer(module) as seconds:
        _, fit_s = timed(lambda: model.fit(train))

    def sample(n: int, draw_seed: int) -> pd.DataFrame:
        torch.manual_seed(draw_seed)
        np.random.seed(draw_seed)  # noqa: NPY002
        return model.sample(n).assign(**{schema.target: data.minority})

    return sample, {"epochs": epochs, "epoch_rows": len(train), "fit_s": fit_s,
                    "s_per_epoch": statistics.median(seconds),
                    "transformer_fit_s": transformer["fit"]}


def _train_argn(data: Prepared, epochs: int, seed: int,
                minutes: float) -> tuple[Sampler, dict]:
    """TabularARGN with ``max_epochs=epochs`` and ``max_training_time=minutes``; it may stop
    earlier on its own validation share (patience 4), and its epochs are not reported, so
    no s / epoch is given: its fit time includes its analysis and encoding."""
    import torch
    from mostlyai.engine import TabularARGN

    schema = data.schema
    features = [c for c in schema.names if c != schema.target]
    train = data.minority_rows(data.fit)[features]
    model = TabularARGN(max_epochs=epochs, max_training_time=minutes, random_state=seed,
                        device="cpu", verbose=0)
    _, fit_s = timed(lambda: model.fit(train))

    def sample(n: int, draw_seed: int) -> pd.DataFrame:
        torch.manual_seed(draw_seed)
        raw = model.sample(n_samples=n)
        typed = {c: pd.to_numeric(raw[c], errors="coerce").astype(float)
                 for c in features if pd.api.types.is_numeric_dtype(data.train[c])}
        return raw.assign(**typed, **{schema.target: data.minority})[schema.names]

    return sample, {"epochs": epochs, "epoch_rows": len(train), "fit_s": fit_s,
                    "s_per_epoch": None, "max_minutes": minutes}


def peer_importable(name: str) -> str | None:
    """``None`` when peer ``name`` can run in this interpreter, else why not."""
    import importlib.util

    package = "mostlyai.engine" if name == "argn" else "ctgan"
    try:
        found = importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        found = False
    if found:
        return None
    fix = ("pip install -e '.[bench]'" if name != "argn" else
           "pip install mostlyai-engine, or --argn-python with an environment of its own")
    return f"{package} is not importable ({fix})"

