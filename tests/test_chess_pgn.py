"""PGN export (Seven Tag Roster, SAN movetext, results, set-up positions) and import (comments, NAGs,
variations, several games, bad input), checked against python-chess where it is installed."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest

import games
from games.chess.pgn import PgnError, read_pgn, read_pgn_file, write_pgn


@pytest.fixture(scope="module")
def chess():
    return games.make("chess")


def actions_of(chess, moves, state=None):
    state = chess.initial_state() if state is None else state
    out = []
    for text in moves.split():
        a = chess.parse_move(state, text)
        out.append(a)
        state = chess.apply(state, a)
    return out


def test_export_seven_tag_roster_and_movetext(chess):
    text = write_pgn(chess, actions_of(chess, "e4 e5 Nf3 Nc6 Bb5 a6"),
                     headers={"White": "Alpha", "Black": 'Beta "B"', "Date": "2024.01.02", "Annotator": "x"})
    lines = text.splitlines()
    assert lines[:8] == ['[Event "?"]', '[Site "?"]', '[Date "2024.01.02"]', '[Round "?"]', '[White "Alpha"]',
                         '[Black "Beta \\"B\\""]', '[Result "*"]', '[Annotator "x"]']
    assert lines[8] == "" and lines[9] == "1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 *"


def test_export_results_and_setup(chess):
    text = write_pgn(chess, actions_of(chess, "e4 e5 Qh5 Nc6 Bc4 Nf6 Qxf7#"))
    assert '[Result "1-0"]' in text and text.rstrip().endswith("4. Qxf7# 1-0")
    draw = write_pgn(chess, actions_of(chess, "Nf3 Nf6 Ng1 Ng8 Nf3 Nf6 Ng1 Ng8"))
    assert " ".join(draw.split()).endswith("4. Ng1 Ng8 {Draw by threefold repetition} 1/2-1/2")
    start = chess.from_fen("4k3/8/8/8/8/8/4P3/4K3 b - - 3 40")
    text = write_pgn(chess, actions_of(chess, "Kd7 e4", start), start=start, result="1/2-1/2")
    assert '[SetUp "1"]' in text and '[FEN "4k3/8/8/8/8/8/4P3/4K3 b - - 3 40"]' in text
    assert text.rstrip().endswith("40... Kd7 41. e4 1/2-1/2")
    with pytest.raises(PgnError, match="result"):
        write_pgn(chess, [], result="2-0")
    with pytest.raises(PgnError, match="cannot export move 2"):
        write_pgn(chess, [chess.parse_move(chess.initial_state(), "e4"), 0])


def test_round_trip_of_a_long_game(chess):
    rng = np.random.default_rng(0)
    state, actions = chess.initial_state(), []
    while not chess.is_terminal(state) and len(actions) < 300:
        a = int(rng.choice(chess.legal_actions(state)))
        actions.append(a)
        state = chess.apply(state, a)
    text = write_pgn(chess, actions, headers={"Event": "random"})
    assert max(len(line) for line in text.splitlines()) <= 80
    (record,) = read_pgn(text)
    assert record.actions == actions and record.headers["Event"] == "random"
    assert record.result == chess.result_string(state)
    np.testing.assert_array_equal(record.final, state)
    assert len(record.states(chess)) == len(actions) + 1


MESSY = """\ufeff% an escape line that is skipped
[Event "Casual"]
[White "A"]
[Black "B"]
[Result "1-0"]

1.e4 {the king's pawn, a comment
over two lines} e5 $1 2. Nf3!? (2. f4 exf4 (2... d5) 3. Nf3) Nc6 ; rest of line
3. Bc4 Nf6?? 4. Ng5 d5 5. exd5 Nxd5 6. Nxf7 Kxf7 7. Qf3+ Ke6 8. Nc3 Nb4 9. Qe4 c6 10. a3 Na6
11. d4 Nc7 12. Bf4 Kf7 13. Bxe5 Be6 14. Bxd5 Bxd5 15. Nxd5 Nxd5 16. Qf5+ Ke8 17. Qe6+ Be7 18. Qxd5 1-0

[Event "Second"]
[SetUp "1"]
[FEN "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1"]

1. e4 Kd7 2. e5 *

