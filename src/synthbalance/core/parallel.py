"""Column-wise work on large frames, spread over the CPU cores.

Decoding and cleaning treat every column on its own with numpy, which releases the GIL in
its loops, so threads run columns side by side. Small frames stay on the calling thread:
starting a pool costs more than it saves there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Frames with fewer rows than this are processed on the calling thread.
MIN_PARALLEL_ROWS = 100_000


def cpu_count() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def map_columns(func: Callable[[T], R], items: Sequence[T], n_rows: int) -> list[R]:
    """``[func(item) for item in items]``, in threads when the frame has ``n_rows`` rows or
    more; results keep the order of ``items`` and the first exception is raised."""
    workers = min(len(items), cpu_count())
    if workers <= 1 or n_rows < MIN_PARALLEL_ROWS:
        return [func(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="synthbalance-columns") as pool:
        return list(pool.map(func, items))
