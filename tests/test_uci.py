"""``python -m engine.uci``: the UCI protocol through a subprocess (python-chess as the GUI for a whole game),
bad input, ``isready``/``stop`` while thinking, limits, exactly one ``bestmove`` per ``go``; and the pieces
(go parsing, time budgets, the centipawn scale) in process."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from engine.uci import GoLimits, parse_go, time_budget
from games.chess.score import MAX_CP, cp_to_value, value_to_cp
from tests.uci_helpers import ROOT, START_TIMEOUT, UciProcess

pytest.importorskip("chess.engine", reason="python-chess (a test dependency) plays the GUI")
import chess  # noqa: E402
import chess.engine  # noqa: E402


@pytest.fixture(scope="module")
def engine():
    """One engine for the protocol tests (each test leaves it idle); few simulations keep them fast."""
    proc = UciProcess("--simulations", "30")
    proc.send("uci")
    lines = proc.read_until("uciok", START_TIMEOUT)
    proc.handshake = lines
    proc.ready()
    yield proc
    assert proc.close() == 0


def bestmoves(lines):
    return [x for x in lines if x.startswith("bestmove")]


def test_uci_handshake_declares_options(engine):
    lines = engine.handshake
    assert lines[0] == "id name rlengine" and lines[1].startswith("id author ")
    options = {x.split(" type ")[0][len("option name "):]: x for x in lines if x.startswith("option name ")}
    assert {"Simulations", "MultiPV", "MoveOverhead", "MaxTreeNodes", "Evaluator", "Hash", "Threads", "Ponder",
            "UCI_ShowWDL"} <= set(options)
    assert "default 30 min 1" in options["Simulations"]
    assert options["Ponder"].endswith("type check default false")
    assert options["UCI_ShowWDL"].endswith("type check default false")
    # without a checkpoint the engine says on stderr what it plays with
    engine.stderr_until(0, lambda got: any("notice:" in x and "material" in x for x in got))


def test_nodes_limit_is_honoured_and_bestmove_sent_once(engine):
    engine.send("position startpos moves e2e4 e7e5")
    engine.send("go nodes 37")
    lines = engine.read_until("bestmove")
    info = [x for x in lines if x.startswith("info depth")][-1].split()
    assert int(info[info.index("nodes") + 1]) == 37
    assert "score" in info and "pv" in info and int(info[info.index("depth") + 1]) >= 1
    pv = info[info.index("pv") + 1:]
    board = chess.Board()
    board.push_uci("e2e4")
    board.push_uci("e7e5")
    for move in pv:  # the principal variation is a legal line
        board.push_uci(move)
    best = lines[-1].split()
    assert best[1] == pv[0] and (len(pv) < 2 or best[2:] == ["ponder", pv[1]])
    assert bestmoves(engine.drain(0.5)) == []


def test_movetime_is_honoured(engine):
    engine.send("position startpos")
    t0 = time.monotonic()
    engine.send("go movetime 400")
    engine.read_until("bestmove", 30)
    elapsed = time.monotonic() - t0
    assert 0.3 <= elapsed < 2.0


def test_clock_time_management(engine):
    engine.send("position startpos moves d2d4")
    t0 = time.monotonic()
    engine.send("go wtime 3000 btime 3000 winc 0 binc 0")
    engine.read_until("bestmove", 30)
    # 3 s left with about 25 moves to go: about 0.1 s, never near the whole clock
    assert time.monotonic() - t0 < 1.5


def test_isready_and_stop_while_thinking(engine):
    def nodes(line):
        words = line.split()
        return int(words[words.index("nodes") + 1])

    engine.send("position startpos")
    engine.send("go infinite")
    # the search's own periodic info says it is under way (no sleep decides it)
    lines = engine.read_until("info depth", 120)
    engine.send("isready")
    lines += engine.read_until("readyok", 120)
    assert bestmoves(lines) == []  # answered while searching: no bestmove before readyok
    # an infinite search is not bound by Simulations (30): wait for an info line beyond it, then stop
    while nodes([x for x in lines if x.startswith("info depth")][-1]) <= 30:
        lines += engine.read_until("info depth", 120)
    engine.send("stop")
    lines = engine.read_until("bestmove", 120)
    assert len(bestmoves(lines)) == 1
    last = [x for x in lines if x.startswith("info depth")][-1]
    assert nodes(last) > 30
    assert bestmoves(engine.drain(0.5)) == []
    engine.send("stop")  # a stop with no search running is ignored
    assert bestmoves(engine.drain(0.5)) == []


def test_infinite_search_waits_for_stop_even_when_done(engine):
    """UCI: after go infinite, bestmove waits for stop, even if the search cannot go on (mate in one)."""
    engine.send("position fen 6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1")
    engine.send("go infinite")
    lines = engine.drain(1.0)
    assert bestmoves(lines) == []
    engine.send("stop")
    lines = engine.read_until("bestmove", 10)
    assert lines[-1].split()[1] == "a1a8"
    assert "score mate 1" in [x for x in lines if x.startswith("info depth")][-1]


def test_go_depth_and_multipv(engine):
    engine.send("setoption name MultiPV value 3")
    engine.send("position startpos")
    engine.send("go depth 3")
    lines = engine.read_until("bestmove", 60)
    infos = [x for x in lines if x.startswith("info depth")][-3:]
    assert [x.split()[x.split().index("multipv") + 1] for x in infos] == ["1", "2", "3"]
    assert int(infos[0].split()[2]) >= 3
    engine.send("setoption name MultiPV value 1")


def test_malformed_commands_get_a_message_and_the_engine_keeps_running(engine):
    before = len(engine.stderr)
    engine.send("position startpos moves e2e4")
    bad = ["position", "position middlegame", "position startpos moves e2e4 e7e4", "position fen 8/8/8 w - - 0 1",
           "position startpos e2e4", "position startpos moves e2e4 e1e2 0000", "setoption name Simulations value lots",
           "setoption Simulations", "flyaway"]
    for line in bad:
        engine.send(line)
    engine.send("setoption name NoSuchOption value 1")
    engine.ready(30)
    messages = engine.stderr_until(before, lambda lines: any("NoSuchOption" in x for x in lines))
    assert len([m for m in messages if m.startswith("error:")]) == len(bad)
    joined = "\n".join(messages)
    assert "e7e4" in joined and "unknown command 'flyaway'" in joined and "NoSuchOption" in joined
    assert "FEN" in joined and "lots" in joined
    # a bad go argument is reported and ignored: the search still answers, once
    for line, message in [("go wtime soon", "wtime needs an integer"), ("go nodes -5", "nodes must not be negative"),
                          ("go sideways nodes 10", "unknown argument 'sideways'")]:
        engine.send(line)
        lines = engine.read_until("bestmove", 30)
        engine.stderr_until(before, lambda got, message=message: message in "\n".join(got))
        assert len(bestmoves(lines)) == 1
        # the position is still 1. e4: the bad commands left it alone
        board = chess.Board()
        board.push_uci("e2e4")
        assert chess.Move.from_uci(lines[-1].split()[1]) in board.legal_moves
    assert bestmoves(engine.drain(0.5)) == []


def test_go_after_go_and_checkmated_side(engine):
    engine.send("position startpos")
    engine.send("go infinite")
    engine.send("go nodes 5")  # a new go ends the running search: one bestmove for each go
    lines = engine.read_until("bestmove", 10) + engine.read_until("bestmove", 30)
    assert len(bestmoves(lines)) == 2
    engine.send("position startpos moves f2f3 e7e5 g2g4 d8h4")  # white is checkmated
    engine.send("go nodes 10")
    assert engine.read_until("bestmove", 10)[-1] == "bestmove (none)"


def test_a_whole_game_through_python_chess():
    """python-chess drives the engine (white, 40 simulations a move) against seeded random moves to the end."""
    eng = chess.engine.SimpleEngine.popen_uci([sys.executable, "-m", "engine.uci", "--seed", "3"], cwd=ROOT,
                                              timeout=START_TIMEOUT)
    try:
        assert eng.id["name"] == "rlengine" and "Simulations" in eng.options
        eng.configure({"Simulations": 40})
        board = chess.Board()
        rng = np.random.default_rng(0)
        while not board.is_game_over(claim_draw=True):
            if board.turn == chess.WHITE:
                result = eng.play(board, chess.engine.Limit(nodes=40), info=chess.engine.INFO_ALL)
                assert result.move in board.legal_moves
                assert result.info["nodes"] == 40 and "score" in result.info
            else:
                moves = list(board.legal_moves)
                result = None
                board.push(moves[rng.integers(len(moves))])
                continue
            board.push(result.move)
        assert board.outcome(claim_draw=True).winner == chess.WHITE  # it beats a random mover
        analysis = eng.analyse(chess.Board(), chess.engine.Limit(time=0.3))
        assert analysis["pv"] and analysis["depth"] >= 1
    finally:
        eng.quit()


def test_quit_while_thinking_sends_bestmove_and_exits():
    proc = UciProcess("--simulations", "10")
    proc.ready()
    proc.send("position startpos")
    proc.send("go infinite")
    time.sleep(0.3)
    proc.send("quit")
    assert proc.read_until("bestmove", 30)
    assert proc.proc.wait(timeout=30) == 0


def test_bad_checkpoint_exits_with_one_line(tmp_path):
    missing = UciProcess("--checkpoint", str(tmp_path / "nope.pt"))
    assert missing.proc.wait(timeout=120) == 2
    stderr = missing.all_stderr()
    assert len(stderr) == 1 and "nope.pt" in stderr[0]
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    proc = UciProcess("--checkpoint", str(corrupt))
    proc.send("uci")
    # the checkpoint is loaded before anything is answered: no uciok, one line, exit status 2
    assert proc.proc.wait(timeout=START_TIMEOUT) == 2
    stderr = proc.all_stderr()
    assert len(stderr) == 1 and stderr[0].startswith("error: --checkpoint") and "corrupt.pt" in stderr[0]
    assert proc.drain(0.5) == []


def test_player_option_names_the_material_search():
    """``--player mcts-material`` plays the material search whatever network is shipped, and says so; it does
    not go with ``--checkpoint``."""
    proc = UciProcess("--player", "mcts-material", "--simulations", "10")
    proc.send("uci")
    lines = proc.read_until("uciok", START_TIMEOUT)
    assert any(x.startswith("option name Evaluator") for x in lines)
    assert not any(x.startswith("option name MinibatchSize") for x in lines)
    proc.stderr_until(0, lambda got: any("--player mcts-material; playing MCTS with the material" in x
                                         for x in got))
    proc.send("quit")
    assert proc.proc.wait(timeout=60) == 0
    both = UciProcess("--player", "mcts-material", "--checkpoint", "x.pt")
    assert both.proc.wait(timeout=120) == 2
    assert both.all_stderr() == ["error: --checkpoint is a network: it goes with --player alphazero, not "
                                 "mcts-material"]


# ------------------------------------------------------------------------------------------- in process
def test_parse_go():
    limits, problems = parse_go("wtime 1000 btime 2000 winc 10 binc 20 movestogo 5 nodes 7 depth 3".split())
    assert (limits.wtime, limits.btime, limits.winc, limits.binc, limits.movestogo, limits.nodes, limits.depth) == \
        (1000, 2000, 10, 20, 5, 7, 3) and problems == []
    limits, problems = parse_go("infinite searchmoves e2e4 d2d4 movetime 5".split())
    assert limits.infinite and limits.searchmoves == ["e2e4", "d2d4"] and limits.movetime == 5
    limits, problems = parse_go("nodes x depth 0 movetime -1 wtime -50 warp".split())
    assert limits.nodes is None and limits.depth is None and limits.movetime is None and limits.wtime == -50
    assert len(problems) == 4 and "warp" in problems[-1]
    assert GoLimits().unlimited and not parse_go(["ponder"])[0].unlimited


def test_time_budget():
    assert time_budget(GoLimits(), True, 50) is None
    assert time_budget(GoLimits(movetime=1000), True, 50) == pytest.approx(0.95)
    # sudden death: a 25th of the clock plus most of the increment, less the overhead
    assert time_budget(GoLimits(wtime=60_000, btime=1, winc=1000), True, 50) == pytest.approx(3.10)
    assert time_budget(GoLimits(wtime=1, btime=60_000), False, 0) == pytest.approx(2.4)
    # the last move before the control may use nearly all of it; otherwise never more than half the clock
    assert time_budget(GoLimits(wtime=10_000, movestogo=1), True, 100) == pytest.approx(9.8)
    assert time_budget(GoLimits(wtime=1000, winc=5000), True, 0) == pytest.approx(0.5)
    assert time_budget(GoLimits(wtime=-20), True, 50) == pytest.approx(0.01)  # a lagging GUI: think briefly
    assert time_budget(GoLimits(wtime=60_000, movetime=500), True, 0) == pytest.approx(0.5)


def test_centipawn_scale_is_monotone_and_inverts():
    values = np.linspace(-1, 1, 2001)
    cps = [value_to_cp(v) for v in values]
    assert (np.diff(cps) >= 0).all() and cps[0] == -MAX_CP and cps[-1] == MAX_CP
    assert value_to_cp(0.0) == 0 and value_to_cp(-0.5) == -value_to_cp(0.5)
    assert 95 <= value_to_cp(0.18) <= 100  # about a pawn (Lichess: 100 cp is a 59% expected score)
    for cp in (-1500, -100, 0, 35, 300, 2000):
        assert value_to_cp(cp_to_value(cp)) == cp


# ------------------------------------------------------------------------------------------- issue 24 regressions
def _info_field(line: str, key: str) -> int:
    words = line.split()
    return int(words[words.index(key) + 1])


def test_movetime_in_a_mate_in_one_position_is_kept(engine):
    """go movetime 200 was answered after 1,041 ms in mate-in-1 positions (500: up to 1,089 ms). The bound is the
    engine's own time report, with a margin for a loaded machine (its deadline is 5% and MoveOverhead earlier)."""
    for _ in range(2):
        engine.send("position fen 6k1/5ppp/8/8/8/8/5PPP/3R2K1 w - - 0 1")
        t0 = time.monotonic()
        engine.send("go movetime 500")
        lines = engine.read_until("bestmove", 30)
        wall = time.monotonic() - t0
        last = [x for x in lines if x.startswith("info depth")][-1]
        assert lines[-1].split()[1] == "d1d8" and _info_field(last, "time") <= 500 + 300 and wall < 500 + 3000


