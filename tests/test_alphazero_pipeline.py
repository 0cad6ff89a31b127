"""AlphaZero pipeline: worker, replay, learner, evaluation, the run loop, resume after SIGKILL, configs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import games
from engine.alphazero import (
    DEFAULT,
    Learner,
    ReplayBuffer,
    ReplayError,
    SelfPlayRun,
    SelfPlayWorker,
    _moves,
    make_config,
    temperature_choice,
)
from engine.alphazero._moves import draw
from engine.alphazero.config import config_dict
from engine.config import ConfigError
from nets import CheckpointError, read_checkpoint

ROOT = Path(__file__).resolve().parent.parent

TINY = [
    "game.name=tictactoe", "net.blocks=1", "net.channels=8", "net.value_hidden=16",
    "mcts.simulations=8", "mcts.gumbel_max_considered=4", "selfplay.parallel_games=8",
    "selfplay.games_per_iteration=12", "replay.window=2000", "replay.min_size=10", "train.batch_size=32",
    "train.replay_ratio=2.0", "eval.games=4", "eval.simulations=8", "eval.mcts_simulations=20",
    "eval.opening_moves=1", "run.iterations=2", "run.device=cpu",
]


def tiny(*extra):
    return make_config(None, TINY + list(extra))


# ----------------------------------------------------------------------------------------------- configs
def test_embedded_default_is_configs_connect4_yaml():
    # the shipped file (the run of `python -m engine.selfplay`) is the embedded default plus its stopping rule
    assert config_dict(make_config(None, ["run.iterations=60", "run.target_mcts_score=0.55"])) == \
        config_dict(make_config(ROOT / "engine" / "configs" / "connect4.yaml"))
    assert make_config().game.name == "connect4"


@pytest.mark.parametrize("name", ["tictactoe", "connect4", "go9", "go19", "chess"])
def test_config_files_load(name):
    cfg = make_config(ROOT / "engine" / "configs" / f"{name}.yaml")
    game = games.make(cfg.game.name, **cfg.game.options)
    assert game.num_actions > 0 and cfg.run.iterations >= 1


def test_go9_config_self_play_writes_sgf_records():
    """configs/go9.yaml (with a tiny net and search) plays whole Go games: 17 planes, the pass action, SGF records
    with both players named."""
    cfg = make_config(ROOT / "engine" / "configs" / "go9.yaml",
                      ["net.blocks=1", "net.channels=8", "net.global_pool_channels=0", "mcts.simulations=4",
                       "selfplay.parallel_games=2", "selfplay.resign_threshold=-1.0"])
    game = games.make(cfg.game.name, **cfg.game.options)
    torch.manual_seed(0)
    batch = SelfPlayWorker(game, cfg).play(2, seed=1)
    assert batch.planes.shape[1:] == (17, 9, 9) and batch.policy.shape[1] == 82
    assert len(batch.games) == 2 and np.allclose(batch.policy.sum(1), 1.0, atol=1e-4)
    record = game.format_record(batch.games[0].actions, {"first": "net", "second": "net"})
    assert record.startswith("(;FF[4]") and "SZ[9]" in record and "KM[7.5]" in record and "PB[net]" in record
    state = game.initial_state()
    for a in batch.games[0].actions:
        state = game.apply(state, a)
    assert game.is_terminal(state)  # played to the end (two passes or the move limit)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="selfplay.paralel_games"):
        make_config(None, ["selfplay.paralel_games=3"])
    with pytest.raises(ConfigError, match="train.optimizer"):
        make_config(None, ["train.optimizer=rmsprop"])
    with pytest.raises(ConfigError, match="wdl"):
        make_config(None, ["train.value_loss=wdl"])
    assert DEFAULT["game"]["name"] == "connect4"


# ----------------------------------------------------------------------------------------------- worker
def test_worker_plays_games_with_targets():
    cfg = tiny("selfplay.value_discount=0.9")
    game = games.make("tictactoe")
    torch.manual_seed(0)
    worker = SelfPlayWorker(game, cfg)
    batch = worker.play(10, seed=3)
    assert batch.stats["games"] == 10 and len(batch.games) == 10
    assert batch.planes.shape == (len(batch), 3, 3, 3) and batch.policy.shape == (len(batch), 9)
    np.testing.assert_allclose(batch.policy.sum(axis=1), 1.0, atol=1e-4)
    # the policy target is zero on occupied squares (planes 0 and 1 are the two players' stones)
    occupied = (batch.planes[:, 0] + batch.planes[:, 1]).reshape(len(batch), 9) > 0
    assert np.all(batch.policy[occupied] == 0)
    # value targets: the result from the mover's view, discounted by plies to the end
    assert set(np.unique(batch.result)) <= {-1, 0, 1}
    assert np.all(np.abs(batch.value) <= np.abs(batch.result) + 1e-6)
    assert np.all(np.sign(batch.value) == batch.result)
    first_game = batch.games[0]
    n = len(first_game.actions)
    assert abs(abs(batch.value[0]) - (0.9 ** (n - 1) if first_game.result != 0 else 0.0)) < 1e-5
    # one network call per search step for all live games
    assert batch.stats["network_calls"] <= batch.stats["searches"] * 8
    assert batch.stats["evaluations"] / batch.stats["network_calls"] > 2
    # same seed, same weights, same games carried over (none here): same games
    torch.manual_seed(0)
    again = SelfPlayWorker(game, cfg).play(10, seed=3)
    assert [g.actions for g in again.games] == [g.actions for g in batch.games]
    np.testing.assert_array_equal(again.policy, batch.policy)


def test_continuous_self_play_carries_games_over_and_keeps_calls_full():
    """Continuous self-play: a freed slot always starts a new game, the games under way when ``num_games`` are
    done carry over to the next call (saved and restored exactly: ``pending_arrays`` / ``load_pending``), and
    the network calls stay full; without it the last games leave the batch part empty."""
    game = games.make("connect4")
    extra = ["game.name=connect4", "selfplay.parallel_games=8", "mcts.simulations=16", "selfplay.temperature_moves=8",
             "selfplay.random_opening_plies=2", "selfplay.resign_threshold=0.95", "selfplay.resign_playthrough=0.5"]
    worker = SelfPlayWorker(game, tiny(*extra), evaluator=FixedEvaluator(game))
    first = worker.play(12, seed=1)
    assert first.stats["games"] == 12 and 0 < first.stats["pending_games"] == len(worker.pending) < 8
    assert first.stats["evaluations"] / first.stats["network_calls"] > 7.5  # 8 games in (nearly) every call
    under_way = {tuple(g.actions): len(g.positions) for g in worker.pending}
    assert all(not game.is_terminal(g.state) for g in worker.pending)

    # save the games under way, restore them into a second worker: both go on identically
    saved = {k: v.copy() for k, v in worker.pending_arrays().items()}
    twin = SelfPlayWorker(game, tiny(*extra), evaluator=FixedEvaluator(game))
    twin.load_pending(saved)
    for a, b in zip(worker.pending, twin.pending, strict=True):
        assert a.actions == b.actions and a.draws == b.draws and a.would_resign == b.would_resign
        np.testing.assert_array_equal(a.state, b.state)
        for (p1, x1, pi1, m1), (p2, x2, pi2, m2) in zip(a.positions, b.positions, strict=True):
            assert p1 == p2 and m1 == m2
            np.testing.assert_array_equal(x1, x2)
            np.testing.assert_array_equal(pi1, pi2)
    second, again = worker.play(12, seed=2), twin.play(12, seed=2)
    assert [g.actions for g in second.games] == [g.actions for g in again.games]
    np.testing.assert_array_equal(second.planes, again.planes)
    np.testing.assert_array_equal(second.policy, again.policy)
    np.testing.assert_array_equal(second.value, again.value)
    # the carried games finished in the second call: their moves so far are the start of a finished game
    finished = [tuple(g.actions) for g in second.games + (worker.play(40, seed=3).games)]
    for moves in under_way:
        match = [f for f in finished if f[:len(moves)] == moves]
        assert match, f"carried game {moves} never finished"
    # whole games only (continuous off): exactly num_games started, the last ones in part-empty calls
    whole = SelfPlayWorker(game, tiny(*extra, "selfplay.continuous=false"), evaluator=FixedEvaluator(game))
    batch = whole.play(12, seed=1)
    assert batch.stats["games"] == 12 and not whole.pending
    assert batch.stats["evaluations"] / batch.stats["network_calls"] < first.stats["evaluations"] / \
        first.stats["network_calls"]


def test_saved_games_under_way_that_do_not_fit_are_refused():
    game = games.make("tictactoe")
    worker = SelfPlayWorker(game, tiny(), evaluator=FixedEvaluator(game))
    worker.play(3, seed=0)
    saved = worker.pending_arrays()
    bad = dict(saved, moves=np.full_like(saved["moves"], 4))  # the same square again and again
    with pytest.raises(ValueError, match="illegal move"):
        worker.load_pending(bad)
    with pytest.raises(ValueError, match="do not fit"):
        worker.load_pending(dict(saved, policy=np.zeros((len(saved["plies"]), 7), np.float32)))
    with pytest.raises(ValueError, match="lack"):
        worker.load_pending({k: v for k, v in saved.items() if k != "flags"})


class FixedEvaluator:
    """A deterministic stand-in for a network: logits and value are fixed functions of the planes, row by row, so
    that a position gets the same evaluation whatever batch it comes in."""

    def __init__(self, game, seed=0):
        rng = np.random.default_rng(seed)
        self.w_logits = rng.normal(size=(int(np.prod(game.plane_shape)), game.num_actions))
        self.w_value = rng.normal(size=int(np.prod(game.plane_shape)))

    def __call__(self, planes, legal):
        x = planes.reshape(len(planes), -1).astype(np.float64)
        logits = (x[:, :, None] * self.w_logits[None]).sum(axis=1)
        value = np.tanh((x * self.w_value[None]).sum(axis=1) / 4)
        return logits.astype(np.float32), value.astype(np.float32)


@pytest.mark.parametrize("search", ["puct", "gumbel"])
def test_worker_games_do_not_depend_on_how_many_are_played_at_once(search):
    """Every game searches at its own pace and draws from its own streams (tree, temperature): a seed gives the
    same games with 3 or 8 at once; only the order they finish in changes."""
    game = games.make("connect4")
    extra = ["game.name=connect4", "selfplay.temperature_moves=40", "selfplay.random_opening_plies=2",
             "selfplay.continuous=false",
             f"mcts.gumbel={'true' if search == 'gumbel' else 'false'}", "mcts.simulations=16"]
    runs = {}
    for parallel in (3, 8):
        cfg = tiny(*extra, f"selfplay.parallel_games={parallel}")
        batch = SelfPlayWorker(game, cfg, evaluator=FixedEvaluator(game)).play(10, seed=4)
        runs[parallel] = batch
        assert batch.stats["searches"] == batch.stats["moves"]
    assert sorted(g.actions for g in runs[3].games) == sorted(g.actions for g in runs[8].games)
    assert sorted(runs[3].value.tolist()) == sorted(runs[8].value.tolist())
    # with 8 games at once the network calls are fuller than with 3
    assert runs[8].stats["evaluations"] / runs[8].stats["network_calls"] > \
        runs[3].stats["evaluations"] / runs[3].stats["network_calls"]


def test_temperature_choice_samples_visit_counts_to_the_power_one_over_t():
    """Self-play's move choice (compiled): with u on a fine uniform grid each action is chosen in proportion to
    N ** (1/T); T = 0 takes the most visited, ties split by u; unvisited actions are never chosen."""
    visits = np.array([0, 6, 0, 2, 4, 0, 0], np.int32)
    grid = (np.arange(12000) + 0.5) / 12000
    for temperature, weights in ((1.0, visits), (0.5, visits.astype(float) ** 2)):
        picks = np.bincount([temperature_choice(visits, temperature, u) for u in grid], minlength=7) / len(grid)
        np.testing.assert_allclose(picks, weights / weights.sum(), atol=2e-4)
    assert {temperature_choice(visits, 0.0, u) for u in grid} == {1}
    ties = np.array([3, 0, 3, 1], np.int32)
    assert [temperature_choice(ties, 0.0, u) for u in (0.1, 0.49, 0.51, 0.99)] == [0, 0, 2, 2]
    assert temperature_choice(np.zeros(4, np.int32), 1.0, 0.3) == -1
    with pytest.raises(ValueError, match="temperature"):
        temperature_choice(visits, -1.0, 0.5)


def test_game_draws_depend_on_the_game_seed_and_count_only():
    a = [draw(np.uint64(7), k) for k in range(2000)]
    assert a == [draw(np.uint64(7), k) for k in range(2000)]
    assert all(0.0 < x < 1.0 for x in a) and abs(np.mean(a) - 0.5) < 0.02 and len(set(a)) == len(a)
    assert [draw(np.uint64(8), k) for k in range(5)] != a[:5]


def test_worker_buffers_grow_for_long_games_without_changing_them():
    """The compiled move loop keeps each slot's moves and positions in buffers sized for 256 moves (chess games
    can be far longer): started far too small, they grow as games need, and the games are the same."""
    game = games.make("connect4")
    cfg = tiny("game.name=connect4", "mcts.simulations=8", "selfplay.random_opening_plies=6")
    full = SelfPlayWorker(game, cfg, evaluator=FixedEvaluator(game))
    small = SelfPlayWorker(game, cfg, evaluator=FixedEvaluator(game))
    small._slots = _moves.allocate_slots(small.batch_size, 2, small.search.num_edges, 51, np.int16, 7)
    a, b = full.play(12, seed=5), small.play(12, seed=5)
    assert small._slots.actions.shape[1] > 2
    assert [g.actions for g in a.games] == [g.actions for g in b.games]
    np.testing.assert_array_equal(a.planes, b.planes)
    np.testing.assert_array_equal(a.policy, b.policy)
    np.testing.assert_array_equal(a.value, b.value)
    for x, y in zip(full.pending, small.pending, strict=True):
        assert x.actions == y.actions and x.draws == y.draws and len(x.positions) == len(y.positions)


@pytest.mark.parametrize("bad", ["nan", "range"])
def test_worker_reports_a_bad_evaluation_and_recovers(bad):
    """A network output the search cannot use (NaN logits, a value outside [-1, 1]) in the middle of self-play is
    a clear error naming it, and the worker plays on with a sound evaluator afterwards."""
    game = games.make("connect4")
    good = FixedEvaluator(game)
    calls = []

    def broken(planes, legal):
        logits, values = good(planes, legal)
        calls.append(len(planes))
        if len(calls) == 20:
            if bad == "nan":
                logits[3, 2] = np.nan
            else:
                values[3] = 3.0
        return logits, values

    worker = SelfPlayWorker(game, tiny("game.name=connect4"), evaluator=broken)
    with pytest.raises(ValueError, match="NaN logits" if bad == "nan" else "value 3.0"):
        worker.play(8, seed=0)
    worker.evaluator = good
    batch = worker.play(8, seed=1)
    assert batch.stats["games"] == 8 and np.allclose(batch.policy.sum(1), 1.0, atol=1e-4)


def test_worker_resignation_playthrough_counts_false_resigns():
    cfg = tiny("selfplay.resign_threshold=0.99", "selfplay.resign_playthrough=0.5")
    game = games.make("tictactoe")
    torch.manual_seed(0)
    batch = SelfPlayWorker(game, cfg).play(16, seed=1)
    # with a threshold this high nearly every side "wants" to resign at once: half the games resign, the
    # others are played out and show how often that would have been wrong
    assert batch.stats["resigned"] > 0
    assert batch.stats["playthrough_games"] > 0
    assert batch.stats["resigned"] + batch.stats["playthrough_games"] == 16
    assert 0 <= batch.stats["false_resigns"] <= 2 * batch.stats["playthrough_games"]
    assert all(g.reason == "resign" for g in batch.games if not g.playthrough and g.reason != "end")


# ----------------------------------------------------------------------------------------------- replay
def test_replay_window_and_persistence_round_trip(tmp_path):
    buf = ReplayBuffer(10, (3, 3, 3), 9)
    rng = np.random.default_rng(0)
    for k in range(3):
        n = 4
        planes = rng.integers(0, 2, size=(n, 3, 3, 3)).astype(np.float32)
        policy = rng.random((n, 9)).astype(np.float32)
        buf.add(planes, policy, np.full(n, k, np.float32), np.full(n, 1, np.int8))
    assert len(buf) == 10 and buf.total_added == 12
    # the two oldest examples (of the first add) were overwritten
    assert sorted(buf.value.tolist()).count(0.0) == 2
    path = buf.save(tmp_path / "replay.npz", {"iteration": 7})
    loaded, meta = ReplayBuffer.load(path)
    assert meta["iteration"] == 7 and loaded.total_added == 12 and len(loaded) == 10
    a = buf.sample(32, np.random.default_rng(5), augment=False)
    b = loaded.sample(32, np.random.default_rng(5), augment=False)
    # the loaded buffer is ordered oldest first: compare as sets of rows
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape
    ordered = buf._ordered()
    np.testing.assert_array_equal(loaded.planes[:10], buf.planes[ordered])
    np.testing.assert_array_equal(loaded.policy[:10], buf.policy[ordered])
    # continues as the original would
    buf.add(planes[:3], policy[:3], np.full(3, 9, np.float32), np.zeros(3, np.int8))
    loaded.add(planes[:3], policy[:3], np.full(3, 9, np.float32), np.zeros(3, np.int8))
    np.testing.assert_array_equal(np.sort(loaded.value), np.sort(buf.value))
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:200])
    with pytest.raises(ReplayError, match="corrupt or truncated"):
        ReplayBuffer.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("name", ["tictactoe", "connect4"])
def test_symmetry_augmentation_keeps_policy_and_planes_aligned(name):
    game = games.make(name)
    rng = np.random.default_rng(1)
    states, planes, policies = [], [], []
    for _ in range(40):
        s = game.initial_state()
        for _ in range(int(rng.integers(1, 5))):
            s = game.apply(s, int(rng.choice(game.legal_actions(s))))
        if game.is_terminal(s):
            continue
        legal = game.legal_mask(s).astype(np.float32)
        # a policy that marks one legal move: after any symmetry it must still be a legal move of the planes
        pi = np.zeros(game.num_actions, np.float32)
        pi[int(rng.choice(np.flatnonzero(legal)))] = 1.0
        states.append(s)
        planes.append(game.encode(s))
        policies.append(pi)
    buf = ReplayBuffer(100, game.plane_shape, game.num_actions, plane_dtype=np.float32)
    n = len(states)
    buf.add(np.stack(planes), np.stack(policies), np.zeros(n, np.float32), np.zeros(n, np.int8))
    x, pi, _, _ = buf.sample(400, np.random.default_rng(2), game, augment=True)
    seen_transformed = 0
    for k in range(400):
        # find the source row and the symmetry that maps it to this sample
        matches = [(j, s) for j in range(n) for s in range(game.num_symmetries)
                   if np.array_equal(game.transform_planes(planes[j], s), x[k])]
        assert matches, "a sampled position is no symmetry of any stored one"
        ok = any(np.array_equal(game.transform_policy(policies[j], s), pi[k]) for j, s in matches)
        assert ok, "policy and planes went through different symmetries"
        seen_transformed += any(s != 0 for _, s in matches) and not any(s == 0 for _, s in matches)
        # the marked move is an empty square / open column of the sampled planes
        a = int(np.argmax(pi[k]))
        if name == "tictactoe":
            assert x[k][0].reshape(-1)[a] == 0 and x[k][1].reshape(-1)[a] == 0
        else:
            assert x[k][0][0, a] == 0 and x[k][1][0, a] == 0  # top cell of the column is empty
    assert seen_transformed > 50


# ----------------------------------------------------------------------------------------------- learner
@pytest.mark.parametrize("optimizer,value_loss", [("sgd", "mse"), ("adamw", "wdl")])
def test_learner_loss_decreases_on_a_fixed_batch(optimizer, value_loss):
    extra = [f"train.optimizer={optimizer}", f"train.value_loss={value_loss}", "train.lr=0.01"]
    if value_loss == "wdl":
        extra.append("net.wdl=true")
    cfg = tiny(*extra)
    game = games.make("tictactoe")
    torch.manual_seed(0)
    batch = SelfPlayWorker(game, cfg).play(12, seed=0)
    from engine.alphazero import build_net

    torch.manual_seed(1)
    learner = Learner(build_net(game, cfg), cfg.train, "cpu")
    args = (batch.planes, batch.policy, batch.value, batch.result)
    first = learner.train_batch(*args)
    for _ in range(60):
        last = learner.train_batch(*args)
    assert last["loss"] < 0.7 * first["loss"]
    assert last["policy_loss"] < first["policy_loss"] and last["value_loss"] < first["value_loss"]
    assert learner.step == 61


# ----------------------------------------------------------------------------------------------- the run
def test_tiny_run_writes_the_run_folder_and_resumes(tmp_path):
    cfg = tiny()
    run = SelfPlayRun.create(cfg, seed=3, folder=tmp_path / "run", progress=False)
    out = run.run()
    folder = tmp_path / "run"
    assert out["iterations"] == 2 and out["stopped"] == "done"
    for name in ("config.yaml", "metrics.csv", "elo.png", "losses.png", "checkpoints/latest.pt",
                 "checkpoints/newest.pt", "README.txt", "checkpoints/iter-0000.pt", "checkpoints/iter-0002.pt",
                 "replay-0002.npz", "selfplay-0002.npz", "games/iter-0001.txt", "seed.txt"):
        assert (folder / name).exists(), name
    assert not (folder / "replay-0001.npz").exists() and not (folder / "selfplay-0001.npz").exists()
    assert any((folder / "tb").iterdir())
    rows = (folder / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("iteration,")
    assert "elo" in rows[0] and rows[2].split(",")[0] == "2"
    records = (folder / "games" / "iter-0001.txt").read_text()
    assert records.count("result:") == 12
    # the run goes on where it stopped when asked for more iterations
    more = SelfPlayRun.resume(folder, ["run.iterations=3"], progress=False)
    assert more.iteration == 2 and more.learner.step == run.learner.step and len(more.replay) == len(run.replay)
    assert len(more.worker.pending) == len(run.worker.pending) > 0  # the games under way carried over
    assert more.run()["iterations"] == 3
    # a corrupt file of games under way is a clear error naming it
    pending = folder / "selfplay-0003.npz"
    good = pending.read_bytes()
    pending.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="selfplay-0003.npz"):
        SelfPlayRun.resume(folder, progress=False)
    pending.write_bytes(good)
    # a corrupt or foreign checkpoint is a clear error
    latest = folder / "checkpoints" / "latest.pt"
    data = bytearray(latest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    latest.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="latest.pt"):
        SelfPlayRun.resume(folder, progress=False)
    import shutil

    shutil.copy(folder / "checkpoints" / "iter-0001.pt", latest)
    with pytest.raises(CheckpointError, match="not an AlphaZero run checkpoint"):
        SelfPlayRun.resume(folder, progress=False)


def _selfplay(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "engine.selfplay", "--no-progress", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


# The run is killed from inside, at a point of iteration 2 that the run itself reaches (no sleep decides it): while
# its games are played (in the learner's process; or on a worker process, the games of iteration 3 starting while
# iteration 2 trains), or between the replay and the checkpoint of its save (with the machine's default workers).
_KILL_AT = {
    "selfplay": ("engine.alphazero.run", "LocalGames", "play", "len(calls) == 2", ["run.workers=0"]),
    "selfplay-workers": ("engine.distributed.processes", "ProcessSelfPlay", "play", "len(calls) == 3",
                         ["run.workers=1"]),
    "save": ("engine.alphazero.run", "SelfPlayRun", "_save_net", "args[2] == 2", []),
}


def _selfplay_killed_at(point: str, args):
    module, cls, method, when, _ = _KILL_AT[point]
    code = f"""
