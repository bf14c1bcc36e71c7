"""BRFSS read, validated, split and cut the same way for every method of the benchmark."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from synthbalance.core.schema import Schema
from synthbalance.core.split import inner_split, scarce_cut, split_table
from synthbalance.core.validation import validate_table

TARGET = "Diabetes_binary"
#: The 0-30 day counts; declared so they are bounded counts, not free integers.
DAY_COUNTS = ("MentHlth", "PhysHlth")
HINTS: dict[str, dict[str, Any]] = {
    name: {"kind": "count", "bounds": [0, 30]} for name in DAY_COUNTS
}
TEST_SIZE = 0.3
VALIDATION_SIZE = 0.2  # the pipeline's preprocessing.validation_size
SPLIT_SEED = 0


@dataclass(frozen=True)
class Prepared:
    """One setting's data: every frame is shared, so nobody may modify one in place.

    ``train`` holds the training rows after the scarce cut (if any); ``validation`` the
    share of them kept for validation (no generator and no utility classifier trains on
    them, as in the pipeline); ``held_back`` the minority rows the cut removed (the real
    ceiling); ``test`` the untouched test split.
    """

    table: pd.DataFrame
    schema: Schema
    train: pd.DataFrame
    test: pd.DataFrame
    held_back: pd.DataFrame
    validation: pd.DataFrame

    @property
    def minority(self) -> Any:
        return self.schema.minority_classes[0]

    def minority_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame[self.schema.target] == self.minority]

    @property
    def fit(self) -> pd.DataFrame:
        """The training rows a generator may learn from: all but the validation rows."""
        return self.train[~self.train.index.isin(self.validation.index)]

    @property
    def n_minority_train(self) -> int:
        return len(self.minority_rows(self.train))


@functools.lru_cache(maxsize=2)
def read_table(path: str, rows: int | None) -> pd.DataFrame:
    """The raw table, or a seeded sample of ``rows`` of it (in file order)."""
    if not Path(path).exists():
        raise FileNotFoundError(
            f"{path} does not exist. The BRFSS file lives in ../shared/data beside the "
            "checkout; pass its location with --data."
        )
    df = pd.read_csv(path)
    if rows is not None and rows < len(df):
        df = df.sample(n=rows, random_state=SPLIT_SEED).sort_index()
    return df


@functools.lru_cache(maxsize=4)
def prepare(path: str, rows: int | None, scarce_rows: int | None) -> Prepared:
    """Validate with the day-count hints, split 70/30 stratified (seed 0), then cut."""
    table, schema = validate_table(read_table(path, rows), TARGET, HINTS)
    return split_prepared(table, schema, scarce_rows)


def split_prepared(table: pd.DataFrame, schema: Schema, scarce_rows: int | None) -> Prepared:
    """Split 70/30 stratified, cut to ``scarce_rows`` minority training rows (``None``:
    no cut), carve the validation rows; every step with seed 0."""
    train, test = split_table(table, schema, TEST_SIZE, SPLIT_SEED)
    train, held_back = scarce_cut(train, schema, scarce_rows, SPLIT_SEED)
    _, validation = inner_split(train, schema, VALIDATION_SIZE, SPLIT_SEED)
    return Prepared(table, schema, train, test, held_back, validation)


@functools.lru_cache(maxsize=2)
def prepare_setting(name: str, rows: int | None) -> Prepared:
    """A setting of :data:`benchmarks.advice.SETTINGS` (a table and a cut), split as the
    BRFSS benchmark splits: 70/30 stratified, the scarce cut, validation rows, all seed 0.

    ``rows``: a seeded sample of the table (tests); ``None`` keeps every row.
    """
    from benchmarks._advice_cell import setting_table
    from benchmarks.advice import SETTINGS

    table, schema = setting_table(name, rows)
    return split_prepared(table, schema, SETTINGS[name].scarce)
