"""Self-play on worker processes beside the learner (``run.workers``): the pipeline's games are exactly the
chunks played from the network one iteration behind, whatever the number of workers; the replay ratio holds;
a worker killed with SIGKILL mid-chunk is replaced and no game is lost or counted twice."""

from __future__ import annotations

import math
import os
import signal

import pytest
import torch

import games
from engine.alphazero import SelfPlayRun, make_config
from engine.alphazero.sources import available_cores, worker_count
from engine.config import ConfigError
from nets import read_checkpoint

from .selfplay_helpers import expected_records

TINY = [
    "game.name=tictactoe", "net.blocks=1", "net.channels=8", "net.value_hidden=16",
    "mcts.simulations=8", "mcts.gumbel_max_considered=4", "selfplay.parallel_games=4",
    "selfplay.games_per_iteration=12", "replay.window=2000", "replay.min_size=10", "train.batch_size=16",
    "train.replay_ratio=2.0", "eval.games=2", "eval.simulations=8", "eval.mcts_simulations=20",
    "eval.opening_moves=1", "eval.opponents=[random]", "run.iterations=3", "run.device=cpu",
    "run.tensorboard=false", "run.plots=false", "run.keep_checkpoints=false",
]


def _run(folder, workers: int, seed: int = 3, hook=None, extra=()):
    cfg = make_config(None, TINY + ["run.keep_checkpoints=true", *extra])
    run = SelfPlayRun.create(cfg, seed=seed, folder=folder, progress=False)
    source = run.use_workers(workers)
    if hook is not None:
        source.on_dispatch = hook(run, source)
    return run, source, run.run()


def test_worker_count_setting():
    assert worker_count(0) == 0 and worker_count(3) == 3
    assert worker_count(-1) == max(0, available_cores() - 1)  # every core but the learner's
    assert worker_count(-1, "cuda") == 0 and worker_count(2, "cuda") == 2  # auto: self-play stays on the GPU
    with pytest.raises(ConfigError, match="run.workers must be >= -1"):
        make_config(None, TINY + ["run.workers=-2"])


def test_pipelined_games_come_from_the_network_one_iteration_behind_whatever_the_worker_count(tmp_path):
    one, _, result = _run(tmp_path / "one", workers=1)
    assert result["stopped"] == "done" and result["iterations"] == 3 and result["games"] == 3 * 12
    two, _, _ = _run(tmp_path / "two", workers=2)
    ext = games.make("tictactoe").record_extension
    cfg = one.cfg
    for i, network in ((1, 0), (2, 0), (3, 1)):  # iteration i plays with the network of iteration i - 2
        records = (tmp_path / "one" / "games" / f"iter-{i:04d}{ext}").read_text()
        assert records == expected_records(cfg, tmp_path / "one", i, network, seed=3), i
        assert records == (tmp_path / "two" / "games" / f"iter-{i:04d}{ext}").read_text(), i
    a = read_checkpoint(tmp_path / "one" / "checkpoints" / "latest.pt")
    b = read_checkpoint(tmp_path / "two" / "checkpoints" / "latest.pt")
    assert a.step == b.step > 0
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
    assert a.extra["selfplay_network"] == 2  # the network that plays iteration 4, were the run extended
    # the learner takes replay_ratio x the new positions of every iteration (rounded up to whole batches)
    trained = 0
    for row, before in zip(one.metrics, [0] + [r["train_steps"] for r in one.metrics[:-1]], strict=True):
        steps = row["train_steps"] - before
        assert steps == math.ceil(cfg.train.replay_ratio * row["selfplay_positions"] / cfg.train.batch_size)
        trained += row["selfplay_positions"]
        assert row["selfplay_wait_seconds"] >= 0
    ratio = one.metrics[-1]["train_steps"] * cfg.train.batch_size / trained
    assert abs(ratio - cfg.train.replay_ratio) <= 0.1 * cfg.train.replay_ratio


def test_a_worker_killed_mid_chunk_is_replaced_and_every_game_counted_once(tmp_path):
    killed = []

    def hook(run, source):
        def kill_in_second_iteration(index, chunk):
            if run.iteration == 1 and not killed:  # iteration 2 under way: iteration 3's chunks are being played
                os.kill(source.pids()[index], signal.SIGKILL)
                killed.append((index, chunk.id))
        return kill_in_second_iteration

    run, source, result = _run(tmp_path / "run", workers=1, hook=hook)
    assert killed, "the hook never fired"
    assert result["stopped"] == "done" and result["games"] == 3 * 12
    assert [r["selfplay_games"] for r in run.metrics] == [12, 12, 12]
    assert [r["chunks"] for r in run.metrics] == [3, 3, 3]
    assert source.resubmitted >= 1 and sum(r["resubmitted_chunks"] for r in run.metrics) >= 1
    ext = games.make("tictactoe").record_extension
    for i, network in ((1, 0), (2, 0), (3, 1)):
        records = (tmp_path / "run" / "games" / f"iter-{i:04d}{ext}").read_text()
        assert records == expected_records(run.cfg, tmp_path / "run", i, network, seed=3), i
    assert all(not p.is_alive() for p in source.procs)  # closed with the run


def test_resumed_pipelined_run_plays_what_the_uninterrupted_one_did(tmp_path):
    constant = ["train.lr_schedule=constant"]  # the same learning rates whatever run.iterations says
    _run(tmp_path / "a", workers=1, extra=constant)
    cfg = make_config(None, TINY + ["run.keep_checkpoints=true", "run.iterations=2", *constant])
    first = SelfPlayRun.create(cfg, seed=3, folder=tmp_path / "b", progress=False)
    first.use_workers(1)
    first.run()  # stops after iteration 2 with iteration 3's network choice saved
    resumed = SelfPlayRun.resume(tmp_path / "b", ["run.iterations=3"], progress=False)
    assert resumed.selfplay_network == 1
    resumed.use_workers(1)
    resumed.run()
    ext = games.make("tictactoe").record_extension
    assert (tmp_path / "a" / "games" / f"iter-0003{ext}").read_text() == \
        (tmp_path / "b" / "games" / f"iter-0003{ext}").read_text()
    a = read_checkpoint(tmp_path / "a" / "checkpoints" / "latest.pt")
    b = read_checkpoint(tmp_path / "b" / "checkpoints" / "latest.pt")
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
