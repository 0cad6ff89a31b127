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


def test_seed_lines_count_a_lucky_early_evaluation_against_staying_but_not_against_holding():
    from engine.benchmarks.dqn_cartpole import seed_row

    def row(*means, by=20_000):
        summary = {"seed": 0, "evaluations": [[5000 * (k + 1), m] for k, m in enumerate(means)],
                   "best_eval_return": max(means), "final_eval_return": means[-1], "steps": 5000 * len(means),
                   "wall_time_s": 1.0}
        r = seed_row(summary, 475.0, by)
        return r["reached_at"], r["stays"], r["holds_from_by"]

    assert row(100, 500, 480, 500) == (10_000, True, True)
    assert row(500, 200, 300, 500, 500) == (5000, False, True)    # 500 at 5k, lost, then learned for good by 20k
    assert row(100, 200, 500, 500, 400) == (15_000, False, False)  # a dip after 20k fails both
    assert row(100, 200, 300, 400, 500) == (25_000, True, False)   # reached only after --by
    assert row(100, 200) == (None, False, False)
