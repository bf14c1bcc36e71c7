"""A model trained on a CUDA GPU loads and samples on a CPU (issue 16, item 7).

``tests/data/cvae_trained_on_h200.pt`` was written by ``python -m benchmarks.gpu_check`` on an
NVIDIA H200 (torch 2.11.0+cu130, ``device: auto``, the built-in table, 5 epochs); see
docs/benchmarks.md, "GPU". This machine has no GPU and another torch.
"""

from pathlib import Path

import torch

from benchmarks.gpu_check import _schema_problems, load_elsewhere
from synthbalance.core.synthesizer import Synthesizer

GPU_FILE = Path(__file__).parent / "data" / "cvae_trained_on_h200.pt"


def test_a_model_trained_on_a_gpu_samples_valid_rows_on_a_cpu():
    synth = Synthesizer.load(GPU_FILE.read_bytes())  # its config says device: auto
    assert synth.generator.device == torch.device("cpu") or torch.cuda.is_available()
    assert synth.generator.config.device == "auto"
    assert synth.generator.history["loss"], "the file holds a trained model"
    minority = synth.schema.minority_classes[0]
    rows = synth.sample(2_000, label=minority, seed=0, clean=True)
    assert len(rows) == 2_000 and (rows[synth.schema.target] == minority).all()
    assert _schema_problems(rows, synth.schema) == []
    again = Synthesizer.load(GPU_FILE.read_bytes()).sample(2_000, label=minority, seed=0,
                                                          clean=True)
    assert rows.equals(again)


def test_the_load_check_reads_every_model_of_a_folder(tmp_path):
    (tmp_path / "cvae.pt").write_bytes(GPU_FILE.read_bytes())
    found = load_elsewhere(tmp_path, n=500)
    assert [f["file"] for f in found] == ["cvae.pt"] and found[0]["problems"] == []