def test_a_clock_for_the_other_side_only_bounds_the_move(engine):
    """go wtime 1000 with Black to move and no btime searched 10.2 s (until the tree was full)."""
    engine.send("position startpos moves e2e4")
    t0 = time.monotonic()
    engine.send("go wtime 3000")
    lines = engine.read_until("bestmove", 60)
    assert time.monotonic() - t0 < 3.0  # never the whole clock (the budget is about 70 ms)
    assert "info string no clock for the side to move: using the other side's" in lines


def test_fen_counters_out_of_range_are_one_clear_error(engine):
    before = len(engine.stderr)
    for fen in ("8/8/8/8/8/8/8/K6k w - - 99999999999999999999 1", "8/8/8/8/8/8/8/K6k w - - 0 99999999999999999999"):
        engine.send(f"position fen {fen}")
    engine.ready(30)
    got = engine.stderr_until(before, lambda lines: len(lines) >= 2)
    assert all(x.startswith("error: FEN") and "out of range" in x for x in got[:2]), got
    assert "OverflowError" not in "\n".join(engine.stderr)


def test_uci_show_wdl_adds_wdl_to_scores(engine):
    engine.send("setoption name UCI_ShowWDL value true")
    engine.send("position startpos")
    engine.send("go nodes 20")
    info = [x for x in engine.read_until("bestmove", 30) if x.startswith("info depth")][-1].split()
    w, d, loss = (int(x) for x in info[info.index("wdl") + 1: info.index("wdl") + 4])
    assert w + d + loss == 1000 and min(w, d, loss) >= 0
    engine.send("setoption name UCI_ShowWDL value false")
    engine.send("go nodes 20")
    assert not any(" wdl " in x for x in engine.read_until("bestmove", 30))


