"""Distributed self-play on a local Ray (2 CPUs, shared by the module): games, training, checkpoints, and an
actor killed by its pid mid-run without losing or double-counting a game."""

from __future__ import annotations

import os
import signal

import pytest

import games
from engine.alphazero import SelfPlayRun, make_config
from engine.config import ConfigError
from engine.distributed.chunks import make_chunks
from nets import read_checkpoint

from .selfplay_helpers import expected_records

ray = pytest.importorskip("ray")

TINY = [
    "game.name=tictactoe", "net.blocks=1", "net.channels=8", "net.value_hidden=16",
    "mcts.simulations=8", "mcts.gumbel_max_considered=4", "selfplay.parallel_games=4",
    "selfplay.games_per_iteration=12", "replay.window=2000", "replay.min_size=10", "train.batch_size=32",
    "train.replay_ratio=2.0", "eval.games=2", "eval.simulations=8", "eval.mcts_simulations=20",
    "eval.opening_moves=1", "eval.opponents=[random]", "run.iterations=2", "run.device=cpu",
    "run.tensorboard=false", "run.plots=false", "ray.actors=2",
]


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    yield
    if started:
        ray.shutdown()


def test_chunks_have_fixed_ids_sizes_and_seeds():
    chunks = make_chunks(12, 5, seed=7)
    assert [(c.id, c.games) for c in chunks] == [(0, 5), (1, 5), (2, 2)]
    assert len({c.seed for c in chunks}) == 3
    assert make_chunks(12, 5, seed=7) == chunks            # a pure function of (seed, chunk id)
    assert make_chunks(12, 5, seed=8)[0].seed != chunks[0].seed
    assert sum(c.games for c in make_chunks(13, 4, seed=0)) == 13


def test_bad_ray_key_is_a_clear_error():
    with pytest.raises(ConfigError, match="valid keys under ray: actors"):
        make_config(None, TINY + ["ray.actorz=3"])
    with pytest.raises(ConfigError, match="ray.actors must be >= 1"):
        make_config(None, TINY + ["ray.actors=0"])


def test_ray_run_survives_a_killed_actor_and_keeps_every_game_once(local_ray, tmp_path):
    cfg = make_config(None, TINY)
    run = SelfPlayRun.create(cfg, seed=3, folder=tmp_path / "run", progress=False)
    source = run.use_ray()
    pids_before = source.pids()
    killed = []

    starts = []

    def kill_in_second_iteration(index, chunk):
        starts.append(chunk.id == 0)
        if sum(starts) == 2 and not killed:  # iteration 2's games are being played: warm actors, chunks in flight
            os.kill(pids_before[index], signal.SIGKILL)
            killed.append((index, chunk.id))

    source.on_dispatch = kill_in_second_iteration
    result = run.run()

    assert killed, "the hook never fired"
    assert result["stopped"] == "done" and result["iterations"] == 2
    # every game counted once: 3 chunks of 4 games in each iteration, in chunk order
    assert result["games"] == 2 * 12
    assert [r["selfplay_games"] for r in run.metrics] == [12, 12]
    assert [r["chunks"] for r in run.metrics] == [3, 3]
    assert run.metrics[1]["resubmitted_chunks"] >= 1 and source.resubmitted >= 1
    assert source.last_chunks == [0, 1, 2]
    assert result["train_steps"] > 0 and run.learner.step == result["train_steps"]
    folder = tmp_path / "run"
    assert (folder / "checkpoints" / "latest.pt").exists() and (folder / "replay-0002.npz").exists()
    assert read_checkpoint(folder / "checkpoints" / "latest.pt").extra["iteration"] == 2
    # the same games as the chunks played here from the same weights and seeds: none lost, none twice
    for i in (1, 2):  # pipelined: both iterations played by the first network (iteration i by iteration i - 2's)
        records = (folder / "games" / f"iter-{i:04d}{games.make('tictactoe').record_extension}").read_text()
        assert records == expected_records(cfg, folder, i, 0, seed=3)
