"""SGF: writing, reading games and positions, robustness to what editors write, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import games
from games.go import load_sgf, parse_sgf, read_sgf, write_sgf


@pytest.fixture(scope="module")
def go9():
    return games.make("go", size=9, komi=7.5)


def test_write_then_read_round_trip(go9):
    rng = np.random.default_rng(0)
    s, actions = go9.initial_state(), []
    while not go9.is_terminal(s) and len(actions) < 60:
        a = int(rng.choice(go9.legal_actions(s)))
        actions.append(a)
        s = go9.apply(s, a)
    comments = [{"visits": 800, "value": 0.53125, "pv": ["D4", "C3"]}, "a plain ] comment \\ with escapes"]
    text = go9.to_sgf(actions, black="net-A", white="net [B]", result="W+R", comments=comments, date="2024-05-01")
    assert text.startswith("(;FF[4]GM[1]") and "SZ[9]" in text and "KM[7.5]" in text and "RU[Chinese]" in text
    assert "DT[2024-05-01]" in text and "RE[W+R]" in text and "C[visits: 800\nvalue: 0.5312\npv: D4 C3]" in text
    sgf = read_sgf(text)
    assert sgf.size == 9 and sgf.komi == 7.5 and sgf.black == "net-A" and sgf.white == "net [B]"
    assert sgf.result == "W+R" and sgf.actions == actions
    assert sgf.comments[1] == "a plain ] comment \\ with escapes"
    loaded = load_sgf(text)
    np.testing.assert_array_equal(loaded.state, s)
    assert len(loaded.states) == len(actions) + 1
    assert loaded.game.komi == 7.5 and loaded.actions == actions


def test_finished_game_gets_its_result(go9):
    text = go9.to_sgf([40, 81, 81])
    assert "RE[B+73.5]" in text and ";B[ee];W[];B[])" in text.replace("\n", "")
    assert read_sgf(text).actions == [40, 81, 81]


def test_setup_position_round_trip(go9):
    start = go9.setup_state(black=["C3", "G7"], to_play="W")
    text = go9.to_sgf([go9.point("E5")], start=start)
    assert "AB[gc][cg]" in text and "PL[W]" in text
    loaded = load_sgf(text)
    assert loaded.sgf.setup_black == sorted([go9.point("C3"), go9.point("G7")]) and loaded.sgf.to_play == 1
    assert loaded.game.board_rows(loaded.state)[4][4] == "O"


def test_handicap_setup_and_player_to_move():
    sgf = read_sgf("(;GM[1]SZ[9]HA[2]KM[0.5]AB[cc][gg])")
    assert sgf.handicap == 2 and sgf.to_play == 1 and sgf.komi == 0.5 and not sgf.moves
    assert read_sgf("(;SZ[9]AB[cc]AW[gg]PL[b])").to_play == 0
    loaded = load_sgf("(;SZ[9]HA[2]AB[cc][gg];W[ee];B[dd])")
    g = loaded.game
    assert g.first_player(loaded.states[0]) == 1 and g.board_rows(loaded.state)[3][3] == "X"
    assert read_sgf("(;SZ[9]AB[aa:bc]AE[ab])").setup_black == [0, 1, 10, 18, 19]  # rectangle minus AE


def test_parser_takes_the_main_line_and_tolerates_formatting():
    text = """junk before the game
    ( ;FF[3]GM[1]SZ[ 9 ]KoMi[6.5]
      PlayerBlack[Someone]C[first line\\
joined]
      ;B[ee] C [escaped \\] bracket]
      ( ;W[dd];B[tt] (;W[cc]) (;W[gg]) )
      ( ;W[ff] )
    )
    (;GM[1]SZ[19];B[aa])"""
    nodes = parse_sgf(text)
    assert [n.get("B", n.get("W")) for n in nodes[1:]] == [["ee"], ["dd"], ["tt"], ["cc"]]
    sgf = read_sgf(text)
    assert sgf.komi == 6.5 and sgf.black == "Someone" and sgf.game_comment == "first linejoined"
    assert sgf.comments[0] == "escaped ] bracket"
    assert sgf.moves == [(0, 40), (1, 30), (0, 81), (1, 20)]  # B[tt] is pass on 9x9


@pytest.mark.parametrize("text, message", [
    ("", "no game tree"),
    ("no parentheses here", "no game tree"),
    ("(;SZ[9];B[ee]", "not closed"),
    ("(;SZ[9];B[ee", "property value is not closed"),
    ("(;SZ[9];B[ee]))", None),  # extra ')' after the first tree is ignored, like other trailing text
    ("(SZ[9])", "must start with a node"),
    ("(;SZ[9](;B[aa]);W[bb])", "node after a variation"),
    ("(;SZ[9][9])", None),
    ("(;SZ[9]B)", "has no value"),
    ("(;SZ[9];[aa])", "property value without a property name"),
    ("(;SZ[9];B[aa]%)", "unexpected '%'"),
    ("(;GM[2]SZ[8])", "is not Go"),
    ("(;SZ[19:13])", "not square"),
    ("(;SZ[25])", "not supported"),
    ("(;SZ[nine])", "not a number"),
    ("(;SZ[9]KM[lots])", "KM\\[lots\\] is not a number"),
    ("(;SZ[9];B[zz])", "move 1 B\\[zz\\] is not a point"),
    ("(;SZ[9]AB[zz])", "AB\\[zz\\] is not a point"),
    ("(;SZ[9];B[aa]W[bb])", "both a black and a white move"),
    ("(;SZ[9];B[aa];B[bb])", "move 2 is B\\[bb\\] but White is to play"),
    ("(;SZ[9];B[aa];AB[cc])", "setup stones AB after move 1"),
])
def test_malformed_sgf_is_a_clear_error(text, message):
    if message is None:
        read_sgf(text)
        return
    with pytest.raises(ValueError, match=message):
        read_sgf(text)


def test_errors_name_the_line_and_column():
    with pytest.raises(ValueError, match="line 2, column 3"):
        parse_sgf("(;SZ[9]\n;B[aa")


@pytest.mark.parametrize("text, message", [
    ("(;SZ[9];B[aa];W[aa])", "SGF move 2 W\\[aa\\] \\(A9\\) is illegal: the point is occupied"),
    ("(;SZ[9]AW[ba][ab];B[aa])", "illegal: suicide"),
    ("(;SZ[9];B[aa];W[];B[];W[bb])", "comes after the game ended"),
    ("(;SZ[9]AB[aa]AW[ba][ab])", "without liberties"),
    ("(;SZ[9]KM[6.3])", "multiple of 0.5"),
])
def test_illegal_records_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        load_sgf(text)


def test_load_up_to_a_move_number_and_default_komi():
    loaded = load_sgf("(;SZ[5];B[cc];W[bb];B[dd])", move_number=2, default_komi=2.5)
    assert loaded.game.size == 5 and loaded.game.komi == 2.5 and loaded.game.moves_played(loaded.state) == 2
    with pytest.raises(ValueError, match="move number"):
        load_sgf("(;SZ[5])", move_number=-1)


def test_write_sgf_checks_its_input():
    with pytest.raises(ValueError, match="board size"):
        write_sgf(3, 0, [])
    with pytest.raises(ValueError, match="off the 9x9 board"):
        write_sgf(9, 7.5, [99])
    with pytest.raises(ValueError, match="capital letters"):
        write_sgf(9, 7.5, [], extra={"bad key": "x"})
    text = write_sgf(9, 7.5, [(1, 40), (0, 41)], to_play=1, extra={"GN": "test"})
    assert "PL[W]" in text and ";W[ee];B[fe]" in text and "GN[test]" in text


def test_arena_records_are_sgf(go9, tmp_path):
    from engine.arena import main

    main(["go", "random", "random", "--games", "2", "--save", str(tmp_path), "--json",
          "--game-option", "size=5"])
    files = sorted(tmp_path.glob("*.sgf"))
    assert len(files) == 2
    for f in files:
        loaded = load_sgf(f.read_text())
        sgf = loaded.sgf
        assert sgf.size == 5 and {sgf.black, sgf.white} == {"random", "random#2"}
        assert loaded.game.is_terminal(loaded.state) and sgf.result == loaded.game.result_string(loaded.state)
        assert "ended by: end" in sgf.properties["GC"][0]
    resigned = go9.format_record([40], {"first": "a", "second": "b", "result": -1, "ended by": "resign"})
    assert "RE[W+R]" in resigned and "PB[a]" in resigned and "PW[b]" in resigned


def test_parse_position_takes_sgf_or_moves(go9):
    s = go9.parse_position("(;GM[1]SZ[9]AB[cc];W[ee];B[dd])")
    assert go9.board_rows(s)[2][2] == "X" and go9.board_rows(s)[4][4] == "O" and go9.to_play(s) == 1
    np.testing.assert_array_equal(go9.parse_position("E5 dd"), go9.play_moves(["E5", "D6"]))
    with pytest.raises(games.IllegalMove, match="the SGF board is 19x19"):
        go9.parse_position("(;SZ[19];B[dd])")
    with pytest.raises(games.IllegalMove, match="position: malformed SGF"):
        go9.parse_position("(;SZ[9];B[dd]")
