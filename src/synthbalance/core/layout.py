"""The span layout: the one contract between the tabular transformer and every model.

An encoded row is a concatenation of spans. A span is either a scalar (``tanh``: the
normalised value of a continuous column within its mixture mode) or a one-hot block
(``softmax``: the mixture mode of a continuous column, or the level of a discrete column,
with a last slot for "missing" where the column had missing values).

Models read the layout through :class:`SpanLayout` only; nobody re-derives offsets.
Decoding takes the ``argmax`` of each one-hot block, so a model whose output is a
probability vector (a VAE decoder) must *sample* from it before handing rows back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

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
