"""Go beyond the rules cases: coordinates, move errors, AlphaGo Zero planes, positions, endings, symmetries
with superko, hashes and random playouts."""

from __future__ import annotations

import numpy as np
import pytest

import games
from games import IllegalMove
from games.go import coords, random_playout, random_playouts, rules

KO_BOARD = [  # Black captures at A9 (see minigo/ko_delayed_retake), White may not retake at B9 at once
    ".OX......",
    "OX.......",
    ".........",
    ".........",
    ".........",
    ".........",
    ".........",
    ".........",
    ".........",
]


@pytest.fixture(scope="module")
def go9():
    return games.make("go", size=9, komi=7.5)


# ------------------------------------------------------------------------------ coordinates
def test_coordinate_table_9x9():
    rows = {a: (rc, gtp, sgf) for a, rc, gtp, sgf in coords.table(9)}
    assert rows[0] == ((0, 0), "A9", "aa")
    assert rows[8] == ((0, 8), "J9", "ia")
    assert rows[40] == ((4, 4), "E5", "ee")
    assert rows[72] == ((8, 0), "A1", "ai")
    assert rows[80] == ((8, 8), "J1", "ii")
    assert rows[81] == (None, "pass", "")


@pytest.mark.parametrize("size", [5, 9, 13, 19])
def test_coordinates_round_trip(size):
    for a, _, gtp, sgf in coords.table(size):
        assert coords.from_gtp(gtp, size) == a
        assert coords.parse_point(gtp.lower(), size) == a
        if a < size * size:
            assert coords.from_sgf(sgf, size) == a
            assert coords.parse_point(sgf.upper(), size) == a
    assert "I" not in "".join(g for _, _, g, _ in coords.table(size))


def test_coordinate_errors():
    assert coords.from_gtp("T19", 19) == 18
    assert coords.from_sgf("tt", 19) == 361 and coords.from_sgf("", 9) == 81
    for text, message in [("I5", "skip the letter I"), ("K5", "off the 9x9 board"), ("A10", "off the 9x9"),
                          ("A0", "off the 9x9"), ("jj", "off the 9x9"), ("tt", "off the 9x9"),
                          ("D 4", "not a Go move"), ("resign", "not a Go move"), ("4D", "not a Go move")]:
        with pytest.raises(IllegalMove, match=message):
            coords.parse_point(text, 9)


def test_parse_move_names_the_reason(go9):
    s = go9.play_moves("D4")
    with pytest.raises(IllegalMove, match="D4 is illegal: the point is occupied"):
        go9.parse_move(s, "d4")
    suicide = go9.state_from_board([".O......."] + ["O........"] + ["........."] * 7)
    with pytest.raises(IllegalMove, match="A9 is illegal: suicide"):
        go9.parse_move(suicide, "A9")
    s = go9.state_from_board(KO_BOARD)
    s = go9.apply(s, go9.parse_move(s, "A9"))
    with pytest.raises(IllegalMove, match="B9 is illegal: superko"):
        go9.parse_move(s, "B9")
    simple = games.make("go", size=9, ko_rule="simple")
    t = simple.apply(simple.state_from_board(KO_BOARD), simple.point("A9"))
    with pytest.raises(IllegalMove, match="B9 is illegal: ko"):
        simple.parse_move(t, "B9")
    over = go9.play_moves("pass pass")
    with pytest.raises(IllegalMove, match="after the game is over"):
        go9.parse_move(over, "E5")
    with pytest.raises(IllegalMove, match="off the 9x9 board"):
        go9.parse_move(go9.initial_state(), "T19")
    assert go9.parse_move(go9.initial_state(), " PASS ") == 81


def test_game_options_are_checked():
    for kwargs, message in [({"size": 4}, "size"), ({"size": 20}, "size"), ({"komi": 6.3}, "multiple of 0.5"),
                            ({"komi": "x"}, "number"), ({"ko_rule": "japanese"}, "ko_rule"),
                            ({"max_moves": 0}, "max_moves")]:
        with pytest.raises(ValueError, match=message):
            games.make("go", **kwargs)
    assert games.make("go19").size == 19 and games.make("go_13").size == 13 and games.make("GO-9").size == 9
    assert games.make("go19").dirichlet_alpha == pytest.approx(0.03)
    assert games.make("go").num_actions == 82 and games.make("go").plane_shape == (17, 9, 9)


