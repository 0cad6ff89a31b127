"""Smoke runs of ``python -m engine.dqn`` on CartPole and Pong: training to a checkpoint, exact resume, evaluation
from a checkpoint, and clear errors."""

from __future__ import annotations

import json
import signal

import pytest
import torch

from .test_cli import last_json, run_cli

# (a constant learning rate: with train.lr_final < 1 the schedule spans total_steps, which the resume test extends)
TINY_CARTPOLE = ["train.total_steps=400", "train.lr_final=1.0", "train.learning_starts=100", "train.train_every=4",
                 "train.gradient_steps=1", "train.batch_size=16", "eval.every=200", "eval.episodes=2",
                 "run.save_every=200", "run.tensorboard=false"]


def _weights(path):
    data = torch.load(path, weights_only=True)
    return data["model"], data["extra"]["target"], data["step"]


def test_cartpole_trains_checkpoints_and_evaluates(tmp_path):
    run = tmp_path / "run"
    out = last_json(run_cli("engine.dqn", "--env", "CartPole-v1", "--seed", "3", "--json", "--run-dir", str(run),
                            *TINY_CARTPOLE, "run.tensorboard=true"))
    assert out["env"] == "CartPole-v1" and out["steps"] == 400 and out["updates"] == (400 - 100) // 4 + 1
    assert out["final_eval_return"] is not None and out["best_eval_return"] >= out["final_eval_return"]
    assert out["steps_per_second"] > 0 and out["wall_time_s"] > 0
    for name in ("config.yaml", "checkpoint.pt", "replay.npz", "metrics.csv", "episodes.csv", "evals.csv",
                 "summary.json"):
        assert (run / name).is_file(), name
    assert list(run.glob("events.out.tfevents.*"))
    assert json.loads((run / "summary.json").read_text())["steps"] == 400
    evaluated = last_json(run_cli("engine.dqn", "eval", "--checkpoint", str(run / "checkpoint.pt"), "--episodes",
                                  "3", "--json"))
    assert evaluated["episodes"] == 3 and evaluated["trained_steps"] == 400 and len(evaluated["returns"]) == 3
    assert all(r >= 8 for r in evaluated["returns"])  # CartPole always lasts at least 8 steps


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    run_cli("engine.dqn", "--env", "CartPole-v1", "--seed", "5", "--run-dir", str(whole), "--json", *TINY_CARTPOLE)
    # The same run stopped at its checkpoint (step 200), then resumed to 400.
    run_cli("engine.dqn", "--env", "CartPole-v1", "--seed", "5", "--run-dir", str(split), "--json",
            *TINY_CARTPOLE, "train.total_steps=200")
    first = _weights(split / "checkpoint.pt")
    assert first[2] == 200
    out = last_json(run_cli("engine.dqn", "--resume", str(split), "train.total_steps=400", "--json"))
    assert out["steps"] == 400 and out["seed"] == 5
    a, b = _weights(whole / "checkpoint.pt"), _weights(split / "checkpoint.pt")
    assert a[2] == b[2] == 400
    for key in a[0]:
        assert torch.equal(a[0][key], b[0][key]), key  # bit-identical weights
        assert torch.equal(a[1][key], b[1][key]), key
    assert not all(torch.equal(first[0][k], b[0][k]) for k in first[0])  # and it did learn after resuming


def test_pong_smoke_run_with_a_tiny_replay(tmp_path):
    run = tmp_path / "pong"
    out = last_json(run_cli("engine.dqn", "--env", "ALE/Pong-v5", "--json", "--run-dir", str(run),
                            "train.total_steps=300", "train.buffer_size=1000", "train.learning_starts=100",
                            "train.target_update=100", "eval.every=0", "eval.episodes=1", "eval.num_envs=1",
                            "env.num_envs=2", "run.save_every=0", "run.tensorboard=false", "run.device=cpu"))
    assert out["env"] == "ALE/Pong-v5" and out["preset"] == "nature" and out["steps"] >= 300
    assert out["final_eval_return"] is not None and -21 <= out["final_eval_return"] <= 21
    assert (run / "checkpoint.pt").is_file()
    assert "repeat_action_probability=0.0" in (run / "preset.txt").read_text()
    resumed = last_json(run_cli("engine.dqn", "--resume", str(run), "train.total_steps=400", "--json"))
    assert resumed["steps"] >= 400 and resumed["updates"] > out["updates"]


def test_time_limit_ends_the_run_like_total_steps(tmp_path):
    run = tmp_path / "timed"
    out = last_json(run_cli("engine.dqn", "--env", "CartPole-v1", "--json", "--run-dir", str(run), *TINY_CARTPOLE,
                            "train.total_steps=100000000", "eval.every=0", "run.save_every=0", "run.time_limit=3"))
    assert out["out_of_time"] and not out["interrupted"]
    # how many steps fit in 3 s depends on the machine and its load: only that the limit, not total_steps, ended it
    assert out["steps"] < 100_000_000 and out["wall_time_s"] >= 3
    # the end of a timed run is a full end: a final evaluation at the last step, and a checkpoint there
    assert out["evaluations"] and out["evaluations"][-1][0] == out["steps"]
    assert _weights(run / "checkpoint.pt")[2] == out["steps"]


@pytest.mark.parametrize("args, message", [
    (("--env", "CartPole-v1", "run.time_limit=-5"), "run.time_limit must be >= 0 seconds"),
    (("--env", "CartPole-v1", "train.lr_typo=1"), "unknown config key 'train.lr_typo'; valid keys under train"),
    (("--env", "NoSuchEnv-v0"), "unknown environment 'NoSuchEnv-v0'"),
    (("--env", "ALE/Pongg-v5"), "unknown Atari game 'ALE/Pongg-v5'"),
    (("--env", "CartPole-v1", "--config", "missing.yaml"), "config missing.yaml does not exist (a YAML file"),
    (("--resume", "no/such/run"), "no such run folder"),
    (("eval", "--checkpoint", "no/such.pt"), "does not exist"),
    (("--env", "CartPole-v1", "train.batch_size=many"), "train.batch_size must be an integer"),
])
def test_bad_input_is_a_one_line_error(args, message):
    proc = run_cli("engine.dqn", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def _default_sigint():
    """Ctrl-C as at a terminal, even when the suite runs as a shell's background job (SIGINT ignored there)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_or_kill_saves_a_checkpoint_then_stops(tmp_path, sig):
    import subprocess
    import sys
    import time

    from .conftest import ROOT

    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "engine.dqn", "--env", "CartPole-v1", "--run-dir", str(run),
                             "train.total_steps=10000000", "train.learning_starts=100", "train.train_every=4",
                             "train.gradient_steps=1", "eval.every=0", "run.save_every=0", "run.log_every=100",
                             "run.tensorboard=false"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint,
                            text=True)
    deadline = time.time() + 120
    metrics = run / "metrics.csv"
    while time.time() < deadline and not (metrics.exists() and len(metrics.read_text().splitlines()) > 5):
        time.sleep(0.5)
    proc.send_signal(sig)
    if sig == signal.SIGTERM:  # `timeout` forwards the SIGTERM that `pkill` also sent: the repeat is ignored
        time.sleep(0.2)
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "checkpoint saved" in err and "Traceback" not in err
    step = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert step > 100
    assert json.loads((run / "summary.json").read_text())["interrupted"] is True
