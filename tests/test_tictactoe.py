"""Tic-tac-toe rules against the published counts of its game tree, and its exact value."""

from __future__ import annotations

import pytest

import games
from agents.minimax import Solver
from engine.perft import perft, perft_stats
from games import IllegalMove


@pytest.fixture(scope="module")
def ttt():
    return games.make("tictactoe")


def test_whole_game_tree_counts(ttt):
    leaves, x_wins, draws, o_wins, per_ply, distinct, terminal = perft_stats(
        ttt.rules, ttt.params, ttt.initial_state(), 9, ttt.num_actions)
    assert leaves == 255_168  # possible games
    assert (x_wins, o_wins, draws) == (131_184, 77_904, 46_080)
    assert distinct.sum() == 5_478  # distinct positions (legal boards reachable in play)
    assert terminal == 958
    assert list(per_ply) == [1, 9, 72, 504, 3024, 15120, 54720, 148176, 200448, 127872]
    assert perft(ttt.rules, ttt.params, ttt.initial_state(), 9, 9) == 127_872  # games lasting all nine moves


def test_minimax_value_is_a_draw(ttt):
    solver = Solver(ttt)
    assert solver.value(ttt.initial_state()) == 0
    assert all(v == 0 for v in solver.action_values(ttt.initial_state()))


def test_win_lines_and_draw(ttt):
    for moves, result in [("a1 a2 b1 b2 c1", 1), ("a1 a2 b1 b2 c3 c2", -1), ("a3 b1 b2 c3 c1", 1),
                          ("c1 a1 b2 a2 a3", 1), ("b2 a1 a2 c2 b1 b3 c1 a3 c3", 0)]:
        s = ttt.play_moves(moves)
        assert ttt.is_terminal(s) and ttt.result(s) == result, moves


def test_render_and_notation(ttt):
    s = ttt.play_moves("b2 a1")
    assert ttt.render(s).splitlines() == ["3 . . .", "2 . X .", "1 O . .", "  a b c"]
    assert ttt.parse_move(s, "C3") == 2 and ttt.format_move(s, 6) == "a1"


@pytest.mark.parametrize("text, why", [("b2", "occupied"), ("d1", "not a tic-tac-toe square"),
                                        ("a4", "not a tic-tac-toe square"), ("xx", "not a")])
def test_bad_moves_name_the_move(ttt, text, why):
    s = ttt.play_moves("b2")
    with pytest.raises(IllegalMove, match=why) as info:
        ttt.parse_move(s, text)
    assert text in str(info.value)


def test_moves_after_the_end(ttt):
    s = ttt.play_moves("a1 a2 b1 b2 c1")
    with pytest.raises(IllegalMove, match="over"):
        ttt.parse_move(s, "c3")
    with pytest.raises(IllegalMove, match="move 6"):
        ttt.play_moves("a1 a2 b1 b2 c1 c3")