def test_json_summary_after_quit():
    import json

    proc = UciProcess("--simulations", "10", "--json")
    proc.ready()
    proc.send("position startpos")
    proc.send("go nodes 5")
    proc.read_until("bestmove", 60)
    proc.send("quit")
    lines = proc.read_until("{", 30)
    summary = json.loads(lines[-1])
    assert summary["searches"] == 1 and summary["commands"] == 4 and summary["errors"] == 0
    assert proc.close() == 0


def test_hash_sets_the_tree_bound_and_threads_is_accepted():
    import io

    import games
    from engine.uci import UciEngine
    from engine.uci.options import NODE_BYTES, wdl

    e = UciEngine(games.make("chess"), lambda values: None, False, 30, out=io.StringIO(), err=io.StringIO(),
                  warm_up=False)
    e.handle("setoption name Hash value 64")
    assert e.values["MaxTreeNodes"] == 64 * 2**20 // NODE_BYTES
    e.handle("setoption name Threads value 1")
    e.handle("setoption name Ponder value true")
    assert e.values["Threads"] == 1 and e.values["Ponder"] is True and "error" not in e.err.getvalue()
    assert wdl(1.0) == (1000, 0, 0) and wdl(-0.5) == (0, 500, 500) and wdl(0.0) == (0, 1000, 0)


