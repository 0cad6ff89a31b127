"""engine.supervised: the data path (records and teachers, exactly), bad input, teacher failures, a smoke run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import games
from engine.cli import UserError
from engine.supervised.data import load_dataset, make_batch
from engine.supervised.generate import _WORKER, GenerateOptions, _init_worker, make_shard
from engine.supervised.records import ReadStats, RecordFilter, build_from_records, read_records
from engine.supervised.teachers import make_teacher

ROOT = Path(__file__).resolve().parent.parent
FAKE_UCI = ROOT / "tests" / "fake_uci.py"
GNUGO = "/usr/games/gnugo"


def _records(game, path, **filt):
    stats = ReadStats()
    return list(read_records(game, [str(path)], RecordFilter(**filt), stats)), stats


# --------------------------------------------------------------------------------------------- records
def test_tictactoe_record_gives_each_position_the_move_played_and_the_result(tmp_path):
    game = games.make("tictactoe")
    (tmp_path / "g.txt").write_text("# X wins down column a\na1 b1 a2 b2 a3\n")
    manifest, stats = build_from_records(game, [str(tmp_path / "g.txt")], tmp_path / "data", RecordFilter())
    assert (stats.games, stats.skipped, manifest["totals"]["positions"]) == (1, 0, 5)
    ds, _ = load_dataset(tmp_path / "data", game)
    moves = ["a1", "b1", "a2", "b2", "a3"]
    state = game.initial_state()
    for k, text in enumerate(moves):
        action = game.parse_move(state, text)
        assert np.array_equal(ds.states[k], state)
        assert ds.actions[k, 0] == action and ds.probs[k, 0] == 1.0 and ds.best[k, 0] == action
        assert ds.value[k] == (1.0 if k % 2 == 0 else -1.0)  # X (first player) won: +1 when X is to move
        assert ds.result[k] == (1 if k % 2 == 0 else -1)
        assert ds.ply[k] == k
        state = game.apply(state, action)
    assert len(set(ds.game.tolist())) == 1
    planes, policy, value, result, legal = make_batch(game, ds, np.arange(5), None, False)
    assert np.array_equal(planes[2], game.encode(ds.states[2]))
    assert np.array_equal(legal[1], game.legal_mask(ds.states[1]))
    assert policy[3].argmax() == game.parse_move(ds.states[3], "b2") and policy[3].sum() == 1.0


def test_connect4_pons_strings_with_and_without_result(tmp_path):
    game = games.make("connect4")
    (tmp_path / "c4.txt").write_text("4455667\n4453 0-1\n4453\n")  # a finished game, a result given, none
    recs, stats = _records(game, tmp_path / "c4.txt")
    assert [r.actions for r in recs] == [[3, 3, 4, 4, 5, 5, 6], [3, 3, 4, 2]]
    assert [r.result for r in recs] == [1, -1]
    assert (stats.games, stats.filtered, stats.skipped) == (3, 1, 0)  # the third has no result: left out


def test_pgn_broken_game_in_the_middle_is_skipped_with_file_game_and_line(tmp_path):
    game = games.make("chess")
    text = ('[Event "one"]\n[Result "0-1"]\n\n1. f3 e5 2. g4 Qh4# 0-1\n\n'
            '[Event "two"]\n[Result "1-0"]\n\n1. e4 e5 2. Nf9 Nc6 1-0\n\n'
            '[Event "three"]\n[WhiteElo "2100"]\n[BlackElo "1900"]\n[Result "1/2-1/2"]\n\n1. d4 d5 1/2-1/2\n')
    path = tmp_path / "db.pgn"
    path.write_text(text)
    recs, stats = _records(game, path)
    assert [len(r.actions) for r in recs] == [4, 2]
    assert [r.result for r in recs] == [-1, 0]
    assert stats.skipped == 1 and len(stats.errors) == 1
    err = stats.errors[0]
    assert str(path) in err and "game 2" in err and "line 9" in err and "Nf9" in err
    recs, stats = _records(game, path, min_elo=1900)  # game one has no ratings: left out too
    assert [len(r.actions) for r in recs] == [2] and stats.filtered == 1
    recs, stats = _records(game, path, min_elo=2000)  # game three's Black is 1900
    assert recs == [] and stats.filtered == 2
    # the fool's mate positions, exactly: Black to move after f3 has value +1 (Black won)
    manifest, _ = build_from_records(game, [str(path)], tmp_path / "data", RecordFilter())
    ds, _ = load_dataset(tmp_path / "data", game)
    state = game.initial_state()
    for k, san in enumerate(["f3", "e5", "g4", "Qh4#"]):
        assert np.array_equal(ds.states[k], state) and ds.actions[k, 0] == game.parse_move(state, san)
        assert ds.value[k] == (-1.0 if k % 2 == 0 else 1.0)
        state = game.apply(state, game.parse_move(state, san))


def test_sgf_with_an_illegal_move_is_skipped_and_the_next_game_read(tmp_path):
    game = games.make("go9")
    good = "(;GM[1]SZ[9]KM[7.5]RE[W+2.5];B[ee];W[ce];B[gc])"
    bad = "(;GM[1]SZ[9]KM[7.5]RE[B+R]\n;B[ee];W[ee])"  # White plays on Black's stone
    path = tmp_path / "games.sgf"
    path.write_text(good + "\n" + bad + "\n" + good + "\n")
    recs, stats = _records(game, path)
    assert len(recs) == 2 and stats.skipped == 1
    assert str(path) in stats.errors[0] and "game 2" in stats.errors[0] and "illegal" in stats.errors[0]
    assert recs[0].actions == [4 * 9 + 4, 4 * 9 + 2, 2 * 9 + 6] and recs[0].result == -1
    recs, stats = _records(game, path, komi=6.5)
    assert recs == [] and stats.filtered == 2


# --------------------------------------------------------------------------------------------- teachers
def test_connect4_solver_teacher_labels_exactly():
    from agents.connect4_solver import Connect4Solver

    game = games.make("connect4")
    teacher = make_teacher("c4solver:16", game)
    state = game.parse_position("5554224333234511764415115")  # Test_L2_R1's first line: score 4
    label = teacher.label(state)
    solver = Connect4Solver(game, table_bits=16)
    assert sorted(label.best) == sorted(solver.optimal_moves(state)) == sorted(label.actions)
    assert label.info["score"] == 4 and label.result == 1
    assert np.isclose(sum(label.probs), 1.0)
    # a win with score 4: the mover wins with his 18th stone (22 - 4); 12 stones now, so 11 plies to the end
    assert label.value == pytest.approx(0.98 ** 10)


def test_unknown_teacher_is_one_clear_error(tmp_path):
    from engine.supervised.cli import main

    with pytest.raises(UserError, match="unknown player 'stockfish'"):
        main(["tictactoe", "--teacher", "stockfish", "--out", str(tmp_path / "run")])
    with pytest.raises(UserError, match="give --teacher SPEC"):
        main(["tictactoe", "--out", str(tmp_path / "run2")])
    with pytest.raises(UserError, match="--threads must be >= 1, got 0"):
        main(["tictactoe", "--teacher", "minimax", "--threads", "0", "--out", str(tmp_path / "run4")])
    with pytest.raises(UserError, match="--workers must be >= 1, got 0"):
        main(["tictactoe", "--teacher", "minimax", "--workers", "0", "--out", str(tmp_path / "run5")])
    book = tmp_path / "book.txt"
    book.write_text("b2 a1\n# a comment\nb2 b2\n")
    with pytest.raises(UserError, match=r"book.txt, line 3: move 2 \('b2'\).*occupied"):
        main(["tictactoe", "--teacher", "minimax", "--openings", str(book), "--out", str(tmp_path / "run3")])


def _fake_uci_shard(tmp_path, flag):
    marker = tmp_path / "marker"
    spec = f"uci:{sys.executable} {FAKE_UCI} {flag} {marker} --at 3;timeout=1;movetime=10"
    opts = GenerateOptions(teacher=spec, games_per_shard=3, opening_plies=0, random_moves=0.0, max_plies=6,
                           game_name="chess", game_options={})
    _init_worker(opts)
    try:
        out = make_shard((str(tmp_path / "data"), 0, 0))
    finally:
        if _WORKER.get("teacher") is not None:
            _WORKER["teacher"].close()
        _WORKER.clear()
    return out, marker


@pytest.mark.parametrize("flag,words", [("--crash-once", "exited with status 3"), ("--hang-once", "did not send")])
def test_teacher_that_crashes_or_hangs_mid_game_is_restarted_and_the_game_dropped(tmp_path, flag, words):
    out, marker = _fake_uci_shard(tmp_path, flag)
    assert marker.exists()  # the first engine failed at its third move
    assert out["dropped"] == 1 and out["games"] == 2 and out["positions"] == 12
    assert len(out["errors"]) == 1 and words in out["errors"][0] and "game 1" in out["errors"][0]
    game = games.make("chess")
    with np.load(tmp_path / "data" / "shard-00000.npz") as data:
        state = game.initial_state()
        first = game.parse_uci(state, "a2a3")  # the fake engine's move: the first legal move in UCI order
        assert data["actions"][0, 0] == first and data["ply"].tolist() == [0, 1, 2, 3, 4, 5] * 2
    assert (tmp_path / "data" / "games" / "shard-00000.pgn").read_text().count("[Event") == 2


@pytest.mark.skipif(not Path(GNUGO).exists(), reason="GNU Go is not installed (/usr/games/gnugo)")
def test_gnugo_teacher_game_is_labelled_and_written_as_sgf(tmp_path):
    from games.go.sgf import read_sgf

    opts = GenerateOptions(teacher=f"gtp:{GNUGO} --mode gtp --level 0 --chinese-rules", games_per_shard=1,
                           opening_plies=2, opening_min=2, random_moves=0.0, max_plies=12, game_name="go9",
                           game_options={})
    _init_worker(opts)
    try:
        out = make_shard((str(tmp_path / "data"), 0, 0))
    finally:
        _WORKER["teacher"].close()
        _WORKER.clear()
    assert out["games"] == 1 and out["positions"] == 10  # plies 2..11 labelled
    sgf = read_sgf((tmp_path / "data" / "games" / "shard-00000.sgf").read_text())
    assert sgf.size == 9 and len(sgf.moves) == 12
    with np.load(tmp_path / "data" / "shard-00000.npz") as data:
        assert data["actions"][:, 0].tolist() == sgf.actions[2:]  # the teacher's moves are the targets


# --------------------------------------------------------------------------------------------- the command
def test_smoke_run_trains_a_checkpoint_that_agents_play_and_resumes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "engine.supervised", "tictactoe", "--teacher", "minimax", "--positions", "300",
           "--epochs", "2", "--workers", "1", "--threads", "2", "--out", str(run), "--json", "net.blocks=1",
           "net.channels=8"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["checkpoint"]).is_file() and 0.0 <= result["top1"] <= result["top3"] <= 1.0
    assert result["positions"] >= 300 and result["epochs"] == 2 and result["threads"] == 2
    assert (run / "metrics.csv").read_text().count("\n") == 3 and (run / "curves.png").is_file()
    table = json.loads((run / "calibration.json").read_text())  # the value's reliability on the held-out games
    assert sum(b["count"] for b in table) == result["heldout_positions"] and (run / "calibration.png").is_file()
    assert 0 <= result["calibration_error"] <= 1
    import agents

    game = games.make("tictactoe")
    agent = agents.make(f"alphazero:{result['checkpoint']}", game, simulations=8)
    assert game.legal_mask(game.initial_state())[agent.choose(game.initial_state()).action]
    # --resume of a finished run trains no more; with more epochs it goes on from the saved state
    saved = json.loads((run / "supervised.json").read_text())
    saved["epochs"] = 3
    (run / "supervised.json").write_text(json.dumps(saved))
    out = subprocess.run([sys.executable, "-m", "engine.supervised", "--resume", str(run), "--json"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr
    again = json.loads(out.stdout.strip().splitlines()[-1])
    assert again["epochs"] == 3 and again["positions"] == result["positions"]
    assert again["threads"] == len(os.sched_getaffinity(0))  # the default: every core
    assert (run / "metrics.csv").read_text().count("\n") == 4
    shutil.rmtree(run / "data")


def test_uci_multipv_analysis_becomes_a_softmax_policy_and_a_wdl_value():
    from engine.supervised.teachers import UCITeacher

    class Stub:  # the analysis of an AnalysingUCIPlayer, fixed
        declared, requested_options, name = {}, {"MultiPV": "3"}, "stub"

        def analyse(self, state):
            return ["info depth 1 multipv 1 score cp 20 wdl 400 500 100 pv e2e4 e7e5",
                    "info depth 2 multipv 1 score cp 40 wdl 500 400 100 nodes 90 pv d2d4 d7d5",
                    "info depth 2 multipv 2 score cp 30 lowerbound pv e2e4",
                    "info depth 2 multipv 3 score mate -3 pv g2g4",
                    "bestmove d2d4"]

    game = games.make("chess")
    teacher = UCITeacher(game, Stub(), "uci:stub")
    state = game.initial_state()
    label = teacher.label(state)
    assert teacher.multipv == 3 and not teacher.wdl
    assert label.actions == [game.parse_uci(state, m) for m in ("d2d4", "e2e4", "g2g4")]
    assert label.best == [label.actions[0]]
    scores = np.array([40.0, 30.0, -(10000.0 - 30)]) / 100.0  # a mate in 3 against: -9970 cp
    expected = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    assert np.allclose(label.probs, expected)
    assert label.value == pytest.approx(0.4)  # (500 - 100) / 1000 of the deepest line of rank 1


def test_bench_supervised_counts_the_labelled_positions(tmp_path):
    from engine.benchmarks.supervised import main

    out = tmp_path / "bench.json"
    spec = f"uci:{sys.executable} {FAKE_UCI};movetime=1"
    main(["--teacher", spec, "--positions", "20", "--workers", "1", "--max-plies", "10", "--opening-plies", "0",
          "--games-per-shard", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["positions"] >= 20 and result["positions"] % 10 == 0 and result["dropped"] == 0
    assert result["positions_per_second"] > 0 and result["steady_positions_per_second"] > 0


def test_selfplay_init_starts_a_run_from_given_weights(tmp_path):
    import torch

    from engine.alphazero import SelfPlayRun, make_config
    from engine.selfplay import _init_net_overrides
    from nets import CheckpointError, PolicyValueNet, read_checkpoint, save_checkpoint

    game = games.make("tictactoe")
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16)
    ckpt = save_checkpoint(tmp_path / "sup.pt", net, metadata={"game": "tictactoe", "kind": "alphazero-net"})
    overrides = _init_net_overrides(ckpt)
    assert "net.blocks=1" in overrides and "net.channels=8" in overrides
    cfg = make_config(ROOT / "engine" / "configs" / "tictactoe.yaml", overrides + ["run.tensorboard=false"])
    run = SelfPlayRun.create(cfg, seed=0, folder=tmp_path / "run", progress=False)
    run.start_from(ckpt)
    for k, v in net.state_dict().items():
        assert torch.equal(run.net.state_dict()[k], v)
        assert torch.equal(read_checkpoint(tmp_path / "run" / "checkpoints" / "iter-0000.pt").model[k], v)
    other = save_checkpoint(tmp_path / "other.pt", net, metadata={"game": "connect4"})
    with pytest.raises(CheckpointError, match="trained for connect4"):
        run.start_from(other)


def test_several_data_folders_train_as_one_and_keep_their_games_apart(tmp_path):
    """``--data A B``: the positions of both folders, the game ids of the second offset so that no game of one
    folder is mistaken for a game of the other in the held-out split."""
    from engine.supervised.cli import main
    from engine.supervised.data import FOLDER_ID_STRIDE, load_datasets

    game = games.make("tictactoe")
    for name, seed in (("a", 1), ("b", 2)):
        main(["tictactoe", "--teacher", "minimax", "--positions", "60", "--epochs", "1", "--workers", "1",
              "--seed", str(seed), "--out", str(tmp_path / f"run-{name}"), "--data", str(tmp_path / name),
              "--no-progress", "--json"])
    a, _ = load_dataset(tmp_path / "a", game)
    b, _ = load_dataset(tmp_path / "b", game)
    both, manifests = load_datasets([tmp_path / "a", tmp_path / "b"], game)
    assert len(both) == len(a) + len(b) and len(manifests) == 2
    assert np.array_equal(both.states, np.concatenate([a.states, b.states]))
    assert np.array_equal(both.game, np.concatenate([a.game, b.game + FOLDER_ID_STRIDE]))
    assert len(set(both.game.tolist())) == len(set(a.game.tolist())) + len(set(b.game.tolist()))
    out = tmp_path / "run-both"
    main(["tictactoe", "--data", str(tmp_path / "a"), str(tmp_path / "b"), "--epochs", "1", "--out", str(out),
          "--no-progress", "--json"])
    assert json.loads((out / "supervised.json").read_text())["data"] == [str(tmp_path / "a"), str(tmp_path / "b")]


def test_connect4_takes_its_tuned_learning_rate_unless_overridden(tmp_path):
    """The game's tuned training settings sit between the supervised base and the user's overrides."""
    from engine.supervised.cli import GAME_TRAIN, _config, build_parser

    tuned = dict(o.split("=") for o in GAME_TRAIN["connect4"])
    args = build_parser().parse_intermixed_args(["connect4", "--teacher", "c4solver"])
    cfg = _config(args, games.make("connect4"), tmp_path / "a")
    assert cfg.train.lr == float(tuned["train.lr"]) and cfg.train.optimizer == "adamw"
    args = build_parser().parse_intermixed_args(["connect4", "--teacher", "c4solver", "train.lr=0.001"])
    assert _config(args, games.make("connect4"), tmp_path / "b").train.lr == 0.001
    args = build_parser().parse_intermixed_args(["tictactoe", "--teacher", "minimax"])
    assert _config(args, games.make("tictactoe"), tmp_path / "c").train.lr == 0.002  # the base


def test_reliability_bins_predicted_against_actual_scores():
    from engine.supervised.train import reliability

    values = np.array([-0.9, -0.9, 0.0, 0.0, 0.0, 0.0, 0.95])
    results = np.array([-1, 1, 1, -1, 0, 0, 1], dtype=np.float64)
    table = reliability(values, results, bins=10)
    assert [(b["low"], b["count"]) for b in table] == [(0.0, 2), (0.5, 4), (0.9, 1)]
    assert [b["predicted"] for b in table] == pytest.approx([0.05, 0.5, 0.975])
    assert [b["actual"] for b in table] == pytest.approx([0.5, 0.5, 1.0])
