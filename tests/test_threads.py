"""Every command that runs a network pins its threads (``engine.cli.pin_threads``) or takes ``--threads``: more torch
threads than free cores make a search collapse on a loaded machine (4 arena games: 423 s loaded against 12 s idle)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import ROOT
from .test_fresh_install import PROGRAMS

_NO_NETWORK = {"perft"}  # move-generation counts only
_DISPATCHERS = {"bench"}  # each benchmark takes --threads itself (engine/benchmarks/_common.py)


def test_every_program_that_can_run_a_network_pins_its_threads():
    for name in sorted(set(PROGRAMS) - _NO_NETWORK - _DISPATCHERS):
        module = ROOT / "engine" / f"{name}.py"
        files = [module] if module.exists() else sorted((ROOT / "engine" / name).glob("*.py"))  # a package
        assert any("pin_threads" in f.read_text() for f in files), name
    assert "--threads" in (ROOT / "engine" / "benchmarks" / "_common.py").read_text()


@pytest.mark.parametrize("threads", [None, 2])
@pytest.mark.parametrize("module", ["engine.arena", "engine.c4eval"])
def test_arena_and_c4eval_pin_torch_threads(tmp_path, module, threads):
    positions = tmp_path / "set"
    positions.write_text("4453 -2\n")
    args = (["tictactoe", "random", "random", "--games", "2"] if module == "engine.arena"
            else ["--agent", "random", "--set", str(positions)])
    args += ["--json"] + ([] if threads is None else ["--threads", str(threads)])
    code = (f"import runpy, sys, torch\ntorch.set_num_threads(3)\nsys.argv = [{module!r}, *{args!r}]\n"
            f"try:\n    runpy.run_module({module!r}, run_name='__main__')\nexcept SystemExit as stop:\n"
            f"    assert stop.code in (0, None), stop.code\nprint('threads', torch.get_num_threads())\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == f"threads {threads or 1}"


def test_a_bad_thread_count_is_one_line():
    proc = subprocess.run([sys.executable, "-m", "engine.arena", "tictactoe", "random", "random", "--threads", "0"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --threads must be >= 1, got 0"
