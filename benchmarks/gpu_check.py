"""Train, sample and reload every family on a CUDA GPU, then load its files on a CPU.

Run where a CUDA GPU is (issue 16, item 7)::

    python -m benchmarks.gpu_check --out gpu_run            # device auto: the GPU
    python -m benchmarks.gpu_check --out cpu_run --device cpu

Each family and strategy is trained on the built-in table (``--rows`` rows, ``--epochs``
epochs, the pipeline's periodic check and checkpoint), timed per epoch, sampled
(rows per second, median of 3 calls of about a second after one warm-up), saved as the
pipeline saves it, and reloaded on the CPU in the same process: the reloaded tensors must
equal the trained ones, and its rows must be as close to the GPU's as two GPU seeds are to
each other (``w_gpu_vs_cpu`` beside ``w_gpu_seeds``, Wasserstein means). ``results.json``
holds the figures; the ``.pt`` files are the models.

Then, on a machine without a GPU::

    python -m benchmarks.gpu_check --load gpu_run

loads every saved model there (another torch, another machine), samples it and checks the
rows obey the schema. ``--report GPU_JSON CPU_JSON`` writes ``docs/gpu-check.md`` from the two
``results.json`` files, side by side.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthbalance.core.config import STRATEGIES_BY_MODEL, GeneratorConfig
from synthbalance.core.demo import DEMO_DAY_COUNTS, DEMO_TARGET, make_demo_table
from synthbalance.core.metrics import fidelity
from synthbalance.core.synthesizer import Synthesizer, TrainingPlan, train_synthesizer
from synthbalance.core.transformer import TabularTransformer
from synthbalance.core.validation import validate_table

SAMPLE_SEEDS = (1, 2)


def _prepared(rows: int) -> tuple[pd.DataFrame, Any, TabularTransformer, np.ndarray]:
    hints = {name: {"kind": "count", "bounds": [0, 30]} for name in DEMO_DAY_COUNTS}
    table, schema = validate_table(make_demo_table(rows, 0), DEMO_TARGET, hints)
    transformer = TabularTransformer().fit(table, schema)
    return table, schema, transformer, transformer.transform(table)


def _rows_per_second(synth: Synthesizer, most: int) -> float:
    """Median rate of 3 calls after a warm-up; each call asks for about a second of rows
    (at least 5,000, at most ``most``), so the slow diffusion sampler is timed too."""
    label = synth.schema.minority_classes[0] if synth.conditional else None
    rates = []
    n = 5_000
    for seed in range(4):
        _synchronize(synth)
        start = time.perf_counter()
        synth.sample(n, label=label, seed=seed)
        _synchronize(synth)
        rates.append(n / (time.perf_counter() - start))
        n = int(min(max(rates[-1], 5_000), most))
    return statistics.median(rates[1:])  # the first call warms up kernels and allocator


def _synchronize(synth: Synthesizer) -> None:
    if synth.generator.device.type == "cuda":
        torch.cuda.synchronize()


def _same_tensors(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Every tensor of two state dicts equal (compared on the CPU)."""
    if a.keys() != b.keys():
        return False
    for key, x in a.items():
        y = b[key]
        if isinstance(x, dict) and not (isinstance(y, dict) and _same_tensors(x, y)):
            return False
        if isinstance(x, torch.Tensor) and not torch.equal(x.cpu(), y.cpu()):
            return False
    return True


def _check_one(model: str, strategy: str, device: str, data: tuple, args: Any) -> dict:
    table, schema, transformer, encoded = data
    config = GeneratorConfig.from_dict({"epochs": args.epochs, "device": device})
    plan = TrainingPlan(model, config, seed=0, strategy=strategy)
    start = time.perf_counter()
    synth = train_synthesizer(table, encoded, transformer, schema, plan, progress=False)
    train_s = time.perf_counter() - start
    buffer = io.BytesIO()
    synth.save(buffer)
    (args.out / f"{model}-{strategy}.pt").write_bytes(buffer.getvalue())
    on_cpu = Synthesizer.load(buffer.getvalue(), device="cpu")
    label = schema.minority_classes[0] if synth.conditional else None
    first, second = (synth.sample(5_000, label=label, seed=s) for s in SAMPLE_SEEDS)
    cpu_rows = on_cpu.sample(5_000, label=label, seed=SAMPLE_SEEDS[1])
    return {
        "model": model, "strategy": strategy,
        "device": str(synth.generator.device),
        "train_s_per_epoch": train_s / args.epochs,
        "rows_per_s": _rows_per_second(synth, args.sample_rows),
        "reload_equal": _same_tensors(synth.generator.state_dict(),
                                      on_cpu.generator.state_dict()),
        "w_gpu_seeds": fidelity(first, second, schema)["wasserstein_mean"],
        "w_gpu_vs_cpu": fidelity(first, cpu_rows, schema)["wasserstein_mean"],
        "same_rows_same_seed": first.equals(synth.sample(5_000, label=label,
                                                         seed=SAMPLE_SEEDS[0])),
    }


