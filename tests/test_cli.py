"""Smoke runs of the command-line entry points: machine-readable output and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


_FAULTS_SCRIPT = r"""
import ctypes, resource, sys
from engine.cli import tune_allocator
tuned = tune_allocator() if sys.argv[1] == "tune" else False
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 20 << 20
faults = []
for _ in range(4):  # a 20 MiB working buffer, allocated, written and freed again and again (a forward pass)
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    p = libc.malloc(size)
    ctypes.memset(p, 1, size)
    libc.free(p)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
print(int(tuned), *faults)
"""


def test_tune_allocator_keeps_freed_buffers_mapped():
    """After ``tune_allocator`` a buffer freed and allocated again costs no page faults (glibc's default maps a
    fresh one, 5,120 faults for 20 MiB, at least once more)."""
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the allocator tuning is for glibc's malloc")

    def run(mode):
        out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT, mode], cwd=ROOT, capture_output=True, text=True,
                             check=True, timeout=60).stdout.split()
        return int(out[0]), [int(x) for x in out[1:]]

    _, default = run("default")
    if sum(default[1:]) < 2000:
        pytest.skip(f"this glibc keeps the freed buffer by itself (page faults {default}): nothing to show")
    tuned, faults = run("tune")
    assert tuned == 1
    assert max(faults[1:]) < 50, (faults, default)  # reuses the heap block: no page is mapped again
