"""Run one method of one setting and write its records as JSON.

``python -m benchmarks._worker SPEC.json OUT.json`` is what :mod:`benchmarks.brfss` starts
in a fresh process per method, so each method's peak memory is its own. The same function,
:func:`run_spec`, runs in-process with ``--isolation none``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks._data import prepare
from benchmarks._evaluate import evaluate_references, evaluate_rows
from benchmarks._methods import RunSpec, run_method
from synthbalance.core.values import to_python


def configure_torch(threads: int) -> None:
    """Flush denormals (CPU matmuls slow down by orders of magnitude on them late in GAN
    training) and pin torch's thread count; the caller sets ``OMP_WAIT_POLICY``."""
    torch.set_flush_denormal(True)
    torch.set_num_threads(threads)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_spec(spec: RunSpec) -> dict[str, dict[str, Any]]:
    """Records by method name: ``spec.method``'s, and for SMOTE also the real reference."""
    start = time.perf_counter()
    configure_torch(spec.threads)
    data = prepare(spec.data, spec.rows, spec.scarce_rows)
    run = run_method(data, spec)
    record = {**run.measured, "peak_mb": peak_rss_mb(), "train_rows": len(data.train),
              "minority_train_rows": data.n_minority_train, "headline_k": spec.headline_k(data)}
    if spec.method == "smote":
        utility = record.pop("utility")
        references = evaluate_references(run.rows, utility, data, spec)
        records = {"smote": {**record, **references["smote"]}, "real": references["real"]}
    else:
        records = {spec.method: {**record, **evaluate_rows(run.rows, data, spec)}}
    records[spec.method]["worker_s"] = time.perf_counter() - start
    return records


def main(argv: list[str]) -> None:
    spec_path, out_path = (Path(a) for a in argv)
    spec = RunSpec(**json.loads(spec_path.read_text()))
    out_path.write_text(json.dumps(run_spec(spec), default=plain))


def plain(value: Any) -> Any:
    """``json.dumps``'s fallback: numpy scalars as Python ones."""
    if (python := to_python(value)) is not value:
        return python
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


if __name__ == "__main__":
    main(sys.argv[1:])
