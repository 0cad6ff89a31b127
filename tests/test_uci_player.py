"""External UCI engines as players (``agents.make("uci:...")``): our own engine and Stockfish through the
protocol, option checks, dead and silent programs; chess game records and results from the arena."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

import agents
import games
from agents import AgentError
from agents.uci_player import UCIPlayer, _last_info, parse_spec
from engine import arena
from engine.matches import play_game
from tests.uci_helpers import START_TIMEOUT

STOCKFISH = shutil.which("stockfish") or ("/usr/games/stockfish" if Path("/usr/games/stockfish").exists() else None)
needs_stockfish = pytest.mark.skipif(STOCKFISH is None, reason="Stockfish is not installed (apt-get install "
                                     "stockfish puts it in /usr/games)")


@pytest.fixture(scope="module")
def chess():
    return games.make("chess")


class Scripted(agents.Agent):
    """Plays the given moves (SAN or UCI) in order."""

    def __init__(self, game, moves):
        super().__init__(game)
        self.name = "scripted"
        self.moves = list(moves)

    def choose(self, state, progress=None):
        return agents.Decision(self.game.parse_move(state, self.moves.pop(0)))


def test_spec_parsing():
    assert parse_spec("/usr/games/stockfish;Skill Level=0; movetime=100 ;UCI_Elo=1350;timeout=2.5") == (
        "/usr/games/stockfish", {"movetime": 100, "timeout": 2.5}, {"Skill Level": "0", "UCI_Elo": "1350"})
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_spec("sf;Skill Level")
    with pytest.raises(ValueError, match="integer"):
        parse_spec("sf;nodes=many")


def test_info_parsing():
    lines = ["info depth 5 seldepth 7 multipv 1 score cp 31 nodes 900 nps 9000 pv e2e4 e7e5",
             "info depth 5 multipv 2 score cp 10 pv d2d4", "info string hello", "info depth 6 score mate -3 pv a2a3",
             "bestmove a2a3"]
    assert _last_info(lines) == {"depth": 6, "seldepth": 7, "nodes": 900, "nps": 9000, "mate": -3, "pv": ["a2a3"]}


def test_our_engine_as_an_external_player(chess):
    """``engine.uci`` through ``UCIPlayer``: no Stockfish needed to test the player's side of the protocol."""
    player = agents.make(f"uci:{sys.executable} -m engine.uci --simulations 20;nodes=20;timeout={START_TIMEOUT}",
                         chess)
    try:
        assert player.engine_name == "rlengine" and "simulations" in player.declared
        player.set_option("multipv", 2)  # names are case-insensitive
        rnd = agents.make("random", chess, seed=1)
        record = play_game(chess, [player, rnd], max_moves=24)
        assert len(record.actions) == 24 or chess.is_terminal(_replay(chess, record.actions))
        assert all(d.info.get("nodes") == 20 and d.value is not None and -1 <= d.value <= 1
                   for d in record.decisions[::2])
        # the player sends the whole game (repetitions matter), from a set-up position too
        start = chess.from_fen("4k3/8/8/8/8/8/4P3/4K3 w - - 0 1")
        player.reset()
        decision = player.choose(start)
        assert chess.legal_mask(start)[decision.action]
        with pytest.raises(ValueError, match="has no option 'Skill Level'.*Simulations"):
            player.set_option("Skill Level", 3)
    finally:
        player.close()
    assert player.process.poll() is not None


def _replay(game, actions):
    s = game.initial_state()
    for a in actions:
        s = game.apply(s, a)
    return s


