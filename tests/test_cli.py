"""Smoke runs of the command-line entry points: machine-readable output and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def last_json(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_perft_connect4_depth_8():
    out = last_json(run_cli("engine.perft", "connect4", "--depth", "8", "--json"))
    assert out["nodes"] == 5_673_234 and out["nodes_per_second"] > 0


def test_perft_text_output_and_options():
    proc = run_cli("engine.perft", "connect4", "width=5", "height=4", "--depth", "3", "--position", "3")
    assert "nodes: 125" in proc.stdout
    out = last_json(run_cli("engine.perft", "tictactoe", "--depth", "9", "--stats", "--json"))
    assert out["leaves"] == 255_168 and sum(out["distinct_positions_per_ply"]) == 5_478


def test_perft_bad_input_is_a_clear_error():
    for args, message in [(("chequers", "--depth", "2"), "unknown game 'chequers'"),
                          (("connect4", "--depth", "2", "--position", "48"), "'8' is not a column"),
                          (("connect4", "colour=red", "--depth", "2"), "does not take colour"),
                          (("connect4", "--depth", "-1"), "--depth must be >= 0")]:
        proc = run_cli("engine.perft", *args, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