# ------------------------------------------------------------------------------ planes
def test_planes_hold_the_last_eight_positions(go9):
    moves = "E5 D5 E4 D4 E3 D3 F5 C5 pass F4 G5".split()
    boards, s = [], go9.initial_state()
    boards.append(go9.board(s))
    for m in moves:
        s = go9.apply(s, go9.parse_move(s, m))
        boards.append(go9.board(s))
    planes = go9.encode(s)
    mover = go9.to_play(s) + 1
    assert mover == 2  # 11 moves played: White to move
    for k in range(8):
        b = boards[-1 - k]
        np.testing.assert_array_equal(planes[k], b == mover, err_msg=f"mover's stones {k} plies ago")
        np.testing.assert_array_equal(planes[8 + k], b == 3 - mover, err_msg=f"opponent's stones {k} ago")
    assert (planes[16] == 0).all()  # White to move
    early = go9.encode(go9.play_moves("E5 D5"))
    assert early[0].sum() == 1 and early[8].sum() == 1 and early[1].sum() == 1 and early[9].sum() == 0
    assert (early[2:8] == 0).all() and (early[10:16] == 0).all() and (early[16] == 1).all()


def test_captures_leave_the_history_planes(go9):
    s = go9.state_from_board(KO_BOARD)
    s = go9.apply(s, go9.point("A9"))  # Black captures B9
    planes = go9.encode(s)  # White to move: planes 0..7 are White's stones
    assert planes[0, 0, 1] == 0 and planes[1, 0, 1] == 1  # the white stone at B9: gone now, there before
    assert planes[8, 0, 0] == 1 and planes[9, 0, 0] == 0  # Black's A9: new


# ------------------------------------------------------------------------------ positions and endings
def test_setup_position_handicap(go9):
    s = go9.setup_state(black=["C3", "G7"], white=[], to_play="W")
    assert go9.to_play(s) == 1 and go9.first_player(s) == 1
    assert go9.board_rows(s)[6][2] == "X" and go9.board_rows(s)[2][6] == "X"
    assert go9.encode(s)[16].sum() == 0
    s = go9.apply(s, go9.parse_move(s, "E5"))
    assert go9.board_rows(s)[4][4] == "O" and go9.to_play(s) == 0
    with pytest.raises(ValueError, match="given twice"):
        go9.setup_state(black=["C3"], white=["c3"])
    with pytest.raises(ValueError, match="9 rows of 9 points"):
        go9.state_from_board(["...", "..."])
    with pytest.raises(ValueError, match="use X"):
        go9.state_from_board(["Z" * 9] * 9)


def test_two_passes_end_and_score(go9):
    s = go9.play_moves("E5 pass")
    assert not go9.is_terminal(s) and go9.passes(s) == 1
    s = go9.apply(s, 81)
    assert go9.is_terminal(s) and go9.score(s) == 81 - 7.5
    assert go9.result(s) == 1 and go9.result_string(s) == "B+73.5"
    assert go9.describe_result(s) == "Black wins (B+73.5)"
    assert not go9.legal_mask(s).any()
    even = games.make("go", size=5, komi=0)
    t = even.play_moves("C3 C4 pass pass")
    assert even.score(t) == 0 and even.result(t) == 0 and even.result_string(t) == "0"
    assert go9.with_komi(-80).score(s) == 161


def test_maximum_length_ends_the_game():
    g = games.make("go", size=5, komi=0.5, max_moves=6)
    s = g.play_moves("A1 E5 A2 E4 A3 E3")
    assert g.is_terminal(s) and g.moves_played(s) == 6
    assert g.score(s) == g.area_score(s) - 0.5 and g.result(s) == (1 if g.area_score(s) > 0 else -1)


def test_place_and_force_move(go9):
    s = go9.state_from_board([".O......."] + ["O........"] + ["........."] * 7)
    t = go9.place(s, "A9", "B")  # self-capture removes the own stone
    assert go9.board_rows(t)[0][0] == "." and go9.to_play(t) == 0
    with pytest.raises(IllegalMove, match="occupied"):
        go9.place(s, "B9", "W")
    u = go9.force_move(s, "A9")  # a suicide recorded as a move: the stone is removed, White to play
    assert go9.board_rows(u)[0][0] == "." and go9.to_play(u) == 1 and go9.moves_played(u) == 1
    assert rules.check_groups(go9.params, u)


