"""``engine.bench dqn_cartpole`` trains exactly the run ``python -m engine.dqn --env CartPole-v1`` trains for the
same seed (it once dropped the checkpoints, which restart the episodes, and so trained another run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from nets import read_checkpoint

from .conftest import ROOT

TINY = ["train.total_steps=1200", "train.learning_starts=200", "train.train_every=100", "train.gradient_steps=4",
        "eval.every=400", "eval.episodes=2", "run.save_every=400"]


def _run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_benchmark_trains_the_same_run_as_the_command_for_the_same_seed(tmp_path):
    cli = _run("engine.dqn", "--env", "CartPole-v1", "--seed", "1", "--json", "--no-progress", "--run-dir", "cli",
               "run.tensorboard=false", *TINY, cwd=tmp_path)
    bench = _run("engine.bench", "dqn_cartpole", "--seeds", "1", "--workers", "1", "--json", "--out", "bench.json",
                 "--runs-dir", "bench", *TINY, cwd=tmp_path)  # run from a folder without configs/: found by name
    (row,) = bench["runs"]
    assert row["evaluations"] == cli["evaluations"] and len(cli["evaluations"]) == 3
    assert row["best"] == cli["best_eval_return"] and row["final"] == cli["final_eval_return"]
    a = read_checkpoint(tmp_path / "cli" / "checkpoint.pt")
    b = read_checkpoint(tmp_path / "bench" / "seed1" / "checkpoint.pt")
    assert a.step == b.step == 1200 and a.extra["counters"]["episodes"] == b.extra["counters"]["episodes"]
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
