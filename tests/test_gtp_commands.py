"""GTP commands a user of GTP engines expects (handicap, out-of-turn genmove), what the engine says about its
player, and the fuzz findings of issue 24 as regression cases; GNU Go as the oracle of handicap placement."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest

from agents.base import Agent, Decision
from engine.gtp import GtpEngine, fixed_handicap_points, player_factory
from engine.gtp.protocol import command_name


class Fixed(Agent):
    """Answers with the first of ``moves`` that is legal (GTP vertices), else passes."""

    def __init__(self, game, moves=()):
        super().__init__(game)
        self.moves = list(moves)
        self.states = []

    def choose(self, state, progress=None, **budget):
        self.states.append(state)
        for m in self.moves:
            try:
                a = self.game.point(m)
            except ValueError:  # off this board
                continue
            if self.game.move_status(state, a) is None:
                return Decision(a, value=0.0)
        return Decision(self.game.pass_action, value=0.0)


def _engine(moves=(), size=9, **kw):
    made = {}

    def make(game, first):
        made["agent"] = Fixed(game, moves)
        return made["agent"], "fixed"

    return GtpEngine(make, size=size, out=io.StringIO(), log=io.StringIO(), resign_threshold=-1.0, **kw), made


def _answer(engine, line: str) -> str:
    text = engine.execute(line)
    assert text.endswith("\n\n")
    return text[:-2]


def test_command_names_of_the_extensions():
    assert command_name("cmd_lz_genmove_analyze") == "lz-genmove_analyze"
    assert command_name("cmd_kgs_genmove_cleanup") == "kgs-genmove_cleanup"
    assert command_name("cmd_final_status_list") == "final_status_list"
    e, _ = _engine()
    listed = set(_answer(e, "list_commands")[2:].split("\n"))
    assert {"fixed_handicap", "place_free_handicap", "set_free_handicap", "lz-analyze", "kgs-genmove_cleanup",
            "protocol_version"} <= listed and not any(n.startswith(("lz_", "kgs_", "gogui_")) for n in listed)


# ------------------------------------------------------------------------------------------- handicap
def test_fixed_handicap_points_follow_the_gtp_table():
    e, _ = _engine(size=19)
    assert _answer(e, "fixed_handicap 9") == "= D4 Q16 D16 Q4 D10 Q10 K4 K16 K10"
    assert e.game.to_play(e.state) == 1 and (e.game.board(e.state) == 1).sum() == 9
    assert _answer(e, "fixed_handicap 2") == "? board not empty"
    assert _answer(e, "clear_board") == "="
    for n, expected in ((2, "D4 Q16"), (3, "D4 Q16 D16"), (5, "D4 Q16 D16 Q4 K10"), (6, "D4 Q16 D16 Q4 D10 Q10")):
        assert _answer(e, f"fixed_handicap {n}") == f"= {expected}"
        _answer(e, "clear_board")
    assert _answer(e, "fixed_handicap 10").startswith("? invalid number of stones")
    assert _answer(e, "fixed_handicap 1").startswith("? invalid number of stones")
    assert _answer(e, "fixed_handicap x").startswith("? syntax error")
    e9, _ = _engine(size=9)
    assert _answer(e9, "fixed_handicap 4") == "= C3 G7 C7 G3"
    e8, _ = _engine(size=8)
    assert _answer(e8, "fixed_handicap 5").startswith("? invalid number of stones (8x8 takes 2 to 4)")
    e5, _ = _engine(size=5)
    assert _answer(e5, "fixed_handicap 2").startswith("? invalid number of stones (none on 5x5)")


def test_free_handicap_and_the_sgf_record(tmp_path):
    e, _ = _engine(size=9)
    placed = _answer(e, "place_free_handicap 12")[2:].split()
    assert len(placed) == 9 and len(set(placed)) == 9  # as many as the engine likes: the fixed points
    assert _answer(e, "set_free_handicap A1 B2") == "? board not empty"
    _answer(e, "clear_board")
    assert _answer(e, "set_free_handicap A1 A1").startswith("? bad vertex list")
    assert _answer(e, "set_free_handicap A1").startswith("? bad vertex list")
    assert _answer(e, "set_free_handicap A1 pass").startswith("? bad vertex list")
    assert _answer(e, "set_free_handicap A1 Z9").startswith("? syntax error")
    assert _answer(e, "set_free_handicap A1 J9 E5") == "="
    assert e.game.to_play(e.state) == 1
    assert _answer(e, "genmove w").startswith("= ")  # White moves first after a handicap
    sgf = _answer(e, "printsgf")
    assert "HA[3]" in sgf and "AB[ia][ee][ai]" in sgf  # J9, E5, A1
    path = tmp_path / "h.sgf"
    _answer(e, f"printsgf {path}")
    _answer(e, "clear_board")
    assert _answer(e, f"loadsgf {path}") == "="
    assert e.session.handicap == 3 and (e.game.board(e.session.start) == 1).sum() == 3 and len(e.moves) == 1
    assert "HA[3]" in _answer(e, "printsgf")


def test_fixed_handicap_matches_gnu_go():
    """GNU Go (the reference GTP engine) places fixed handicap stones on the same points."""
    gnugo = shutil.which("gnugo") or ("/usr/games/gnugo" if os.path.exists("/usr/games/gnugo") else None)
    if gnugo is None:
        pytest.skip("GNU Go is not installed")
    cases = [(19, n) for n in range(2, 10)] + [(13, n) for n in (2, 5, 9)] + [(9, n) for n in (2, 4, 9)] + \
        [(7, 4), (10, 4)]
    script = "".join(f"boardsize {s}\nclear_board\nfixed_handicap {n}\n" for s, n in cases) + "quit\n"
    out = subprocess.run([gnugo, "--mode", "gtp"], input=script, capture_output=True, text=True, timeout=120).stdout
    answers = [a for a in out.split("\n\n") if a.strip() and a.strip() != "="]
    assert len(answers) == len(cases), out
    from games.go import coords

    for (size, n), answer in zip(cases, answers, strict=True):
        theirs = {coords.from_gtp(v, size) for v in answer.strip()[1:].split()}
        assert set(fixed_handicap_points(size, n)) == theirs, (size, n, answer)


# ------------------------------------------------------------------------------------------- moves out of turn
def test_genmove_out_of_turn_plays_for_the_colour_asked_without_a_pass():
    """As GNU Go and KataGo do: no pass of the other colour is inserted, so a pass chosen by the engine never
    ends the game with a pass it did not choose."""
    e, made = _engine(moves=["C3"])
    assert _answer(e, "play b E5") == "="
    assert _answer(e, "genmove b") == "= C3"  # Black again
    assert [(m.colour, e.game.format_move(e.state, m.action)) for m in e.moves] == [(0, "E5"), (0, "C3")]
    assert e.game.passes(e.state) == 0 and e.game.to_play(e.state) == 1
    e2, made2 = _engine(moves=[])  # an agent that passes
    assert _answer(e2, "play b E5") == "="
    assert _answer(e2, "genmove b") == "= pass"
    assert not e2.game.is_terminal(e2.state)  # one pass: the game goes on
    e3, _ = _engine(moves=[])
    _answer(e3, "play b E5")
    e3.execute("lz-genmove_analyze b 0")
    assert "play pass" in e3.out.getvalue() and not e3.game.is_terminal(e3.state)
    assert [m.colour for m in e3.moves] == [0, 0]


# ------------------------------------------------------------------------------------------- what it says
def test_missing_network_notice_once_and_the_budget_in_banner_and_version(tmp_path, monkeypatch):
    log = io.StringIO()
    e = GtpEngine(player_factory(None, 20, 0, log), out=io.StringIO(), log=io.StringIO(), warm_up=False)
    for line in ("boardsize 7", "komi 0.5", "boardsize 9", "komi 6.5", "boardsize 13"):
        assert e.execute(line) == "=\n\n"
    notices = [x for x in log.getvalue().splitlines() if x.startswith("notice:")]
    assert len(notices) == 1 and "no network" in notices[0]
    assert "20 simulations a move" in _answer(e, "version")
    timed, _ = _engine(seconds=2.5)
    assert "2.5 s a move" in _answer(timed, "version")
    _answer(timed, "time_settings 0 5 1")
    assert "1 stones in 5 s" in _answer(timed, "version")


# ------------------------------------------------------------------------------------------- fuzz findings
NASTY = ["komi 1e308", "komi -1e308", "komi 1e400", "komi nan", "komi inf", "komi 99999999999999999999999",
         "time_settings 99999999999999999999999999999999999999999999999999999999999999999999 1 1",
         "time_settings 1 1 99999999999999999999999", "time_settings -1 0 0", "time_left b 1e308 0",
         "time_left w 5 99999999999999999999999", "time_left b nan 1", "boardsize 99999999999999999999999",
         "boardsize -3", "loadsgf /nonexistent/x.sgf 99999999999999999999", "loadsgf /", "fixed_handicap 1e9",
         "place_free_handicap 99999999999999999999", "set_free_handicap " + "A1 " * 2000,
         "lz-analyze b 99999999999999999999", "lz-analyze b interval 99999999999999999999999",
         "lz-genmove_analyze", "play b " + "Z" * 5000, "genmove purple", "final_status_list " + "x" * 1000,
         "known_command", "undo", "printsgf /nonexistent/folder/x.sgf", "\x00\x01\x02", "12345678901234567890 name"]


def test_fuzz_findings_get_one_line_answers_without_tracebacks():
    e, _ = _engine()
    for line in NASTY:
        answer = e.execute(line)
        assert answer is None or answer.startswith(("=", "?")), line
        if answer:
            assert "internal error" not in answer and len(answer) < 400, (line, answer[:200])
    assert "Traceback" not in e.log.getvalue()
    assert _answer(e, "komi 1e308").startswith("? syntax error: '1e308' is above 1000")
    assert _answer(e, "name") == "= rlengine"  # still running


def test_gogui_analyze_commands_and_top_moves():
    e, _ = _engine(moves=["C3"])
    listed = _answer(e, "gogui-analyze_commands")[2:].split("\n")
    assert "pspairs/Top moves (visits)/gogui-top_moves" in listed
    for entry in listed:  # every command GoGui would send is one this engine knows
        assert _answer(e, f"known_command {entry.split('/')[2].split()[0]}") == "= true"
    e2 = GtpEngine(player_factory(None, 30, 0, io.StringIO()), out=io.StringIO(), log=io.StringIO(), size=5)
    pairs = _answer(e2, "gogui-top_moves")[2:].split()
    assert pairs and len(pairs) % 2 == 0 and sum(int(v) for v in pairs[1::2]) <= 30
    assert not e2.moves  # nothing is played
