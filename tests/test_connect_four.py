"""Connect Four rules: the OEIS counts per ply, wins in every direction, Pons' notation, bad input."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import games
from agents.minimax import Solver
from engine.perft import perft, perft_stats
from games import IllegalMove

from .conftest import shared_file


@pytest.fixture(scope="module")
def c4():
    return games.make("connect4")


def test_counts_per_ply_match_reference(c4):
    rows = list(csv.DictReader(shared_file("connect4", "c4_counts.csv").open()))
    depth = max(int(r["ply"]) for r in rows)
    _, _, _, _, per_ply, distinct, _ = perft_stats(c4.rules, c4.params, c4.initial_state(), depth, 7)
    for r in rows:
        ply = int(r["ply"])
        assert per_ply[ply] == int(r["perft"]), f"perft at ply {ply}"
        assert distinct[ply] == int(r["distinct_positions"]), f"distinct positions at ply {ply}"


def test_perft_8(c4):
    assert perft(c4.rules, c4.params, c4.initial_state(), 8, 7) == 5_673_234


@pytest.mark.parametrize("moves, winner", [
    ("1212121", 1),           # vertical
    ("1122334", 1),           # horizontal
    ("12234334544", 1),       # rising diagonal
    ("76654554344", 1),       # falling diagonal (the mirror image)
    ("12123232", -1),         # second player, vertical in column 2
    ("1122337", 0),           # not over yet: nobody has four
])
def test_wins_in_every_direction(c4, moves, winner):
    s = c4.parse_position(moves)
    if winner == 0:
        assert not c4.is_terminal(s)
        return
    assert c4.is_terminal(s) and c4.result(s) == winner
    assert not c4.is_terminal(c4.parse_position(moves[:-1]))


def test_draw_on_a_full_board(c4):
    cols = [1, 2, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 4, 3,
            5, 6, 5, 6, 5, 6, 6, 5, 6, 5, 6, 5, 7, 7, 7, 7, 7, 7]
    s = c4.parse_position("".join(map(str, cols)))
    assert c4.is_terminal(s) and c4.result(s) == 0
    assert not c4.legal_mask(s).any()


def test_pons_positions_parse(c4):
    path = shared_file("connect4", "Test_L3_R1")
    for line in path.read_text().splitlines()[:50]:
        moves, score = line.split()
        s = c4.parse_position(moves)
        assert c4.moves_played(s) == len(moves)
        assert not c4.is_terminal(s)
        assert c4.to_play(s) == len(moves) % 2


def test_bad_input_names_the_move(c4):
    full = c4.parse_position("444444")
    with pytest.raises(IllegalMove, match="column 4 is full"):
        c4.parse_move(full, "4")
    for text in ("0", "8", "x", "4.5", ""):
        with pytest.raises(IllegalMove, match="not a column"):
            c4.parse_move(full, text)
    with pytest.raises(IllegalMove, match="move 7 .*full"):
        c4.parse_position("4444444")
    with pytest.raises(IllegalMove, match="not a Connect Four position"):
        c4.parse_position("44a")


def test_other_sizes():
    g = games.make("connect4", width=4, height=4)
    assert g.num_actions == 4 and g.plane_shape == (3, 4, 4)
    assert Solver(g).value(g.initial_state()) == 0  # 4x4 is a draw with perfect play
    big = games.make("connect4", width=12, height=10)
    s = big.parse_position("12 1 12 1 12 1 12")
    assert big.result(s) == 1
    assert big.parse_move(big.initial_state(), "11") == 10  # columns beyond 9 are written as numbers


def test_exact_hash_is_a_position_key(c4):
    """Two move orders reaching the same position share the key; different positions differ."""
    a, b = c4.parse_position("4453"), c4.parse_position("5344")
    assert c4.state_hash(a) == c4.state_hash(b)
    assert c4.state_hash(a) != c4.state_hash(c4.parse_position("4435"))
    assert np.array_equal(c4.encode(a), c4.encode(b))
