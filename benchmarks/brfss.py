"""The BRFSS 2015 benchmark: our seven families vs SMOTE vs SDV's CTGAN, two settings.

    python -m benchmarks.brfss [--data PATH] [--epochs N] [--seeds 3] [--families ...]
                               [--rows N] [--out docs/benchmarks-brfss.md]

Every method of every setting runs in a fresh worker process (``benchmarks._worker``), one
at a time, so timings do not compete and each peak memory is the method's own. The
markdown is generated from the workers' records (``benchmarks._report``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._git import git_sha
from synthbalance.runtime import configure_openmp

if TYPE_CHECKING:  # _report imports torch, which must wait for configure_openmp (main)
    from benchmarks._report import Repeats, Results

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = "../shared/data/diabetes_binary_health_indicators_BRFSS2015.csv.gz"
DEFAULT_OUT = "docs/benchmarks-brfss.md"  # docs/benchmarks.md: benchmarks.tables
SETTINGS = ("all", "scarce")
#: Epochs of every generator, chosen so the default run fits in 30 min on 2 cores.
DEFAULT_EPOCHS = 10
#: How the workers' OpenMP threads (torch's and xgboost's) wait between parallel regions:
#: they spin for libgomp's default count (a few ms) and then sleep. Without the spin
#: (PASSIVE alone, the default of kedro run), every small op of a batch-500
#: training step wakes the other thread through the kernel, and epochs ran ~2x slower for
#: ours and CTGAN alike; spinning without end (ACTIVE) kept a core busy after training and
#: slowed the sampling threads. See benchmarks/README.md, "OpenMP waiting".
SPIN_COUNT = 300_000
VERSIONED = ("torch", "ctgan", "sdv", "xgboost", "numpy", "pandas", "scikit-learn",
             "imbalanced-learn")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists every option with its default)."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.brfss", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _what_to_run(p)
    _how_to_measure(p)
    args = p.parse_args(argv)
    if args.train_seeds < 1:
        p.error(f"--train-seeds {args.train_seeds}: use 1 (no repeats) or more.")
    return args


def _what_to_run(p: argparse.ArgumentParser) -> None:
    """Options that choose the data, the methods and the seeds."""
    from benchmarks._methods import METHODS

    p.add_argument("--data", default=DEFAULT_DATA,
                   help="BRFSS csv(.gz); a relative path is relative to the project root")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                   help="epochs of every generator, CTGAN included (default %(default)s)")
    p.add_argument("--seeds", type=int, default=3, help="utility repeats (default 3)")
    p.add_argument("--train-seed", type=int, default=0,
                   help="seed of every generator's training, ours and CTGAN's (default 0)")
    p.add_argument("--train-seeds", type=int, default=3,
                   help="train the best family and CTGAN this many times, with seeds "
                        "--train-seed, +1, ...; the targets compare their means (default "
                        "%(default)s; 1: no repeats)")
    p.add_argument("--families", nargs="+", choices=METHODS, default=list(METHODS),
                   metavar="METHOD", help=f"methods to run (default all: {' '.join(METHODS)})")
    p.add_argument("--rows", type=int, default=None,
                   help="use a seeded sample of this many rows (default: all)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="markdown to write; relative to the project root (default %(default)s)")
    p.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    p.add_argument("--scarce-rows", type=int, default=1000,
                   help="minority training rows kept in the scarce setting (default 1000)")


def _how_to_measure(p: argparse.ArgumentParser) -> None:
    """Options of the evaluation, the speed measurements and the processes."""
    from benchmarks._methods import CTGAN_DISCRETE

    p.add_argument("--trees", type=int, default=300, help="xgboost trees (default 300)")
    p.add_argument("--k-ratio", type=float, default=1.0,
                   help="rows added = this x the minority training rows (default 1)")
    p.add_argument("--pool-ratio", type=float, default=2.0,
                   help="a generator samples this x the minority training rows, from which "
                        "each utility seed draws its k (default 2, the pipeline's ratio)")
    p.add_argument("--speed-rows", type=int, default=1_000_000,
                   help="rows of our sample+decode+postprocess measurement (default "
                        "%(default)s)")
    p.add_argument("--ctgan-speed-rows", type=int, default=100_000,
                   help="rows of CTGAN's (its sampler is far slower)")
    p.add_argument("--ctgan-discrete", choices=CTGAN_DISCRETE, default="schema",
                   help="schema: binary/ordinal columns discrete; none: all continuous")
    p.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--isolation", choices=("method", "none"), default="method",
                   help="method: a fresh process per method (default); none: in-process")
    p.add_argument("--json", default=None, help="also write the raw records here")


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the benchmark and write the markdown; returns its path."""
    # before torch is first imported (parse_args imports it); values set by the caller win,
    # and the workers inherit them
    configure_openmp(spin_count=SPIN_COUNT)
    args = parse_args(argv)
    _check_ctgan(args.families)
    started, load_start, cpu_start = datetime.datetime.now(), os.getloadavg()[0], _cpu()
    start = time.perf_counter()
    results, repeats = run_all(args)
    wall_s = time.perf_counter() - start
    meta = {
        "command": _command(argv),
        "machine": machine(),
        "versions": versions(),
        "git_sha": git_sha(ROOT),
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "wall_s": wall_s,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "others_cpu_share": _others_share(cpu_start, wall_s),
        "options": _options(args),
    }
    from benchmarks._report import document

    out = _resolve(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document(meta, results, repeats))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "results": results, "repeats": repeats}, indent=1))
    _log(f"wrote {out} ({wall_s / 60:.1f} min)")
    return out