import os, signal, sys
import {module} as hooked_module
from engine.selfplay import main
calls, original = [], hooked_module.{cls}.{method}
def hooked(*args, **kw):
    calls.append(1)
    if {when}:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kw)
hooked_module.{cls}.{method} = hooked
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", code, "--no-progress", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize("point", sorted(_KILL_AT))
def test_resume_after_sigkill_loses_at_most_the_unfinished_iteration(tmp_path, point):
    overrides = TINY[:-2] + ["run.iterations=3", "run.device=cpu", "run.tensorboard=false", "run.plots=false",
                             "run.target_mcts_score=0", *_KILL_AT[point][4]]  # the default stops at a target
    # the uninterrupted run
    straight = _selfplay(["--out", str(tmp_path / "a"), "--seed", "5", *overrides])
    assert straight.wait(timeout=300) == 0, straight.stdout.read()
    # the same run, killed with SIGKILL during iteration 2, then resumed
    proc = _selfplay_killed_at(point, ["--out", str(tmp_path / "b"), "--seed", "5", *overrides])
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, out
    metrics = tmp_path / "b" / "metrics.csv"
    assert len(metrics.read_text().splitlines()) - 1 == 1  # iteration 1 saved, iteration 2 lost
    resumed = _selfplay(["--resume", str(tmp_path / "b")])
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out
    a = read_checkpoint(tmp_path / "a" / "checkpoints" / "latest.pt")
    b = read_checkpoint(tmp_path / "b" / "checkpoints" / "latest.pt")
    assert a.step == b.step and a.extra["iteration"] == b.extra["iteration"] == 3
    for key in a.model:
        assert torch.equal(a.model[key], b.model[key]), key
    assert a.extra["elo_games"] == b.extra["elo_games"]
    assert (tmp_path / "a" / "games" / "iter-0003.txt").read_text() == \
        (tmp_path / "b" / "games" / "iter-0003.txt").read_text()


def test_selfplay_cli_errors(tmp_path):
    from engine.selfplay import main

    with pytest.raises(ConfigError, match="unknown config key"):
        main(["nope.key=1"])
    from engine.cli import UserError

    with pytest.raises(UserError, match="does not exist"):
        main(["--resume", str(tmp_path / "missing")])
