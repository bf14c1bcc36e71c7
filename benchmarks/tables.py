"""The benchmark over several tables: our families vs SMOTE vs SDV's CTGAN and TVAE vs MOSTLY
AI's TabularARGN, three training seeds, every utility arm with paired bootstrap intervals.

    python -m benchmarks.tables [--tables ...] [--methods ...] [--train-seeds 3]
                                [--epochs 5] [--min-steps 600] [--trees 100]
                                [--records benchmarks/tables_records.jsonl]
                                [--out docs/benchmarks.md]

A cell is one method on one table (``benchmarks._table_worker``), run in a fresh process,
one at a time, so timings do not compete and each peak memory is the cell's own. Finished
cells are appended to ``--records`` (JSON lines); cells found there are not run again, so
an interrupted run resumes and the markdown can be rebuilt from the records alone.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from synthbalance.runtime import configure_openmp

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("brfss-all", "brfss-1000", "creditcard-100", "demo")
OURS = ("cvae", "ddpm", "wcgan_gp")
PEERS = ("ctgan", "tvae", "argn")
METHODS = ("reference", *OURS, *PEERS)
#: Where TabularARGN's own environment is looked for when this interpreter lacks it.
ARGN_PYTHONS = (ROOT / ".venv-argn" / "bin" / "python", Path("/tmp/argn-venv/bin/python"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists every option with its default)."""
    from benchmarks._table_worker import OVERSAMPLE_HELP, PATIENCE_HELP, CellSpec, epochs_arg
    from synthbalance.core.config import MODEL_NAMES

    d = CellSpec("", "")
    p = argparse.ArgumentParser(prog="python -m benchmarks.tables", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    p.add_argument("--methods", nargs="+", choices=("reference", *MODEL_NAMES, *PEERS),
                   default=list(METHODS), help="reference: the arms that train nothing")
    p.add_argument("--train-seeds", type=int, default=len(d.train_seeds))
    p.add_argument("--one-seed", nargs="*", choices=PEERS, default=["argn"],
                   help="peers trained with the first training seed only (default argn: "
                        "one TabularARGN training costs minutes on 2 cores)")
    p.add_argument("--epochs", type=epochs_arg, default=d.epochs,
                   help="epochs of every generator, or auto: the pipeline's step budget of "
                        "our families (training.epochs: auto; not for the peers)")
    p.add_argument("--patience", type=int, default=d.patience, help=PATIENCE_HELP)
    p.add_argument("--oversample", type=epochs_arg, default=d.oversample, help=OVERSAMPLE_HELP)
    p.add_argument("--min-steps", type=int, default=d.min_steps,
                   help="raise the epochs of a small training set to this many batches")
    p.add_argument("--max-epochs", type=int, default=d.max_epochs)
    p.add_argument("--trees", type=int, default=d.trees, help="utility xgboost trees")
    p.add_argument("--n-boot", type=int, default=d.n_boot, help="bootstrap resamples")
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--rows", type=int, default=None, help="sample each table (tests)")
    p.add_argument("--speed-rows", type=int, default=d.speed_rows)
    p.add_argument("--peer-speed-rows", type=int, default=d.peer_speed_rows)
    p.add_argument("--argn-minutes", type=float, default=d.argn_minutes,
                   help="cap of each TabularARGN training (its max_training_time)")
    p.add_argument("--isolation", choices=("cell", "none"), default="cell")
    p.add_argument("--argn-python", default=None,
                   help="interpreter with mostlyai-engine (default: this one if it has it, "
                        "else .venv-argn/bin/python or /tmp/argn-venv/bin/python)")
    p.add_argument("--records", default="benchmarks/tables_records.jsonl")
    p.add_argument("--out", default="docs/benchmarks.md")
    return _peers_need_epochs(p, p.parse_args(argv))


def _peers_need_epochs(p: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """``args``, or the parser's error when ``--epochs auto`` would reach a peer."""
    if args.epochs == "auto" and (peers := [m for m in args.methods if m in PEERS]):
        p.error(f"--epochs auto is the step budget of our families; the peers {peers} need "
                "a number of epochs: leave them out of --methods, or run them with --epochs 5")
    return args


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the missing cells, then write the markdown; returns its path."""
    configure_openmp(spin_count=300_000)  # as benchmarks.brfss
    from benchmarks._table_worker import check_budget

    args = parse_args(argv)
    records_path, start = ROOT / args.records, time.perf_counter()
    done = _read_records(records_path)
    check_budget((r for (t, m), r in done.items() if t in args.tables and m in args.methods),
                 args.epochs, args.patience, records_path, args.oversample)
    skipped = {m: why for m in args.methods if (why := _why_not(m, args)) is not None}
    with tempfile.TemporaryDirectory(prefix="synthbalance-tables-") as tmp:
        for table in args.tables:
            for method in (m for m in args.methods if m not in skipped):
                if (table, method) in done:
                    continue
                record = _run(_spec(args, table, method), args, Path(tmp))
                with records_path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                done[table, method] = record
                _log(f"{table:15s} {method:10s} {record['worker_s']:7.1f} s")
    from benchmarks._sections import keep_sections
    from benchmarks._tables_report import render

    cells = [done[t, m] for t in args.tables for m in args.methods if (t, m) in done]
    meta = {"command": " ".join(["python -m benchmarks.tables", *(argv or sys.argv[1:])]),
            "date": f"{datetime.datetime.now():%Y-%m-%d %H:%M}", "skipped": skipped,
            "session_s": time.perf_counter() - start, "options": vars(args)}
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    old = out.read_text() if out.exists() else ""
    out.write_text(keep_sections(old, render(cells, meta)))  # e.g. benchmarks.privacy's
    _log(f"wrote {out}")
    return out


def _spec(args: argparse.Namespace, table: str, method: str) -> Any:
    from benchmarks._table_worker import CellSpec

    seeds = tuple(range(1 if method in args.one_seed else args.train_seeds))
    return CellSpec(table, method, seeds, args.epochs, args.min_steps,
                    args.max_epochs, args.trees, args.n_boot, args.threads, args.rows,
                    args.speed_rows, args.peer_speed_rows, argn_minutes=args.argn_minutes,
                    patience=args.patience, oversample=args.oversample)


def _why_not(method: str, args: argparse.Namespace) -> str | None:
    """Why a peer cannot run here (then it is left out and the report says why)."""
    from benchmarks._peers import peer_importable

    if method not in PEERS:
        return None
    why = peer_importable(method)
    if method != "argn" or why is None:
        return why
    if args.argn_python and not Path(args.argn_python).exists():
        raise SystemExit(f"--argn-python {args.argn_python} does not exist; give the python "
                         "of an environment with mostlyai-engine (benchmarks/README.md).")
    args.argn_python = args.argn_python or next(
        (str(p) for p in ARGN_PYTHONS if p.exists()), None)
    return None if args.argn_python else why + "; no .venv-argn or /tmp/argn-venv either"


def _run(spec: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One cell in a fresh interpreter (``--isolation cell``) or in this one."""
    from benchmarks._table_worker import run_cell
    from benchmarks._worker import plain

    if args.isolation == "none":
        return json.loads(json.dumps(run_cell(spec), default=plain))
    python = args.argn_python if spec.method == "argn" and args.argn_python else sys.executable
    name = f"{spec.table}-{spec.method}"
    spec_path, out_path, log_path = (tmp / f"{name}.{e}" for e in ("spec.json", "json", "log"))
    spec_path.write_text(json.dumps(asdict(spec)))
    env = {**os.environ, "OMP_NUM_THREADS": str(spec.threads), "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    with log_path.open("w") as log:
        done = subprocess.run([python, "-m", "benchmarks._table_worker", str(spec_path),
                               str(out_path)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-30:])
        raise RuntimeError(f"The {name} cell failed (exit {done.returncode}):\n{tail}")
    return {**json.loads(out_path.read_text()), "python": python}


def _read_records(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["table"], r["method"]): r for r in records}


def _log(message: str) -> None:
    print(f"[benchmarks.tables {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


if __name__ == "__main__":
    print(main())
