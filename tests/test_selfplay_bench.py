"""Smoke run of ``python -m engine.bench selfplay`` (tic-tac-toe, a few games): the figures it reports hang
together, and the raw network throughput is sampled during self-play as documented. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT


def test_bench_selfplay_smoke(tmp_path):
    out_file = tmp_path / "selfplay.json"
    proc = subprocess.run([sys.executable, "-m", "engine.bench", "selfplay", "--game", "tictactoe",
                           "--config", "configs/tictactoe.yaml", "--games", "24", "--batch", "8", "--repeats", "1",
                           "--probe-every", "3", "--json", "--out", str(out_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == json.loads(out_file.read_text())
    assert result["benchmark"] == "selfplay" and result["game"] == "tictactoe" and result["batch"] == 8
    assert result["games"] >= 24 and result["evaluations"] > 0
    assert result["raw_probes"] == result["network_calls"] // 3  # one raw call after every 3rd self-play call
    assert 1 <= result["mean_batch"] <= 8
    assert 0 < result["network_share"] <= 1
    assert result["selfplay_vs_raw"] == pytest.approx(
        result["evaluations_per_cpu_second"] / result["raw_network_per_cpu_second"], rel=0.01)
    assert result["selfplay_vs_raw_per_repeat"] == [  # one repeat: its ratio is the run's
        pytest.approx(result["selfplay_vs_raw"], abs=0.002)]


def test_bench_selfplay_workers_and_precisions_side_by_side(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "engine.bench", "selfplay", "--game", "tictactoe",
                           "--config", "configs/tictactoe.yaml", "--games", "16", "--batch", "8", "--repeats", "1",
                           "--workers", "1,2", "--precisions", "--json", "--out", str(tmp_path / "s.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = result["workers"]
    assert [r["actors"] for r in rows] == [1, 2]
    assert all(r["games"] == 16 and r["chunks"] == 2 and r["positions_per_second"] > 0 for r in rows)
    assert result["all_cores_over_one"] == pytest.approx(
        rows[1]["positions_per_second"] / rows[0]["positions_per_second"], rel=0.01)
    assert result["auto_resolves_to"] in ("fp32", "bf16")
    assert result["auto_over_fp32"] == pytest.approx(
        result["positions_per_second_auto"] / result["positions_per_second_fp32"], rel=0.01)


@pytest.mark.parametrize("extra", [["--probe-every", "0"], ["--games", "1", "--probe-every", "100000"]])
def test_bench_selfplay_bad_arguments(tmp_path, extra):
    """A probe interval below 1, or one that no probe reaches, is a one-line error (not a division by zero)."""
    proc = subprocess.run([sys.executable, "-m", "engine.bench", "selfplay", "--game", "tictactoe",
                           "--config", "configs/tictactoe.yaml", "--batch", "4", "--repeats", "1",
                           "--out", str(tmp_path / "x.json"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "--probe-every" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()
