"""Columns the generators do not learn: identifiers and constants.

An identifier (one value per row: ``"ID-0001"``, a running number) carries nothing a
generator can learn, and learning it as a category copies real ids into synthetic rows. A
constant column has nothing to learn. The schema keeps both apart (``Schema.unlearned``):
the transformer, the generators, the metrics and the cleaning rules never see them, and
:func:`fill_unlearned` gives synthetic rows a constant's value and fresh identifiers
(numbers no real id has, written in the real ids' form) or drops the identifier.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from synthbalance.core.schema import ColumnSpec, Schema

logger = logging.getLogger(__name__)

#: Identifiers are inferred only from at least this many non-missing values: in a small
#: table an ordinary column can be unique by chance.
IDENTIFIER_MIN_ROWS = 50
#: A text column whose distinct values are at least this share of its non-missing values
#: is an identifier: a level seen about once cannot be learned as a category.
TEXT_ID_MIN_SHARE = 0.9
#: Unique whole numbers spread over at most this many times as many values as there are
#: rows look like a running number (1, 2, 3, ...); a wide-range column (an income) does not.
RUNNING_NUMBER_SPREAD = 2.0
#: Text ids are written in the real ids' form only when at least this share of the real
#: values has one shape (the text with every digit run as one placeholder:
#: ``POL-2019-000123`` and ``POL-2021-004567`` share one); else the values are not ids of
#: one form (free text, say) and fresh ids are placeholders (:func:`placeholder_format`):
#: a form taken from a few values would write their text into every synthetic row.
ID_FORM_MIN_SHARE = 0.5
#: Fresh ids above the largest real id start a gap of 2 ... max(this, the real ids' count)
#: + 1 above it (:func:`id_gap`).
ID_GAP_MIN = 100
#: The last run of digits of a text id, with the text before and after it.
_LAST_DIGITS = re.compile(r"^(.*?)(\d+)(\D*)$", re.DOTALL)
_DIGIT_RUN = re.compile(r"\d+")


def looks_like_text_ids(values: pd.Series, n_levels: int) -> bool:
    """Text ``values`` (missing dropped) with almost one distinct value per row."""
    return len(values) >= IDENTIFIER_MIN_ROWS and n_levels >= TEXT_ID_MIN_SHARE * len(values)


def looks_like_running_numbers(values: np.ndarray, n_levels: int) -> bool:
    """Whole numbers (missing dropped), all distinct, close together like a row number."""
    n = values.size
    if n < IDENTIFIER_MIN_ROWS or n_levels != n:
        return False
    return float(values.max() - values.min() + 1) <= RUNNING_NUMBER_SPREAD * n


def fresh_id_pattern(series: pd.Series) -> tuple[str | None, int, tuple[int, int] | None]:
    """``(format, next_id, free)`` of fresh ids for an identifier column.

    Fresh ids never lie next to a real one: ``next_id`` lies a gap above the largest real
    id, and ``free`` starts and ends a gap inside its run (:func:`id_gap`), so counting back
    from the first fresh id, or on from the last one of the run, finds no real id (a
    national id, say).

    Numbers: no format, the first id above the largest real one, and, when every real id has
    the same number of digits, ``free`` within those digits (a 7-digit admission number
    stays 7 digits). Text: the real ids' most common form with its last digit run as a
    zero-padded number (``"ID-0001"`` -> ``"ID-{:04d}"``) when at least
    :data:`ID_FORM_MIN_SHARE` of the values share a shape, else :func:`placeholder_format`;
    the first number above every real id of that form, so no fresh id equals a real one; and
    ``free`` (:func:`free_run`).
    """
    present = series.dropna()
    above = id_gap(present, max(ID_GAP_MIN, len(present)))
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        if not len(present):
            return None, 1, None
        numbers = [int(n) for n in present]
        width = len(str(min(numbers)))
        same = width == len(str(max(numbers))) and min(numbers) > 0
        free = free_run(numbers, width, low=10 ** (width - 1)) if same else None
        return None, max(numbers) + above, _trimmed(free, present)
    text = present.astype(str)
    shapes = Counter(_DIGIT_RUN.sub("0", value) for value in text)
    forms = Counter((m.group(1), len(m.group(2)), m.group(3))
                    for m in map(_LAST_DIGITS.match, text) if m)
    prefix, width, suffix = forms.most_common(1)[0][0] if forms else ("", 0, "")
    if not forms or shapes.most_common(1)[0][1] < ID_FORM_MIN_SHARE * len(present):
        prefix, width, suffix = f"{series.name}-", 0, ""
    taken = re.compile(f"^{re.escape(prefix)}(\\d+){re.escape(suffix)}$")
    numbers = [int(m.group(1)) for m in map(taken.match, present.astype(str)) if m]
    fmt = f"{_braces(prefix)}{{:0{width}d}}{_braces(suffix)}" if width else \
        f"{_braces(prefix)}{{:d}}{_braces(suffix)}"
    free = _trimmed(free_run(numbers, width), present)
    return fmt, max(numbers) + above if numbers else 1, free


def _trimmed(free: tuple[int, int] | None, present: pd.Series) -> tuple[int, int] | None:
    """The ``free`` run less a gap at both ends (:func:`id_gap`): counting on from its last
    id, or back from its first, finds no real one."""
    if free is None:
        return None
    start, length = free
    into, tail = (id_gap(present, max(1, length // 4), salt=end) - 1 for end in ("free", "end"))
    return (start + into, length - into - tail) if length > into + tail else None


def id_gap(values: pd.Series, most: int, salt: str = "") -> int:
    """A number in ``2 ... most + 1`` fixed by the real ``values`` (a hash of them): the
    same for the same table, run after run, and unknown to whoever has the synthetic rows
    only, who therefore cannot count back from a fresh id to a real one."""
    digest = hashlib.sha256("\x1f".join([salt, *sorted(values.astype(str))]).encode())
    return 2 + int.from_bytes(digest.digest()[:8], "big") % most


def placeholder_format(name: str) -> str:
    """Fresh ids of a text column whose values share no id form: ``"<name>-{:d}"``."""
    return f"{_braces(name)}-{{:d}}"


def free_run(numbers: list[int], width: int, low: int = 1) -> tuple[int, int] | None:
    """``(start, length)``: the longest run of ``low ... 10**width - 1`` that none of the real
    ids' ``numbers`` uses, when it is longer than the run above the largest one; else
    ``None`` (ids above the largest real one keep the width longest; unpadded forms,
    ``width`` 0, have no width to keep).

    Real ids drawn at random over their width (``S-000123`` ... ``S-999989``) leave little
    room above the largest; fresh ids taken from the longest gap between them keep their
    width. Only the run's ends are kept, beside the largest real id that ``next_id`` already
    gives away.
    """
    if not width:
        return None
    top = 10**width - 1
    used = np.unique([n for n in numbers if low <= n <= top])
    edges = np.r_[low - 1, used, top + 1]
    lengths = np.diff(edges) - 1
    longest = int(np.argmax(lengths))
    if lengths[longest] <= lengths[-1]:  # the run above the largest is as long
        return None
    return int(edges[longest] + 1), int(lengths[longest])


def fresh_ids(fmt: str | None, next_id: int, n: int,
              free: tuple[int, int] | None = None, skip: int = 0) -> np.ndarray:
    """``n`` new ids: the numbers of the ``free`` run (``(start, length)``, see
    :func:`free_run`) first, then ``next_id, next_id + 1, ...``, after the first ``skip``
    of that sequence; ``int64``, or text written in ``fmt``."""
    place = skip + np.arange(n, dtype=np.int64)
    start, length = free if free else (0, 0)
    numbers = np.where(place < length, start + place, next_id + place - length)
    if fmt is None:
        return numbers
    return np.array([fmt.format(int(i)) for i in numbers], dtype=object)


def fill_unlearned(rows: pd.DataFrame, schema: Schema, skip: int = 0) -> pd.DataFrame:
    """``rows`` with every unlearned column of ``schema`` filled in (a new frame).

    A constant column holds its value; an identifier column fresh ids, numbered from the
    first row (so one call numbers a whole table once) after the first ``skip`` fresh ids
    (those of rows made earlier, which these rows are to be appended to), or, with
    ``synthetic: drop``, no column. Calling it again renumbers, keeping an identifier's
    missing values missing (postprocessing blanks ids at their training share). Other
    columns are left as they are; the columns come in the table's order
    (:meth:`Schema.in_table_order`).
    """
    updates: dict[str, np.ndarray] = {}
    dropped = []
    for spec in schema.unlearned:
        if spec.kind == "constant":
            value = spec.levels[0] if spec.levels else None
            updates[spec.name] = np.repeat(np.asarray([value]), len(rows))
        elif spec.synthetic == "drop":
            dropped.append(spec.name)
        else:
            updates[spec.name] = _renumbered(rows, spec, skip)
    out = rows.drop(columns=[c for c in dropped if c in rows.columns])
    out = out.assign(**{name: pd.Series(v, index=rows.index) for name, v in updates.items()})
    return schema.in_table_order(out)


def _renumbered(rows: pd.DataFrame, spec: ColumnSpec, skip: int) -> np.ndarray:
    """Fresh ids of identifier ``spec`` for ``rows``: one for each row, or, where ``rows``
    have the column with missing values, for the rows that hold one (the others stay
    missing: ``NaN`` among integer ids, which are then floats as pandas reads them,
    ``None`` among text ids)."""
    held = rows[spec.name].notna().to_numpy() if spec.name in rows.columns else None
    if held is None or held.all():
        return fresh_ids(spec.format, spec.next_id or 1, len(rows), spec.free_ids, skip)
    out = np.full(len(rows), np.nan if spec.format is None else None,
                  dtype=float if spec.format is None else object)
    out[held] = fresh_ids(spec.format, spec.next_id or 1, int(np.count_nonzero(held)),
                          spec.free_ids, skip)
    return out


def log_longer_ids(rows: pd.DataFrame, schema: Schema) -> int:
    """Warn, per identifier column of ``rows`` with a width to keep (zero-padded text ids;
    integer ids of one number of digits with a ``free`` run), when fresh ids have more
    digits than the real ids' form: the longest run of unused numbers within its width
    (:func:`free_run`) and the room above the largest real id ran out. Returns how many
    ids are longer."""
    total = 0
    for spec in schema.of_unlearned("identifier"):
        width = _width(spec)
        if width is None or spec.name not in rows:
            continue
        ids = rows[spec.name].dropna()
        long = ids.astype(str).str.len() > width if spec.format else ids.astype(float) >= \
            10 ** width
        if long.any():
            start, length = spec.free_ids or (0, 0)
            run = (f"the {length} ids {_written(spec, start)} to "
                   f"{_written(spec, start + length - 1)}, inside the longest run of "
                   "numbers no real id uses within the width, then " if length else "")
            logger.warning(
                "%s: %d of %d fresh ids have more digits than the real ids' form (%s), from "
                "%s on: fresh ids take %snumbers a gap above the largest real id. Other unused "
                "numbers are not kept, since that would store real ids in schema.json. These "
                "ids alone show the rows are synthetic; if their form matters, drop the "
                "column from the synthetic rows (ingest.columns.%s: {kind: identifier, "
                "synthetic: drop}).", spec.name, int(long.sum()), len(rows),
                _pattern(spec.format or f"{{:0{width}d}}"),
                ids[long].iloc[0] if spec.format else int(ids[long].iloc[0]),
                run, spec.name, extra={"markup": False})
        total += int(long.sum())
    return total


def _width(spec: ColumnSpec) -> int | None:
    """The characters of a zero-padded text id, the digits of an integer id kept within
    its width (one with a ``free`` run), else ``None``: no width to keep."""
    if spec.format:
        return len(spec.format.format(0)) if "{:0" in spec.format else None
    return len(str(spec.free_ids[0])) if spec.free_ids else None


def _written(spec: ColumnSpec, number: int) -> str:
    """Fresh id ``number`` of ``spec`` as it is written: text in its format, or the number."""
    return spec.format.format(number) if spec.format else str(number)


def _pattern(fmt: str) -> str:
    """A zero-padded id format as its readers write it: ``"ID-{:04d}"`` -> ``"ID-####"``."""
    hashes = re.sub(r"\{:0(\d+)d\}", lambda m: "#" * int(m.group(1)), fmt)
    return hashes.replace("{{", "{").replace("}}", "}")


def _braces(text: str) -> str:
    """``text`` safe inside a ``str.format`` pattern."""
    return text.replace("{", "{{").replace("}", "}}")
