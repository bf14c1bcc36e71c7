"""What ``training.privacy`` costs per epoch: every family, with and without DP-SGD.

Run (about four minutes on two busy CPU cores with the defaults)::

    python -m benchmarks.dp_cost                       # --rows 2000 --epochs 3 --repeats 2
    python -m benchmarks.dp_cost --device cuda --rows 20000
    python -m benchmarks.dp_cost --repeats 1 --threads 1   # on CPU cores shared with others

Each family and its default strategy is trained on the same built-in table, the same seed
and the same epochs, plainly and with ``privacy: {epsilon: 3}`` (calibrated noise), the two
alternating ``--repeats`` times. The per-epoch time is the fastest epoch after the first of
each fit (which warms up kernels) over the repeats: on shared cores the minimum is the
figure least disturbed by other work; the CPU seconds of the process (``CpuTimer``) are
reported beside the wall seconds, as they depend far less on other work. Both time the
training step and the accountant's reading of ε (the calibration before the first epoch
is reported apart, as ``setup_s``). The periodic quality check is off in both runs, as it
costs the same with or without DP. Prints a Markdown table; ``--json`` writes the figures.

On cores shared with other work, torch's CPU threads wait for each other by spinning, and
the spinning counts as CPU time: a tiny plain epoch then reads up to 100x its cost, more
than DP itself. ``--threads 1`` (``num_threads: 1`` in both fits) removes the waiting, so
the CPU seconds are the work done.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

from synthbalance.core.config import MODEL_NAMES, STRATEGIES_BY_MODEL, GeneratorConfig
from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET, make_demo_table
from synthbalance.core.models import make_generator
from synthbalance.core.models.callbacks import Callback, EpochTimer
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.validation import validate_table

#: The budget of the private runs (a common DP-SGD setting; the cost hardly depends on it).
EPSILON = 3.0


def _data(rows: int) -> dict[str, Any]:
    """The built-in table encoded, with its labels as class indices."""
    hints = {name: {"kind": "count", "bounds": [0, 30]} for name in DEMO_DAY_COUNTS}
    frame, schema = validate_table(make_demo_table(rows, 0), DEMO_TARGET, hints)
    transformer = TabularTransformer().fit(frame, schema)
    labels = frame[schema.target].map({c: i for i, c in enumerate(schema.classes)})
    minority = (frame[schema.target] == schema.minority_classes[0]).to_numpy()
    return {"encoded": transformer.transform(frame), "labels": labels.to_numpy(),
            "minority": minority, "layout": transformer.layout,
            "classes": len(schema.classes)}


class CpuTimer(Callback):
    """CPU seconds of this process (all its threads) per epoch: on cores shared with other
    work, wall time swings with their load, CPU time much less."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, generator: Any, epoch: int) -> None:
        self._start = time.process_time()

    def on_epoch_end(self, generator: Any, epoch: int, losses: Any) -> None:
        self.seconds.append(time.process_time() - self._start)


def _timed_fit(model: str, data: dict[str, Any], config: dict[str, Any]) -> dict[str, float]:
    """Per-epoch seconds (fastest after the first), and the seconds before the first."""
    conditional = STRATEGIES_BY_MODEL[model][0] == "conditional"
    rows = slice(None) if conditional else data["minority"]
    gen = make_generator(model, data["layout"], data["classes"] if conditional else None,
                         GeneratorConfig.from_dict(config), seed=0)
    timer, cpu = EpochTimer(), CpuTimer()
    start = time.perf_counter()
    gen.fit(data["encoded"][rows], data["labels"][rows] if conditional else None,
            callbacks=[timer, cpu], progress=False)
    total = time.perf_counter() - start
    return {"epoch_s": min(timer.seconds[1:] or timer.seconds),
            "epoch_cpu_s": min(cpu.seconds[1:] or cpu.seconds),
            "setup_s": total - sum(timer.seconds), "rows": timer.n_rows,
            "epsilon": gen.history.get("privacy.epsilon", [float("nan")])[-1]}


def measure(rows: int, epochs: int, device: str, repeats: int = 2,
            threads: int | None = None) -> list[dict[str, Any]]:
    """One record per family: plain and private seconds per epoch, and their ratio.
    ``threads``: torch CPU threads of every fit (``None``: torch's default)."""
    data = _data(rows)
    base = {"epochs": epochs, "device": device, "check_every": epochs,
            "num_threads": threads}
    out = []
    for model in MODEL_NAMES:
        fits = [(_timed_fit(model, data, base),
                 _timed_fit(model, data, {**base, "privacy": {"epsilon": EPSILON}}))
                for _ in range(repeats)]
        plain = min((f[0] for f in fits), key=lambda r: r["epoch_s"])
        private = min((f[1] for f in fits), key=lambda r: r["epoch_s"])
        plain_cpu = min(f[0]["epoch_cpu_s"] for f in fits)
        private_cpu = min(f[1]["epoch_cpu_s"] for f in fits)
        out.append({"model": model, "rows": plain["rows"], "plain_epoch_s": plain["epoch_s"],
                    "dp_epoch_s": private["epoch_s"],
                    "ratio": private["epoch_s"] / plain["epoch_s"],
                    "plain_epoch_cpu_s": plain_cpu, "dp_epoch_cpu_s": private_cpu,
                    "cpu_ratio": private_cpu / plain_cpu,
                    "dp_setup_s": private["setup_s"], "epsilon": private["epsilon"]})
        print(f"{model}: {out[-1]['ratio']:.2f}x wall, {out[-1]['cpu_ratio']:.2f}x CPU",
              flush=True)
    return out


def table(records: list[dict[str, Any]]) -> str:
    """The records as a Markdown table."""
    lines = ["| model | rows | wall s/epoch plain | DP | DP / plain | CPU s/epoch plain | DP "
             "| DP / plain | DP setup s | ε spent |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['rows']} | {r['plain_epoch_s']:.3f} | "
              f"{r['dp_epoch_s']:.3f} | {r['ratio']:.2f}x | {r['plain_epoch_cpu_s']:.3f} | "
              f"{r['dp_epoch_cpu_s']:.3f} | **{r['cpu_ratio']:.2f}x** | "
              f"{r['dp_setup_s']:.1f} | {r['epsilon']:.2f} |" for r in records]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads per fit (default: torch's own)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus' RDP "optimal order" notes, tqdm
        records = measure(args.rows, args.epochs, args.device, args.repeats, args.threads)
    print(table(records))
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
