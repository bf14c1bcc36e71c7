"""What ``training.privacy`` costs per epoch: every family, with and without DP-SGD.

Run (about three minutes on two CPU cores with the defaults)::

    python -m benchmarks.dp_cost                       # --rows 4000 --epochs 3
    python -m benchmarks.dp_cost --device cuda --rows 20000

Each family and its default strategy is trained twice on the same built-in table, the same
seed and the same epochs: once plainly, once with ``privacy: {epsilon: 3}`` (calibrated
noise). The per-epoch time is the median over the epochs after the first (which warms up
kernels), measured by :class:`~synthbalance.core.models.callbacks.EpochTimer` around the
training step and the accountant's reading of ε (the calibration before the first epoch
is reported apart, as ``setup_s``). The periodic quality check is off in both runs, as it
costs the same with or without DP. Prints a Markdown table; ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from synthbalance.core.config import MODEL_NAMES, STRATEGIES_BY_MODEL, GeneratorConfig
from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET, make_demo_table
from synthbalance.core.models import make_generator
from synthbalance.core.models.callbacks import EpochTimer
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


def _timed_fit(model: str, data: dict[str, Any], config: dict[str, Any]) -> dict[str, float]:
    """Per-epoch seconds (median after the first), and the seconds before the first epoch."""
    conditional = STRATEGIES_BY_MODEL[model][0] == "conditional"
    rows = slice(None) if conditional else data["minority"]
    gen = make_generator(model, data["layout"], data["classes"] if conditional else None,
                         GeneratorConfig.from_dict(config), seed=0)
    timer = EpochTimer()
    start = time.perf_counter()
    gen.fit(data["encoded"][rows], data["labels"][rows] if conditional else None,
            callbacks=[timer], progress=False)
    total = time.perf_counter() - start
    return {"epoch_s": statistics.median(timer.seconds[1:] or timer.seconds),
            "setup_s": total - sum(timer.seconds), "rows": timer.n_rows,
            "epsilon": gen.history.get("privacy.epsilon", [float("nan")])[-1]}


def measure(rows: int, epochs: int, device: str) -> list[dict[str, Any]]:
    """One record per family: plain and private seconds per epoch, and their ratio."""
    data = _data(rows)
    base = {"epochs": epochs, "device": device, "check_every": epochs}
    out = []
    for model in MODEL_NAMES:
        plain = _timed_fit(model, data, base)
        private = _timed_fit(model, data, {**base, "privacy": {"epsilon": EPSILON}})
        out.append({"model": model, "rows": plain["rows"], "plain_epoch_s": plain["epoch_s"],
                    "dp_epoch_s": private["epoch_s"],
                    "ratio": private["epoch_s"] / plain["epoch_s"],
                    "dp_setup_s": private["setup_s"], "epsilon": private["epsilon"]})
        print(f"{model}: {out[-1]['ratio']:.2f}x", flush=True)
    return out


def table(records: list[dict[str, Any]]) -> str:
    """The records as a Markdown table."""
    lines = ["| model | rows | s/epoch plain | s/epoch DP | DP / plain | DP setup s | ε spent |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['rows']} | {r['plain_epoch_s']:.3f} | "
              f"{r['dp_epoch_s']:.3f} | {r['ratio']:.2f}x | {r['dp_setup_s']:.1f} | "
              f"{r['epsilon']:.2f} |" for r in records]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus' RDP "optimal order" notes, tqdm
        records = measure(args.rows, args.epochs, args.device)
    print(table(records))
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
