"""Smoke run of ``python -m engine.bench nn`` with a tiny network and budget; a compiled-model check (slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

import nets

from .conftest import ROOT


def test_bench_nn_smoke(tmp_path):
    out_file = tmp_path / "nn.json"
    proc = subprocess.run([sys.executable, "-m", "engine.bench", "nn", "--blocks", "1", "--channels", "8",
                           "--board", "5", "--planes", "3", "--batches", "1,4", "--train-batch", "4",
                           "--seconds", "0.01", "--repeat", "1", "--json", "--out", str(out_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == json.loads(out_file.read_text())
    assert result["benchmark"] == "nn" and result["network"]["actions"] == 26
    for key in ("raw", "raw_channels_last", "evaluator"):
        assert set(result[key]) == {"1", "4"} and all(v > 0 for v in result[key].values())
    assert all(v > 0 for v in result["training_samples_per_second"].values())


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_compiled_evaluator_matches_eager():
    torch.manual_seed(0)
    net = nets.PolicyValueNet((3, 4, 4), 17, blocks=1, channels=8).eval()
    planes = torch.rand(5, 3, 4, 4).numpy()
    legal = torch.rand(5, 17).numpy() < 0.5
    eager = nets.PolicyValueEvaluator(net, device="cpu")(planes, legal)
    compiled = nets.PolicyValueEvaluator(net, device="cpu", compile=True)(planes, legal)
    assert abs(eager[0] - compiled[0]).max() < 1e-4 and abs(eager[1] - compiled[1]).max() < 1e-4
