"""How OpenMP threads wait: set per process, before torch or xgboost first loads.

OpenMP threads (torch's, xgboost's) spin while they wait by default. On a small machine
with anything else running, two spinning pools starve each other: a WCGAN-GP epoch took
9.7 s instead of 0.65 s on 2 busy cores. Passive waiting (``OMP_WAIT_POLICY=PASSIVE``)
protects a busy machine but has a price on an idle one: every small op wakes the other
thread through the kernel, and batch-500 epochs ran about 2x slower on 2 cores. A short
spin before sleeping (``GOMP_SPINCOUNT=300000``) buys that back where the machine is yours
(docs/models.md, "Training speed: threads and OpenMP waiting").

Importing synthbalance changes no environment variable. ``kedro run`` (through the
project's ``settings.py``) and ``python -m synthbalance.compare`` call
:func:`configure_openmp` before anything loads OpenMP; in a notebook, call it first::

    import synthbalance
    synthbalance.configure_openmp()                    # passive waiting, robust
    synthbalance.configure_openmp(spin_count=300_000)  # ~2x faster epochs on an idle machine

OpenMP reads the variables once, when its library loads, so a call after ``import torch``
(or xgboost, or scikit-learn) cannot change this process any more, and says so.
"""

from __future__ import annotations

import os
import sys
import warnings

#: Modules whose import loads an OpenMP runtime that reads the variables at that moment.
OPENMP_USERS = ("torch", "xgboost", "sklearn")
WAIT_POLICIES = ("PASSIVE", "ACTIVE")


def configure_openmp(wait_policy: str = "PASSIVE", spin_count: int | None = None) -> bool:
    """Set ``OMP_WAIT_POLICY`` (and ``GOMP_SPINCOUNT`` if ``spin_count`` is given) for this
    process and its children, unless the user has set them already (theirs win).

    Returns ``False``, with a ``RuntimeWarning``, if it set a variable after an OpenMP user
    had loaded (too late for this process), else ``True``.

    Raises:
        ValueError: ``wait_policy`` is not ``PASSIVE`` or ``ACTIVE``, or ``spin_count`` < 0.
    """
    if wait_policy not in WAIT_POLICIES:
        raise ValueError(f"wait_policy={wait_policy!r}; use one of {', '.join(WAIT_POLICIES)}.")
    if spin_count is not None and spin_count < 0:
        raise ValueError(f"spin_count={spin_count}; use a count >= 0, or None.")
    wanted = {"OMP_WAIT_POLICY": wait_policy}
    if spin_count is not None:
        wanted["GOMP_SPINCOUNT"] = str(spin_count)
    changed = [name for name in wanted if name not in os.environ]
    for name in changed:
        os.environ[name] = wanted[name]
    loaded = [name for name in OPENMP_USERS if name in sys.modules]
    if changed and loaded:
        warnings.warn(
            f"configure_openmp() came after {', '.join(loaded)} was imported, so it does not "
            "change this process's OpenMP threads; call it before those imports (first "
            "thing in a notebook).",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True
