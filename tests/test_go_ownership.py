"""KataGo's auxiliary targets and input features for Go: the final Tromp-Taylor ownership and score margin of
finished games on hand-made boards (territory, dame, seki), and the ``features="kata"`` planes."""

from __future__ import annotations

import numpy as np
import pytest

import games
from games.go import features as kata
from games.go import rules as go_rules

# An eyeless seki: the black pair (b6, b5) and the white pair (d6, d5) share the two liberties c6 and c5; each is
# enclosed by the other colour's living group. c1 is dame between the outer groups; a1, b3 are White's eyes and
# f6-f4, e3, e1 Black's points.
SEKI = """
O X . O X .
O X . O X .
O O O X X .
O . O X . X
O O O X X X
. O . X . X
"""
SEKI_OWNERSHIP = [
    [-1, 1, 0, -1, 1, 1],
    [-1, 1, 0, -1, 1, 1],
    [-1, -1, -1, 1, 1, 1],
    [-1, -1, -1, 1, 1, 1],
    [-1, -1, -1, 1, 1, 1],
    [-1, -1, 0, 1, 1, 1],
]

# A neutral column of dame between a black wall and a white wall with its territory.
DAME = """
X . O . .
X . O . .
X . O . .
X . O . .
X . O . .
"""


def _finished(game, board):
    state = game.state_from_board(board)
    state = game.apply(state, game.pass_action)
    return game.apply(state, game.pass_action)


def test_seki_shared_liberties_and_dame_are_neutral():
    game = games.make("go", size=6, komi=7.5)
    state = _finished(game, SEKI)
    assert game.is_terminal(state)
    own = game.ownership(state)
    assert own.dtype == np.float32 and own.shape == (6, 6)
    np.testing.assert_array_equal(own, np.array(SEKI_OWNERSHIP, np.float32))
    black, white = game.area(state)
    assert (black, white) == (18, 15) and own.sum() == black - white
    assert game.score_margin(state) == 3 - 7.5 == game.score(state)


def test_dame_column_and_territory():
    game = games.make("go", size=5, komi=0.5)
    state = _finished(game, DAME)
    own = game.ownership(state)
    np.testing.assert_array_equal(own[:, 0], 1)
    np.testing.assert_array_equal(own[:, 1], 0)
    np.testing.assert_array_equal(own[:, 2:], -1)
    assert game.score_margin(state) == 5 - 15 - 0.5


def test_score_margin_is_the_one_the_game_ended_with():
    """A finished game keeps the margin of the komi it was played under; an unfinished one is scored as it stands."""
    game = games.make("go", size=5, komi=7.5)
    state = _finished(game, DAME)
    assert game.with_komi(0.5).score_margin(state) == -17.5
    assert game.score_margin(game.state_from_board(DAME)) == -17.5
    empty = game.initial_state()
    np.testing.assert_array_equal(game.ownership(empty), 0)  # one region reaching nobody: neutral


def test_ownership_sums_to_the_area_score_of_random_finished_games():
    game = games.make("go", size=7, komi=6.5)
    rng = np.random.default_rng(5)
    for seed in range(12):
        go_rules.seed_playouts(seed)
        state = game.initial_state()
        go_rules.play_random(game.params, state, 1000)
        assert game.is_terminal(state)
        own = game.ownership(state)
        assert set(np.unique(own)) <= {-1.0, 0.0, 1.0}
        black, white = game.area(state)
        assert own.sum() == black - white
        assert game.score_margin(state) == black - white - 6.5 == game.final_score2(state) / 2
        board = game.board(state)
        np.testing.assert_array_equal(own[board == 1], 1)
        np.testing.assert_array_equal(own[board == 2], -1)
        k = int(rng.integers(1, 8))  # the map follows the board under a symmetry
        np.testing.assert_array_equal(game.ownership(game.transform_state(state, k)), game.transform_planes(own, k))


def test_other_games_have_no_ownership_targets():
    game = games.make("tictactoe")
    assert not game.has_ownership and games.make("go9").has_ownership
    with pytest.raises(NotImplementedError, match="no ownership or score targets"):
        game.ownership(game.initial_state())


# --------------------------------------------------------------------------------------------- input features
KO = """
. X O . .
X O . O .
. X O . .
. . . . .
. . . . .
"""


def test_kata_features_on_a_ko():
    game = games.make("go", size=5, komi=7.5, features="kata")
    assert game.plane_shape == (22, 5, 5) and game.describe()["features"] == "kata"
    state = game.play_moves("C4", game.state_from_board(KO))  # Black takes the ko at b4
    planes = game.encode(state)
    basic = games.make("go", size=5, komi=7.5)
    np.testing.assert_array_equal(planes[:17], basic.encode(state))
    ko = np.zeros((5, 5), np.float32)
    ko[1, 1] = 1
    np.testing.assert_array_equal(planes[kata.KO_PLANE], ko)
    np.testing.assert_array_equal(planes[kata.KOMI_PLANE], 7.5 / 20)  # White to move: +komi
    libs = planes[kata.LIB1] + 2 * planes[kata.LIB2] + 3 * planes[kata.LIB3]
    expected = np.array([
        [0, 2, 1, 0, 0],   # b5: a5, b4 (after the capture); c5: d5
        [3, 0, 1, 3, 0],   # a4: a5, b4, a3; c4: b4; d4: d5, e4, d3
        [0, 3, 2, 0, 0],   # b3: a3, b4, b2; c3: d3, c2
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0]], np.float32)
    np.testing.assert_array_equal(libs, expected)
    black = game.play_moves("A1", state)
    np.testing.assert_array_equal(game.encode(black)[kata.KOMI_PLANE], -7.5 / 20)
    assert game.encode(black)[kata.KO_PLANE].sum() == 0


def test_kata_features_are_an_option_and_checked():
    assert games.make("go9").plane_shape == (17, 9, 9)
    with pytest.raises(ValueError, match="features must be one of basic, kata"):
        games.make("go9", features="extra")


def test_dead_stones_from_an_ownership_estimate():
    game = games.make("go", size=5)
    state = game.state_from_board(DAME)
    estimate = np.full((5, 5), -0.9, np.float32)  # White owns everything: the black wall is dead
    estimate[0, 0] = 0.2                            # ... except a5, still Black's
    dead = game.dead_stones(state, estimate)
    assert [game.format_move(state, p) for p in dead] == ["A4", "A3", "A2", "A1"]
    assert game.dead_stones(state, game.ownership(state)) == []
    with pytest.raises(ValueError, match="differ in shape"):
        game.dead_stones(state, np.zeros((4, 4)))


def test_ownership_leaves_the_state_as_it_was_and_takes_a_read_only_one():
    go = games.make("go", size=5)
    state = go.initial_state()
    for move in ("c3", "b2", "d4"):
        state = go.apply(state, go.parse_move(state, move))
    before = state.copy()
    state.flags.writeable = False
    own = go.ownership(state)
    assert np.array_equal(state, before) and own.shape == (5, 5)
    assert own.sum() == go.ownership(before).sum() and set(np.unique(own)) <= {-1.0, 0.0, 1.0}