def _fake_engine(tmp_path, on_go: str) -> str:
    """A script that speaks enough UCI to start, then misbehaves on go."""
    script = tmp_path / "fake_engine.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        for line in sys.stdin:
            cmd = line.split()[0] if line.split() else ""
            if cmd == "uci":
                print("id name fake"); print("option name Speed type spin default 1 min 1 max 9"); print("uciok")
            elif cmd == "isready":
                print("readyok")
            elif cmd == "go":
                {on_go}
            elif cmd == "quit":
                break
            sys.stdout.flush()
        """))
    return f"{sys.executable} {script}"


@pytest.mark.parametrize("on_go, message", [
    ("sys.stderr.write('out of memory\\n'); sys.stderr.flush(); sys.exit(3)", r"exited with status 3.*out of memory"),
    ("time.sleep(0.1)", r"did not send bestmove after stop"),
    ("print('bestmove e2e5')", r"answered 'bestmove e2e5'.*illegal"),
])
def test_broken_engines_raise_player_errors(chess, tmp_path, on_go, message):
    player = UCIPlayer(chess, _fake_engine(tmp_path, on_go), options={"speed": 3}, movetime=10, timeout=0.5)
    try:
        with pytest.raises(AgentError, match=message):
            player.choose(chess.initial_state())
    finally:
        player.close()


def test_missing_program_and_bad_options(chess, tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot start UCI engine"):
        agents.make(f"uci:{tmp_path / 'no-engine'}", chess)
    with pytest.raises(ValueError, match="no option 'Skil'"):
        UCIPlayer(chess, _fake_engine(tmp_path, "pass"), options={"Skil": 1})
    with pytest.raises(ValueError, match="plays chess|play chess"):
        agents.make("uci:/bin/true", games.make("tictactoe"))


@needs_stockfish
def test_against_stockfish(chess, tmp_path):
    """Our MCTS player against Stockfish at Skill Level 0 through the arena: records are PGN."""
    from games.chess.pgn import read_pgn_file

    out = tmp_path / "games"
    arena.main(["chess", "mcts-material:30", f"uci:{STOCKFISH};Skill Level=0;movetime=20", "--games", "2",
                "--max-moves", "30", "--save", str(out), "--json"])
    files = sorted(out.glob("*.pgn"))
    assert len(files) == 2
    for f in files:
        (record,) = read_pgn_file(f)
        assert record.result in ("1-0", "0-1", "1/2-1/2")
        assert {record.headers["White"], record.headers["Black"]} == {
            "mcts-material:30", f"uci:{STOCKFISH};Skill Level=0;movetime=20"}
        if record.headers["Termination"] == "adjudication":
            assert record.result == "1/2-1/2" and len(record.actions) == 30
    sf = agents.make(f"uci:{STOCKFISH};UCI_LimitStrength=true;UCI_Elo=1350;nodes=500", chess)
    try:
        state = chess.from_fen("6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1")
        decision = sf.choose(state)
        assert chess.format_uci(state, decision.action) == "a1a8" and decision.value == 1.0
    finally:
        sf.close()


# ------------------------------------------------------------------------------------------- records
ENDINGS = [  # start, moves, PGN result, what the game API says, python-chess's termination
    (None, "f3 e5 g4 Qh4#", "0-1", "black wins by checkmate", "CHECKMATE"),
    ("7k/8/6K1/5Q2/8/8/8/8 w - - 0 1", "Qf7", "1/2-1/2", "draw by stalemate", "STALEMATE"),
    ("4k3/8/8/8/8/8/8/R3K3 w - - 99 80", "Ra2", "1/2-1/2", "draw by fifty-move rule", "FIFTY_MOVES"),
    (None, "Nf3 Nf6 Ng1 Ng8 Nf3 Nf6 Ng1 Ng8", "1/2-1/2", "draw by threefold repetition", "THREEFOLD_REPETITION"),
    ("4k3/8/8/8/8/8/3q4/4K3 w - - 0 1", "Kxd2", "1/2-1/2", "draw by insufficient material",
     "INSUFFICIENT_MATERIAL"),
]


@pytest.mark.parametrize("fen, moves, result, description, termination", ENDINGS)
def test_arena_records_of_every_ending(chess, fen, moves, result, description, termination):
    """The arena's game records (PGN) of mate, stalemate, the fifty-move rule, repetition and bare kings: the
    result and its reason agree with python-chess replaying the record."""
    pychess = pytest.importorskip("chess.pgn")
    import io

    import chess as pc

    start = None if fen is None else chess.from_fen(fen)
    sans = moves.split()
    script = Scripted(chess, sans)
    record = play_game(chess, [script, script], start=start)
    final = _replay_from(chess, start, record.actions)
    assert record.reason == "end" and chess.describe_result(final) == description
    text = chess.format_record(record.actions, {"first": "a", "second": "b", "result": record.result,
                                                "ended by": record.reason}, record.start)
    assert f'[Result "{result}"]' in text and text.rstrip().endswith(result)
    game = pychess.read_game(io.StringIO(text))
    board = game.end().board()
    assert game.headers["Result"] == result
    assert board.outcome(claim_draw=True).termination == getattr(pc.Termination, termination)
    assert board.outcome(claim_draw=True).result() == result


def _replay_from(game, start, actions):
    s = game.initial_state() if start is None else start
    for a in actions:
        s = game.apply(s, a)
    return s


def test_arena_max_moves_adjudication_is_a_draw_in_pgn(chess, tmp_path):
    arena.main(["chess", "random", "mcts-material:4", "--games", "2", "--max-moves", "10", "--save", str(tmp_path),
                "--json"])
    texts = [f.read_text() for f in sorted(tmp_path.glob("*.pgn"))]
    assert len(texts) == 2
    for text in texts:
        assert '[Result "1/2-1/2"]' in text and '[Termination "adjudication"]' in text
        assert "5. " in text and "6. " not in text  # 10 plies


def test_arena_reports_a_player_that_fails(chess, tmp_path, capsys):
    from engine.cli import UserError

    with pytest.raises(UserError, match="exited with status 3"):
        arena.main(["chess", "random", "uci:" + _fake_engine(tmp_path, "sys.exit(3)"), "--games", "1",
                    "--save", str(tmp_path / "g")])