def _clock_game(ours, theirs, our_colour, base: float, inc: float, max_plies: int = 400) -> tuple[float, str]:
    """One game on a real clock (``base`` seconds + ``inc`` a move, each side's thinking timed here as a GUI
    would): (the least time our side had left after a move, how the game ended)."""
    board = chess.Board()
    clocks = {chess.WHITE: base, chess.BLACK: base}
    least = base
    while not board.is_game_over(claim_draw=True) and board.ply() < max_plies:
        mover = board.turn
        limit = chess.engine.Limit(white_clock=clocks[chess.WHITE], black_clock=clocks[chess.BLACK],
                                   white_inc=inc, black_inc=inc)
        t0 = time.perf_counter()
        result = (ours if mover == our_colour else theirs).play(board, limit)
        clocks[mover] -= time.perf_counter() - t0
        if clocks[mover] < 0:
            return clocks[mover], f"{'we' if mover == our_colour else 'the opponent'} lost on time"
        clocks[mover] += inc
        if mover == our_colour:
            least = min(least, clocks[mover] - inc)
        board.push(result.move)
    return least, board.result(claim_draw=True)


@pytest.mark.slow
def test_ten_games_on_a_five_second_clock_never_lose_on_time():
    """Issue 22's time test: 10 games at 5 s + 0.1 s a move against Stockfish (its weakest level, on the same
    clock), colours alternating; our engine never runs out of time (and keeps a margin of its own)."""
    import shutil

    stockfish = shutil.which("stockfish") or shutil.which("stockfish", path="/usr/games")
    if stockfish is None:
        pytest.skip("stockfish is not installed (apt-get install stockfish; it lives in /usr/games)")
    ours = chess.engine.SimpleEngine.popen_uci([sys.executable, "-m", "engine.uci", "--seed", "1"], cwd=ROOT,
                                               timeout=START_TIMEOUT)
    theirs = chess.engine.SimpleEngine.popen_uci(stockfish)
    try:
        theirs.configure({"Skill Level": 0})
        for g in range(10):
            least, how = _clock_game(ours, theirs, chess.WHITE if g % 2 == 0 else chess.BLACK, 5.0, 0.1)
            assert "we lost on time" not in how, (g, how)
            assert least > 0.0, (g, least)
    finally:
        ours.quit()
        theirs.quit()