def test_territory_estimate():
    g = games.make("go", size=9, komi=0)
    s = g.state_from_board(["..X.O...."] * 3 + ["XXX.OOOOO"] + ["........."] * 5)
    own = g.territory(s)
    assert (own[:3, :2] == 1).all() and (own[:3, 5:] == -1).all()
    assert own[0, 3] == 0  # the gap between the walls is neutral
    assert "x" in g.render(s, territory=True) and "o" in g.render(s, territory=True)


# ------------------------------------------------------------------------------ symmetry and hashes
@pytest.mark.parametrize("k", range(8))
def test_symmetry_keeps_superko_bans(go9, k):
    """The retake is banned by the hashes of earlier boards; a transformed state keeps every ban."""
    s = go9.apply(go9.state_from_board(KO_BOARD), go9.point("A9"))
    retake = go9.point("B9")
    onehot = np.zeros(go9.num_actions)
    onehot[retake] = 1
    t_retake = int(np.argmax(go9.transform_policy(onehot, k)))
    t = go9.transform_state(s, k)
    np.testing.assert_array_equal(go9.legal_mask(t), go9.transform_policy(go9.legal_mask(s), k))
    assert go9.move_status(t, t_retake).startswith("superko")
    # after a pass each the ko point is gone: only the hash history still forbids the retake
    late = go9.play_moves("pass pass", s)
    assert go9.ko_point(late) is None and go9.move_status(late, retake, "W").startswith("superko")
    t_late = go9.transform_state(late, k)
    assert go9.move_status(t_late, t_retake, "W").startswith("superko")
    np.testing.assert_array_equal(go9.hash_history(t_late), go9.hash_history(late))
    assert rules.check_groups(go9.params, t_late)
    inverse = int(np.flatnonzero(rules.compose_frames(9)[:, k] == 0)[0])
    back = go9.transform_state(t_late, inverse)
    assert go9.state_hash(back) == go9.state_hash(late)
    np.testing.assert_array_equal(go9.encode(back), go9.encode(late))
    assert go9.board_rows(back) == go9.board_rows(late)


def test_state_hash_identifies_what_the_network_sees(go9):
    a = go9.play_moves("E5 D4 C3")
    b = go9.play_moves("E5 D4 C3")
    assert go9.state_hash(a) == go9.state_hash(b)
    assert go9.state_hash(go9.apply(a, 81)) != go9.state_hash(a)
    c = go9.play_moves("C3 D4 E5")  # same board, other history: other planes
    assert go9.board_rows(c) == go9.board_rows(a) and go9.state_hash(c) != go9.state_hash(a)
    assert go9.state_hash(go9.transform_state(a, 1)) != go9.state_hash(a)


def test_hash_history_records_every_board(go9):
    s = go9.play_moves("E5 pass D4")
    h = go9.hash_history(s)
    assert len(h) == 4 and h[0] == 0 and h[1] == h[2] and len(set(h.tolist())) == 3
    assert h[-1] == rules.board_hash(go9.params, s)


# ------------------------------------------------------------------------------ playouts
@pytest.mark.parametrize("size", [5, 9, 19])
def test_random_playouts_end_legally(size):
    g = games.make("go", size=size)
    for seed in range(5):
        np.random.seed(seed)
        s = g.initial_state()
        r = random_playout(g.params, s)
        assert g.is_terminal(s) and r == g.result(s)
        assert rules.check_groups(g.params, s)
        assert np.sign(g.score(s)) == r
    wins_b, wins_w, draws, moves = random_playouts(g.params, g.initial_state(), 20)
    assert wins_b + wins_w + draws == 20 and moves > 20 * size


def test_playout_leaves_no_legal_non_eye_move():
    """Two passes end a playout only when neither side has a legal move outside its own eyes."""
    g = games.make("go", size=7, max_moves=490)
    s = g.initial_state()
    random_playout(g.params, s)
    assert g.passes(s) == 2
    board = g.board(s).ravel()
    for colour in (0, 1):
        for p in np.flatnonzero(board == 0):
            ok = g.move_status(s, int(p), colour) is None
            assert not ok or rules.is_own_eye(g.params, s[g.params[rules.P_BOARD]:], int(p), colour)