def _environment(device: str) -> dict[str, Any]:
    cuda = torch.cuda.is_available()
    return {
        "torch": torch.__version__, "requested_device": device, "cuda_available": cuda,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_threads": torch.get_num_threads(),
    }


def run(args: Any) -> list[dict]:
    """Every family and strategy on ``args.device``; results written as they come."""
    args.out.mkdir(parents=True, exist_ok=True)
    data = _prepared(args.rows)
    results: list[dict] = []
    for model, strategies in STRATEGIES_BY_MODEL.items():
        for strategy in strategies:
            results.append(_check_one(model, strategy, args.device, data, args))
            print(json.dumps(results[-1]), flush=True)
            report = {"environment": _environment(args.device), "results": results}
            (args.out / "results.json").write_text(json.dumps(report, indent=2))
    return results


def load_elsewhere(folder: Path, n: int = 5_000) -> list[dict]:
    """Load every saved model of ``folder`` on this machine's CPU and sample it."""
    found = []
    for path in sorted(folder.glob("*.pt")):
        synth = Synthesizer.load(path.read_bytes(), device="cpu")
        label = synth.schema.minority_classes[0] if synth.conditional else None
        rows = synth.sample(n, label=label, seed=0, clean=True)
        found.append({"file": path.name, "rows": len(rows),
                      "problems": _schema_problems(rows, synth.schema)})
        print(json.dumps(found[-1]), flush=True)
    return found


def _schema_problems(rows: pd.DataFrame, schema: Any) -> list[str]:
    """Columns whose values leave the schema's levels or bounds (after cleaning)."""
    problems = []
    for spec in schema.columns:
        values = rows[spec.name].dropna()
        if not spec.nullable and rows[spec.name].isna().any():
            problems.append(f"{spec.name}: missing values")
        if spec.levels is not None and not values.isin(spec.levels).all():
            problems.append(f"{spec.name}: values outside its levels")
        low, high = spec.bounds or (None, None)
        if spec.is_numeric and ((low is not None and (values < low).any())
                                or (high is not None and (values > high).any())):
            problems.append(f"{spec.name}: values outside its bounds")
    return problems


HEADER = (
    "| family | strategy | train s/epoch, GPU | train s/epoch, CPU | rows/s, GPU | rows/s, CPU "
    "| sampling GPU / CPU | reloaded tensors equal | same seed, same rows (GPU) "
    "| W-mean: two GPU seeds / GPU vs its CPU copy |\n" + "|---" * 10 + "|\n"
)


def report(gpu_json: Path, cpu_json: Path) -> str:
    """A markdown table of a GPU run and a CPU run of the same machine, family by family."""
    gpu, cpu = (json.loads(Path(p).read_text()) for p in (gpu_json, cpu_json))
    lines = [
        f"| {g['model']} | {g['strategy']} | {g['train_s_per_epoch']:.3f} "
        f"| {c['train_s_per_epoch']:.3f} | {g['rows_per_s']:,.0f} | {c['rows_per_s']:,.0f} "
        f"| {g['rows_per_s'] / c['rows_per_s']:.2f}x | {g['reload_equal']} "
        f"| {g['same_rows_same_seed']} | {g['w_gpu_seeds']:.4f} / {g['w_gpu_vs_cpu']:.4f} |"
        for g, c in zip(gpu["results"], cpu["results"], strict=True)
    ]
    env = gpu["environment"]
    return (f"GPU: {env['gpu']}, torch {env['torch']}, device `{env['requested_device']}`; "
            f"CPU: the same machine, {cpu['environment']['cpu_threads']} threads.\n\n"
            + HEADER + "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_check"))
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--sample-rows", type=int, default=200_000)
    parser.add_argument("--load", type=Path, help="only load the models of this folder")
    parser.add_argument("--report", type=Path, nargs=2, metavar=("GPU_JSON", "CPU_JSON"),
                        help="print the markdown table of two results.json files")
    args = parser.parse_args(argv)
    if args.report is not None:
        print(report(*args.report))
        return
    if args.load is not None:
        load_elsewhere(args.load)
        return
    run(args)


if __name__ == "__main__":
    main()
