"""Differential tests against python-chess (a test-only dependency): over random games, the legal move sets,
FEN, SAN (written and read), UCI, game-end detection and results agree ply by ply; positions imported from
FEN agree; the encoding is colour-symmetric (a mirrored position gives the same planes and actions)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

import games
from games.chess import notation

pychess = pytest.importorskip("chess")


@pytest.fixture(scope="module")
def game():
    return games.make("chess")


def python_chess_end(board) -> str | None:
    """The game end python-chess sees, with the draws a player may claim (fifty moves, threefold) automatic."""
    if board.is_checkmate():
        return "checkmate"
    if board.is_stalemate():
        return "stalemate"
    if board.is_insufficient_material():
        return "insufficient material"
    if board.is_fifty_moves():
        return "fifty-move rule"
    if board.is_repetition(3):
        return "threefold repetition"
    return None


def compare(game, board, state, rng, san_fraction: float) -> str | None:
    """Assert our view of the position equals python-chess's; returns the game end (or None)."""
    fen = board.fen()
    assert game.to_fen(state) == fen
    legal = notation.legal_move_list(game.params, state)
    assert sorted(notation.uci_of(m) for m in legal) == sorted(m.uci() for m in board.legal_moves), fen
    if rng.random() < san_fraction:
        for m in legal:
            assert notation.san_of(game.params, state, m, legal) == board.san(pychess.Move.from_uci(notation.uci_of(m)))
    end = python_chess_end(board)
    assert game.is_check(state) == board.is_check(), fen
    assert game.is_terminal(state) == (end is not None), fen
    if end is not None:
        assert game.termination(state) == end, fen
        expected = 0 if end != "checkmate" else (1 if board.turn == pychess.BLACK else -1)
        assert game.result(state) == expected
    return end


def play(game, seed: int, n_games: int, reverse_bias: float, san_fraction: float) -> tuple[int, Counter]:
    """Random games; with probability ``reverse_bias`` a side moves its last-moved piece back (repetitions)."""
    rng = random.Random(seed)
    plies, ends = 0, Counter()
    for _ in range(n_games):
        board, state = pychess.Board(), game.initial_state()
        while True:
            end = compare(game, board, state, rng, san_fraction)
            if end is not None:
                ends[end] += 1
                break
            moves = list(board.legal_moves)
            move = None
            if len(board.move_stack) >= 2 and rng.random() < reverse_bias:
                back = board.move_stack[-2]
                if pychess.Move(back.to_square, back.from_square) in moves:
                    move = pychess.Move(back.to_square, back.from_square)
            move = move or rng.choice(moves)
            action = game.parse_move(state, move.uci())
            assert game.format_uci(state, action) == move.uci()
            san = board.san(move)
            assert game.parse_move(state, san) == action, (board.fen(), san)
            state = game.apply(state, action)
            board.push(move)
            plies += 1
    return plies, ends


def test_random_games_agree(game):
    plies, ends = play(game, seed=8, n_games=10, reverse_bias=0.1, san_fraction=0.2)
    assert plies > 3000
    # every way a game ends was met (a fixed seed chosen for that)
    assert set(ends) == {"checkmate", "stalemate", "insufficient material", "fifty-move rule",
                         "threefold repetition"}, ends


@pytest.mark.slow
def test_many_random_games_agree(game):
    plies, ends = play(game, seed=3, n_games=150, reverse_bias=0.1, san_fraction=1.0)
    assert plies > 30_000 and len(ends) == 5


def random_positions(n: int, seed: int):
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        board = pychess.Board()
        for _ in range(rng.randrange(1, 120)):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        out.append(board)
    return out


def pychess_perft(board, depth: int) -> int:
    if depth == 1:
        return board.legal_moves.count()
    total = 0
    for m in board.legal_moves:
        board.push(m)
        total += pychess_perft(board, depth - 1)
        board.pop()
    return total


def test_fen_import_agrees(game):
    for board in random_positions(60, seed=4):
        fen = board.fen()
        state = game.from_fen(fen)
        assert game.to_fen(state) == fen
        assert set(game.legal_uci(state)) <= {m.uci() for m in board.legal_moves}
        assert sorted(notation.uci_of(m) for m in notation.legal_move_list(game.params, state)) == sorted(
            m.uci() for m in board.legal_moves)
        assert game.perft(state, 2) == pychess_perft(board, 2), fen
        # en passant: python-chess writes the square only when a capture is legal; so do we
        assert (fen.split()[3] != "-") == board.has_legal_en_passant()


def test_mirrored_positions_encode_alike(game):
    """Colour symmetry of the encoding: a position and its colour-mirror (python-chess ``mirror``) give the same
    planes (but the colour and move-count planes) and the same legal actions, move by move, history included."""
    rng = random.Random(5)
    for _ in range(6):
        board = pychess.Board()
        mirror = board.mirror()
        s, t = game.initial_state(), game.from_fen(mirror.fen())
        for _ in range(60):
            np.testing.assert_array_equal(game.legal_mask(s), game.legal_mask(t))
            x, y = game.encode(s), game.encode(t)
            keep = [i for i in range(x.shape[0]) if i not in (112, 113)]
            np.testing.assert_array_equal(x[keep], y[keep])
            assert game.is_terminal(s) == game.is_terminal(t)
            if game.is_terminal(s):
                assert game.result(s) == -game.result(t)
                break
            move = rng.choice(list(board.legal_moves))
            flipped = pychess.Move(pychess.square_mirror(move.from_square), pychess.square_mirror(move.to_square),
                                   move.promotion)
            a = game.parse_move(s, move.uci())
            assert game.parse_move(t, flipped.uci()) == a
            s, t = game.apply(s, a), game.apply(t, a)
            board.push(move)
            mirror.push(flipped)