def run_all(args: argparse.Namespace) -> tuple[Results, Repeats]:
    """Every (setting, method) once, sequentially; then the best family and CTGAN again
    with each further training seed. Returns the records by setting, then method, and the
    repeats: by setting, then method, one record per training seed (the first is the one
    in the results)."""
    from benchmarks._methods import METHODS
    from benchmarks._report import best_family

    results: dict[str, dict[str, Any]] = {}
    methods = [m for m in METHODS if m in args.families]  # the report's order
    with tempfile.TemporaryDirectory(prefix="synthbalance-bench-") as tmp:
        for setting in args.settings:
            results[setting] = {}
            for method in methods:
                results[setting].update(_run(_spec(args, setting, method), args, Path(tmp)))
        best = best_family(results)
        again = [m for m in (best, "ctgan") if m in methods]
        repeats = {setting: {m: [results[setting][m]] for m in again}
                   for setting in args.settings} if args.train_seeds > 1 else {}
        for setting, runs in repeats.items():
            for method, records in runs.items():
                for seed in range(args.train_seed + 1, args.train_seed + args.train_seeds):
                    spec = replace(_spec(args, setting, method), train_seed=seed,
                                   measure_speed=False)
                    records.append(_run(spec, args, Path(tmp))[method])
    return results, repeats


def _spec(args: argparse.Namespace, setting: str, method: str) -> Any:
    from benchmarks._methods import RunSpec

    return RunSpec(
        data=str(_resolve(args.data)), setting=setting, method=method, epochs=args.epochs,
        seeds=args.seeds, trees=args.trees, k_ratio=args.k_ratio, speed_rows=args.speed_rows,
        ctgan_speed_rows=args.ctgan_speed_rows, threads=args.threads, rows=args.rows,
        scarce_rows=args.scarce_rows if setting == "scarce" else None,
        ctgan_discrete=args.ctgan_discrete, pool_ratio=args.pool_ratio,
        train_seed=args.train_seed,
    )


def _run(spec: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    begin = time.perf_counter()
    records = _run_isolated(spec, tmp) if args.isolation == "method" else _run_inline(spec)
    _log(f"{spec.setting:6s} {spec.method:9s} seed {spec.train_seed} "
         f"{time.perf_counter() - begin:7.1f} s")
    return records


def _run_inline(spec: Any) -> dict[str, Any]:
    from benchmarks._worker import plain, run_spec

    return json.loads(json.dumps(run_spec(spec), default=plain))


def _run_isolated(spec: Any, tmp: Path) -> dict[str, Any]:
    """Run one spec in a fresh interpreter; its stdout/stderr go to a log shown on failure."""
    name = f"{spec.setting}-{spec.method}-{spec.train_seed}"
    spec_path, out_path, log_path = (tmp / f"{name}.{ext}" for ext in ("spec.json", "json",
                                                                          "log"))
    spec_path.write_text(json.dumps(asdict(spec)))
    env = {**os.environ, "OMP_NUM_THREADS": str(spec.threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with log_path.open("w") as log:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._worker", str(spec_path), str(out_path)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-30:])
        raise RuntimeError(f"The {name} worker failed (exit {done.returncode}):\n{tail}")
    return json.loads(out_path.read_text())


# --------------------------------------------------------------------- the machine


def machine() -> dict[str, Any]:
    cpu = "unknown"
    info = Path("/proc/cpuinfo")
    if info.exists():
        models = [line.split(":", 1)[1].strip() for line in info.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    ram_kb = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kb = float(line.split()[1])
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_kb / 1024**2}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _cpu() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, CPU seconds of this process and its children)."""
    busy = float("nan")
    stat = Path("/proc/stat")
    if stat.exists():
        fields = [float(x) for x in stat.read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    ours = sum(getattr(resource.getrusage(who), f) for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    return busy, ours


def _others_share(start: tuple[float, float], wall_s: float) -> float:
    """Share of the machine's CPU time that processes other than this run used."""
    end = _cpu()
    others = (end[0] - start[0]) - (end[1] - start[1])
    return max(0.0, others) / ((os.cpu_count() or 1) * wall_s)


# ------------------------------------------------------------------------- helpers


def _check_ctgan(methods: Sequence[str]) -> None:
    if "ctgan" in methods and importlib.util.find_spec("ctgan") is None:
        raise SystemExit(
            "ctgan is not installed: pip install -e '.[bench]' (SDV brings CTGAN), or run "
            "without it: --families gan cgan wgan_gp wcgan_gp vae cvae smote."
        )


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (ROOT / p).resolve()


def _command(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return " ".join(["python -m benchmarks.brfss", *map(shlex.quote, args)])


def _options(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("data", "epochs", "seeds", "rows", "scarce_rows", "trees", "k_ratio", "pool_ratio",
            "speed_rows", "ctgan_speed_rows", "ctgan_discrete", "threads", "isolation",
            "train_seed", "train_seeds")
    import torch

    from synthbalance.core.models.base import SAMPLE_BATCH, sampling_dtype

    return {**{k: getattr(args, k) for k in keys},
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
            "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "default"),
            "sample_batch": SAMPLE_BATCH,
            "sample_dtype": str(sampling_dtype("auto", torch.device("cpu"))).split(".")[-1]}


def _log(message: str) -> None:
    print(f"[benchmarks.brfss {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


if __name__ == "__main__":
    main()
