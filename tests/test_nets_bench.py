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
                           "--board", "5", "--planes", "3", "--batches", "1,4", "--train-batch", "4", "--gemm", "32",
                           "--seconds", "0.01", "--repeat", "1", "--baseline", "--json", "--out", str(out_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == json.loads(out_file.read_text())
    assert result["benchmark"] == "nn" and result["network"]["num_actions"] == 26
    assert set(result["networks"]) == {"custom"}
    rates = result["positions_per_second"]
    assert set(rates) == {"fp32", "bf16", "fp32_unfolded"}
    for key in rates:
        assert set(rates[key]) == {"1", "4"} and all(v > 0 for v in rates[key].values())
        assert all(v > 0 for v in result["gflops"][key].values())
    # the ratio is the two rates' quotient, batch by batch
    for batch, ratio in result["bf16_over_fp32"].items():
        assert ratio == pytest.approx(rates["bf16"][batch] / rates["fp32"][batch], rel=0.01, abs=0.002)
    assert result["peak_gflops"]["fp32"] > 0 and result["peak_gflops"]["bf16"] > 0
    assert result["auto_precision"] in ("fp32", "bf16")
    training = result["training"]["samples_per_second"]
    assert set(training) == {"fp32", "bf16"} and all(v > 0 for v in training.values())


def test_bench_nn_rejects_an_unknown_network():
    proc = subprocess.run([sys.executable, "-m", "engine.bench", "nn", "--net", "othello"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.strip() == "error: --net: unknown network 'othello'; known: go9, chess, connect4, all"


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