def test_minibatch_size_and_material_mix_set_the_networks_search(tmp_path):
    """With a network, ``MinibatchSize`` (default ``PLAY_LEAVES``) is the leaves per network call of the next
    search and ``MaterialMix`` the percent of its leaf values from the material search; a search with them
    still answers one legal bestmove within its node limit."""
    import io

    import torch

    import agents
    import games
    from agents.alphazero import PLAY_LEAVES
    from engine.uci import UciEngine
    from engine.uci.options import MATERIAL_MIX
    from nets import PolicyValueNet, save_checkpoint

    game = games.make("chess")
    torch.manual_seed(0)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=1, channels=8, value_hidden=16)
    path = save_checkpoint(tmp_path / "tiny.pt", net, metadata={"game": "chess"})
    agent = agents.make(f"alphazero:{path}", game, seed=0)
    out = io.StringIO()
    engine = UciEngine(game, lambda values: agent, True, 30, out=out, err=io.StringIO(), agent=agent,
                       warm_up=False)
    engine.wait_ready()
    engine.handle("uci")
    assert f"option name MinibatchSize type spin default {PLAY_LEAVES} min 1 max 256" in out.getvalue()
    assert f"option name MaterialMix type spin default {MATERIAL_MIX} min 0 max 100" in out.getvalue()
    engine.handle("setoption name MinibatchSize value 8")
    engine.handle("setoption name MaterialMix value 50")
    engine.handle("position startpos moves e2e4")
    engine.handle("go nodes 48")
    engine._search_thread.join(120)
    assert agent.leaves == 8 and agent.search.last_steps < 48 and agent.material_mix == 0.5
    lines = out.getvalue().splitlines()
    info = [x for x in lines if x.startswith("info depth")][-1].split()
    assert int(info[info.index("nodes") + 1]) == 48
    move = [x for x in lines if x.startswith("bestmove")][-1].split()[1]
    board = chess.Board()
    board.push_uci("e2e4")
    assert chess.Move.from_uci(move) in board.legal_moves
    engine.handle("setoption name MinibatchSize value 0")
    assert "MinibatchSize must be from 1 to 256" in out.getvalue()
