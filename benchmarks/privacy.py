"""Differential privacy: ε against utility and membership attacks (issue 15, item 4).

    python -m benchmarks.privacy [--tables brfss-1000 creditcard-100] [--epsilons inf 10 4 1]
                                 [--seeds 1] [--epochs 5] [--min-steps 600] [--trees 100]
                                 [--n-boot 500] [--extra-ks]
                                 [--records benchmarks/privacy_records.jsonl]
                                 [--out docs/benchmarks.md]

For each table and each ε, the default family (``cvae``, its default strategy; another with
``--family``) is trained
with ``training.privacy: {epsilon: ε}`` (``inf``: without DP) under the tables benchmark's
budget rules (:class:`benchmarks._table_worker.CellSpec`), its rows are sampled and
cleaned, and the cell records the PR AUC gain of adding them at k = the minority training
rows (paired bootstrap interval), detection accuracy, W-mean, the pipeline's membership
attacks and exact copies beside their floor (:func:`benchmarks._table_worker.attack_figures`),
the ε the accountant reports as spent and the seconds per epoch. One ``reference`` cell per table
runs SMOTE and the baseline on the same split and utility seeds (they do not depend on ε).

Cells run one at a time, each in a fresh process (as ``benchmarks.tables``); finished
cells are appended to ``--records`` and not run again, so an interrupted run resumes and
the markdown can be rebuilt from the records. The section "Differential privacy: ε against
utility and attacks" of ``--out`` is written between markers (:mod:`benchmarks._sections`):
re-running replaces only that section, and ``benchmarks.tables`` keeps it when it rewrites
the file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthbalance.core.config import MODEL_NAMES
from synthbalance.runtime import configure_openmp

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("brfss-1000", "creditcard-100", "demo")
EPSILONS = (math.inf, 10.0, 4.0, 1.0)
#: The default family (``training.model``'s default; see README "Which family").
FAMILY = "cvae"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists every option with its default)."""
    from benchmarks._table_worker import OVERSAMPLE_HELP, PATIENCE_HELP, CellSpec, epochs_arg

    d = CellSpec("", "")
    p = argparse.ArgumentParser(prog="python -m benchmarks.privacy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES[:2]))
    p.add_argument("--family", choices=MODEL_NAMES, default=FAMILY,
                   help="the family trained with DP, in its default strategy (default "
                        "cvae; vae, gan and wgan_gp train one private model on the minority "
                        "rows alone)")
    p.add_argument("--epsilons", nargs="+", type=_epsilon, default=list(EPSILONS),
                   help="DP budgets; inf trains without DP")
    p.add_argument("--seeds", type=int, default=1,
                   help="training seeds, each the utility seed of its rows (default 1: one "
                        "DP-SGD fit of cvae on a large table takes minutes on 2 cores)")
    p.add_argument("--epochs", type=epochs_arg, default=d.epochs,
                   help="epochs of a fit, or auto: the pipeline's step budget")
    p.add_argument("--patience", type=int, default=d.patience, help=PATIENCE_HELP)
    p.add_argument("--oversample", type=epochs_arg, default=d.oversample, help=OVERSAMPLE_HELP)
    p.add_argument("--min-steps", type=int, default=d.min_steps)
    p.add_argument("--max-epochs", type=int, default=d.max_epochs)
    p.add_argument("--trees", type=int, default=d.trees, help="utility xgboost trees")
    p.add_argument("--n-boot", type=int, default=d.n_boot, help="bootstrap resamples")
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--extra-ks", action="store_true",
                   help="also the tables benchmark's extra k (the credit card's 244); by "
                        "default k = the minority training rows only, the target's k")
    p.add_argument("--generator", type=_generator_settings, default={},
                   help='further generator settings as JSON, e.g. \'{"vae_lr": 0.01}\' '
                        "(docs/models.md); give a new --records file with them")
    p.add_argument("--rows", type=int, default=None, help="sample each table (tests)")
    p.add_argument("--isolation", choices=("cell", "none"), default="cell")
    p.add_argument("--records", default="benchmarks/privacy_records.jsonl")
    p.add_argument("--out", default="docs/benchmarks.md")
    args = p.parse_args(argv)
    args.argn_python = None  # what benchmarks.tables' cell runner looks for
    return args


def _epsilon(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: an ε must be > 0 (inf: no DP)")
    return value


def _generator_settings(text: str) -> dict[str, Any]:
    from synthbalance.core.config import GeneratorConfig
    from synthbalance.core.errors import ConfigError

    try:
        settings = json.loads(text)
        if not isinstance(settings, dict):
            raise ConfigError("give an object of settings, e.g. {\"vae_lr\": 0.01}")
        GeneratorConfig.from_dict(settings)
    except (json.JSONDecodeError, ConfigError) as exc:
        raise argparse.ArgumentTypeError(f"--generator {text!r}: {exc}") from exc
    return settings


def cells(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    """``(table, method, ε)`` of every cell: each table's reference, then ε in order."""
    return [(t, m, e) for t in args.tables
            for m, e in [("reference", math.inf), *((args.family, e) for e in args.epsilons)]]


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the missing cells, then write the section; returns the markdown's path."""
    configure_openmp(spin_count=300_000)  # as benchmarks.tables; before torch is imported
    from benchmarks._privacy_report import render
    from benchmarks._sections import write_section
    from benchmarks._table_worker import check_budget
    from benchmarks.tables import _run

    args = parse_args(argv)
    records_path, start = ROOT / args.records, time.perf_counter()
    done = read_records(records_path)
    check_budget((done[k] for k in cells(args) if k in done), args.epochs, args.patience,
                 records_path, args.oversample)
    ran = 0
    with tempfile.TemporaryDirectory(prefix="synthbalance-privacy-") as tmp:
        for key in (k for k in cells(args) if k not in done):
            record = _run(_spec(args, *key), args, Path(tmp))
            with records_path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            done[key], ran = record, ran + 1
            _log(f"{key[0]:15s} {key[1]:9s} ε={key[2]:<5g} {record['worker_s']:7.1f} s")
    meta = {"command": " ".join(["python -m benchmarks.privacy", *(argv or sys.argv[1:])]),
            "date": f"{datetime.datetime.now():%Y-%m-%d %H:%M}", "options": vars(args),
            "session_s": time.perf_counter() - start, "ran": ran}
    out = ROOT / args.out
    write_section(out, "privacy", render([done[k] for k in cells(args)], meta))
    _log(f"wrote {out}")
    return out


def _spec(args: argparse.Namespace, table: str, method: str, epsilon: float) -> Any:
    from benchmarks._table_worker import CellSpec

    return CellSpec(table, method, tuple(range(args.seeds)), args.epochs, args.min_steps,
                    args.max_epochs, args.trees, args.n_boot, args.threads, args.rows,
                    speed_rows=0, epsilon=None if math.isinf(epsilon) else epsilon,
                    attacks=True, extra_ks=args.extra_ks, generator=args.generator,
                    patience=args.patience, oversample=args.oversample)


def read_records(path: Path) -> dict[tuple[str, str, float], dict[str, Any]]:
    """The recorded cells by ``(table, method, ε)`` (ε ``inf``: no DP)."""
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["table"], r["method"], record_epsilon(r)): r for r in records}


def record_epsilon(record: dict[str, Any]) -> float:
    """The ε a cell was asked for (``inf``: no DP)."""
    eps = record.get("epsilon")
    return math.inf if eps is None else float(eps)


def _log(message: str) -> None:
    print(f"[benchmarks.privacy {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr,
          flush=True)


if __name__ == "__main__":
    print(main())
