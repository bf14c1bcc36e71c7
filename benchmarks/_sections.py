"""Sections of a generated markdown file that another writer owns.

``docs/benchmarks.md`` is written by ``benchmarks.tables`` as a whole; ``benchmarks.privacy``
owns one section of it, between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``. Each
writer replaces only what is its own: :func:`write_section` swaps one section in place (or
appends it), :func:`keep_sections` carries the sections of the old file into a freshly
rendered one.
"""

from __future__ import annotations

import re
from pathlib import Path


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- begin {name} -->", f"<!-- end {name} -->"


def _pattern(name: str | None = None) -> re.Pattern[str]:
    label = re.escape(name) if name else r"[\w.-]+"
    return re.compile(rf"<!-- begin ({label}) -->\n.*?<!-- end \1 -->\n", re.DOTALL)


def write_section(path: Path, name: str, body: str) -> None:
    """Put ``body`` (markdown) into ``path`` as section ``name``: in place of the
    section's last version, or at the end of the file (created if missing)."""
    begin, end = _markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = path.read_text() if path.exists() else ""
    found = _pattern(name).search(text)
    if found:
        text = text[: found.start()] + block + text[found.end():]
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def keep_sections(old: str, new: str) -> str:
    """``new`` followed by every marked section of ``old`` that ``new`` lacks."""
    kept = [m.group(0) for m in _pattern().finditer(old)
            if _markers(m.group(1))[0] not in new]
    return "\n".join([new.rstrip("\n") + "\n", *kept]) if kept else new
