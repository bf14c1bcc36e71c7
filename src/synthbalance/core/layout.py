"""The span layout: the one contract between the tabular transformer and every model.

An encoded row is a concatenation of spans. A span is either a scalar (``tanh``: the
normalised value of a continuous column within its mixture mode) or a one-hot block
(``softmax``: the mixture mode of a continuous column, or the level of a discrete column,
with a last slot for "missing" where the column had missing values).

Models read the layout through :class:`SpanLayout` only; nobody re-derives offsets.
Decoding takes the ``argmax`` of each one-hot block, so a model whose output is a
probability vector (a VAE decoder) must *sample* from it before handing rows back.

Generated rows travel as :class:`CodedRows`: the scalars, plus one level index per one-hot
block. That is the encoded matrix without its zeros: a tenth of the memory on BRFSS, and
nothing for the decoder to ``argmax`` again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

ACTIVATIONS = ("tanh", "softmax")


@dataclass(frozen=True)
class Span:
    """A contiguous block of encoded columns: ``[start, start + width)``."""

    column: str
    start: int
    width: int
    activation: str

    @property
    def end(self) -> int:
        return self.start + self.width

    @property
    def is_onehot(self) -> bool:
        return self.activation == "softmax"


class SpanLayout(Sequence[Span]):
    """An ordered, gap-free list of spans with a few helpers models need."""

    def __init__(self, spans: Sequence[Span]):
        offset = 0
        for span in spans:
            if span.start != offset or span.width < 1 or span.activation not in ACTIVATIONS:
                raise ValueError(f"Span {span} does not continue a valid layout at {offset}.")
            offset = span.end
        self._spans = tuple(spans)
        self.width = offset

    def __getitem__(self, i: Any) -> Any:
        return self._spans[i]

    def __len__(self) -> int:
        return len(self._spans)

    def __iter__(self) -> Iterator[Span]:
        return iter(self._spans)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpanLayout) and self._spans == other._spans

    def __hash__(self) -> int:
        return hash(self._spans)

    @property
    def onehot_spans(self) -> list[Span]:
        return [s for s in self._spans if s.is_onehot]

    @property
    def scalar_spans(self) -> list[Span]:
        return [s for s in self._spans if not s.is_onehot]

    @property
    def scalar_index(self) -> list[int]:
        """Column indices of every scalar span, for vectorised scalar losses."""
        return [s.start for s in self.scalar_spans]

    def to_list(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self._spans]

    @classmethod
    def from_list(cls, data: Sequence[dict[str, Any]]) -> SpanLayout:
        return cls([Span(**d) for d in data])

    def __repr__(self) -> str:
        return f"SpanLayout(width={self.width}, spans={len(self)})"


@dataclass(frozen=True)
class CodedRows:
    """Rows of a layout as ``scalars`` (n, n_scalar spans), float32, in [-1, 1], and
    ``levels`` (n, n_onehot spans), the index of the hot slot of every one-hot block.

    Columns follow the layout's order of scalar spans and of one-hot spans respectively.
    """

    scalars: np.ndarray
    levels: np.ndarray

    def __len__(self) -> int:
        return self.levels.shape[0]

    @classmethod
    def empty(cls, n: int, layout: SpanLayout) -> CodedRows:
        """Uninitialised storage for ``n`` rows (filled batch by batch by a sampler).

        Column-major, so the decoder reads each column as one contiguous array.
        """
        level_dtype = np.int16 if max((s.width for s in layout), default=1) < 2**15 else np.int32
        return cls(
            np.empty((n, len(layout.scalar_spans)), dtype=np.float32, order="F"),
            np.empty((n, len(layout.onehot_spans)), dtype=level_dtype, order="F"),
        )

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, layout: SpanLayout) -> CodedRows:
        """Codes of an encoded matrix: scalars as they are, the ``argmax`` of each block."""
        n = matrix.shape[0]
        coded = cls.empty(n, layout)
        coded.scalars[:] = matrix[:, layout.scalar_index]
        for j, span in enumerate(layout.onehot_spans):
            coded.levels[:, j] = matrix[:, span.start : span.end].argmax(axis=1)
        return coded

    def to_matrix(self, layout: SpanLayout) -> np.ndarray:
        """The encoded matrix: scalars in their columns, exact one-hot blocks."""
        n = len(self)
        out = np.zeros((n, layout.width), dtype=np.float32)
        out[:, layout.scalar_index] = self.scalars
        starts = np.array([s.start for s in layout.onehot_spans], dtype=np.int64)
        if len(starts):
            rows = np.repeat(np.arange(n), len(starts))
            out[rows, (starts + self.levels).ravel()] = 1.0
        return out