1. d4 d5 2. c4 1/2-1/2
"""


def test_import_skips_comments_nags_and_variations(chess):
    first, second, third = read_pgn(MESSY)
    assert first.headers == {"Event": "Casual", "White": "A", "Black": "B", "Result": "1-0"}
    assert first.sans[:6] == ["e4", "e5", "Nf3", "Nc6", "Bc4", "Nf6"] and len(first.actions) == 35
    assert first.sans[-1] == "Qxd5" and first.result == "1-0"
    assert chess.to_fen(second.start) == "4k3/8/8/8/8/8/4P3/4K3 w - - 0 1" and second.sans == ["e4", "Kd7", "e5"]
    assert second.result == "*" and third.headers == {} and third.result == "1/2-1/2" and len(third.actions) == 3


def test_import_of_python_chess_games(chess):
    pgn = pytest.importorskip("chess.pgn")
    rng = random.Random(1)
    for _ in range(5):
        game = pgn.Game()
        node, board = game, game.board()
        for _ in range(rng.randrange(10, 120)):
            moves = list(board.legal_moves)
            if not moves:
                break
            move = rng.choice(moves)
            comment, nags = ("c" if rng.random() < 0.2 else ""), ({1} if rng.random() < 0.1 else ())
            node = node.add_variation(move, comment=comment, nags=nags)
            board.push(move)
        game.headers["Result"] = board.result(claim_draw=True)
        (record,) = read_pgn(str(game))
        states = record.states(chess)[:-1]
        assert [chess.format_uci(s, a) for s, a in zip(states, record.actions, strict=True)] == [
            m.uci() for m in board.move_stack]
        assert chess.to_fen(record.final) == board.fen()
        # and python-chess reads what we write
        back = pgn.read_game(io.StringIO(write_pgn(chess, record.actions)))
        assert [m.uci() for m in back.mainline_moves()] == [m.uci() for m in board.move_stack]


@pytest.mark.parametrize("text, message", [
    ('[Event "x"]\n\n1. e4 e5 2. Nf6 *', r"game 1 \(line 1\), line 3, move 2. Nf6: .*no white knight can move to f6"),
    ("1. e4 e5 *\n\n1. e4 e5 2. Ke2 Ke7 3. Kd4 *",
     r"game 2 \(line 3\), line 3, move 3. Kd4: .*no white king can move to d4"),
    ("1. e4 {unclosed comment", r"comment '\{' is never closed"),
    ("1. e4 (1. d4 d5 *", r"a '\(' is never closed"),
    ("1. e4 ) e5 *", r"'\)' closes no variation"),
    ('[Event "x]\n1. e4 *', "malformed tag"),
    ('[FEN "8/8/8 w - - 0 1"]\n\n1. e4 *', "FEN tag: .*3 ranks"),
    ('[Result "2-0"]\n\n1. e4', "Result tag '2-0'"),
    ("1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# Ke7 1-0",
     r"move 4... Ke7: move Ke7 after the game is over \(checkmate\)"),
])
def test_bad_pgn_names_game_line_and_move(text, message):
    with pytest.raises(PgnError, match=message):
        read_pgn(text)


def test_read_pgn_file(tmp_path):
    path = tmp_path / "games.pgn"
    path.write_text(MESSY, encoding="utf-8")
    assert len(read_pgn_file(path)) == 3
    assert read_pgn("") == [] and read_pgn("  \n% only an escape\n") == []
    with pytest.raises(PgnError, match="cannot read PGN file"):
        read_pgn_file(tmp_path / "missing.pgn")
    path.write_text("1. e4 e5 2. Ke3 *")
    with pytest.raises(PgnError, match=r"games.pgn: PGN game 1 .* move 2. Ke3"):
        read_pgn_file(path)


def test_arena_records_are_pgn(chess, tmp_path):
    """``format_record`` (what ``engine.arena --save`` writes) maps the generic tags to PGN ones."""
    actions = actions_of(chess, "e4 e5 Nf3")
    text = chess.format_record(actions, {"first": "mcts:200", "second": "random", "result": -1, "ended by": "resign"})
    assert chess.record_extension == ".pgn"
    (record,) = read_pgn(text)
    assert record.headers["White"] == "mcts:200" and record.headers["Black"] == "random"
    assert record.result == "0-1" and record.headers["Termination"] == "normal" and record.actions == actions
