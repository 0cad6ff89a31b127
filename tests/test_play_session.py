"""The terminal UI's session, records and board views without a terminal (``engine.ui``, ``engine.play``).

A recording screen stands in for the terminal and a seeded random agent (or a scripted one) for the search,
so these run in well under a second each; ``tests/test_play.py`` drives the real program in a pty.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.console import Console

import agents
import games
from agents.base import Agent, Decision, MoveStat
from engine.cli import UserError
from engine.play import LEVELS, level_simulations, pick_side, progress_line
from engine.ui import view_for
from engine.ui.records import format_game, read_record
from engine.ui.session import Session


class Recorder:
    """A screen that keeps what the session writes, answers questions from a list, and thinks at once."""

    def __init__(self, answers=(), interactive=False):
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.answers = list(answers)
        self.interactive = interactive
        self.console = Console(color_system=None, width=120, record=True, file=open("/dev/null", "w"))

    def show(self, renderable):
        self.console.print(renderable, markup=False, highlight=False, soft_wrap=True)
        self.lines += self.console.export_text(clear=True).splitlines()

    def say(self, text, style=None):
        self.lines.append(text)

    def error(self, text):
        self.errors.append(text)
        self.lines.append("✗ " + text)

    def think(self, agent, state, title, describe_move, side):
        return agent.choose(state)

    def ask(self, prompt):
        return self.answers.pop(0) if self.answers else None

    @property
    def text(self):
        return "\n".join(self.lines)


class Scripted(Agent):
    """Plays the given moves in order (by notation), with a made-up evaluation; counts undo calls."""

    def __init__(self, game, moves):
        super().__init__(game)
        self.name = "scripted"
        self.moves = list(moves)
        self.undos = 0

    def choose(self, state, progress=None):
        action = self.game.parse_move(state, self.moves.pop(0))
        return Decision(action, value=0.5, top=[MoveStat(action, 10, 0.5, 0.5)], info={"simulations": 10})

    def undo(self):
        self.undos += 1


def session_of(game, agent, person=0, answers=(), interactive=False, **kw):
    screen = Recorder(answers, interactive)
    return Session(game, lambda g: agent if g is game else agents.make("random", g, seed=0), screen, person,
                   **kw), screen


def test_moves_errors_and_the_agent_reply():
    g = games.make("tictactoe")
    s, screen = session_of(g, Scripted(g, ["a1", "c1"]))
    s.begin()
    for bad, why in [("hello", "is not a tic-tac-toe square"), ("d4", "is not a tic-tac-toe square"),
                     ("", None)]:
        s.handle(bad)
        if why:
            assert why in screen.errors[-1]
    s.handle("b2")
    assert s.actions == [4, 6]
    s.handle("a1")
    assert "square a1 is occupied" in screen.errors[-1]
    assert len(screen.errors) == 3
    assert "scripted plays a1: win 75% for O" in screen.text
    assert "top moves (visits, win chance): a1 10 (75%)" in screen.text


def test_undo_takes_back_the_pair_and_to_your_move():
    g = games.make("connect4")
    agent = Scripted(g, ["1", "2", "3"])
    s, screen = session_of(g, agent)
    s.begin()
    s.handle("undo")
    assert "nothing to undo" in screen.errors[-1]
    s.handle("4")
    s.handle("4")
    assert [g.format_move(None, a) for a in s.actions] == ["4", "1", "4", "2"]
    s.handle("undo")
    assert [g.format_move(None, a) for a in s.actions] == ["4", "1"] and agent.undos == 2
    assert "took back 4 2" in screen.text and g.to_play(s.state) == 0
    # the agent moved first: undo stops at your first move, never before it
    agent2 = Scripted(g, ["7", "6", "5"])
    s2, _ = session_of(g, agent2, person=1)
    s2.begin()
    s2.handle("1")
    s2.handle("undo")
    assert [g.format_move(None, a) for a in s2.actions] == ["7"] and g.to_play(s2.state) == 1


def test_win_announce_save_offer_and_undo_after_the_end(tmp_path):
    g = games.make("tictactoe")
    target = tmp_path / "won"
    s, screen = session_of(g, Scripted(g, ["a3", "b3"]), answers=[str(target)], interactive=True)
    s.begin()
    for m in ["a1", "b1", "c1"]:
        s.handle(m)
    assert "Game over. X wins with three in a row." in screen.text and "You win!" in screen.text
    text = (tmp_path / "won.txt").read_text()
    assert text.splitlines()[:3] == ["first: you", "second: scripted", "a1 a3 b1 b3 c1"]
    assert text.splitlines()[3].startswith("result: +1")
    s.handle("b2")
    assert "the game is over" in screen.errors[-1]
    s.handle("undo")  # your winning move goes back; it is your move again
    assert len(s.actions) == 4 and not s.over


def test_resign_swap_new_and_pass():
    g = games.make("connect4")
    s, screen = session_of(g, Scripted(g, ["4", "4", "5"]))
    s.begin()
    s.handle("pass")
    assert "there is no pass in connect4" in screen.errors[-1]
    s.handle("3")
    s.handle("swap")  # the agent takes your side and moves; you now play O
    assert s.person == 1 and len(s.actions) == 3 and g.to_play(s.state) == 1
    s.handle("resign")
    assert s.over and s.winner() == 0
    assert "O (you) resigns: X (scripted) wins." in screen.text
    s.handle("resign")
    assert "already over" in screen.errors[-1]
    s.handle("new")
    assert s.actions == [5 - 1] and s.person == 1 and not s.over  # the agent (X) opened again


def test_hint_reports_without_moving():
    g = games.make("tictactoe")
    s, screen = session_of(g, Scripted(g, ["c3"]))
    s.begin()
    s.handle("hint")
    assert s.actions == [] and "hint: play c3: win 75% for X" in screen.text


def test_help_lists_every_command():
    g = games.make("go", size=5)
    s, screen = session_of(g, agents.make("random", g))
    s.begin()
    s.handle("help")
    for cmd in ["undo", "hint", "pass", "resign", "new", "swap", "save FILE", "load FILE", "quit"]:
        assert re.search(rf"^  {re.escape(cmd)}\s", screen.text, re.M), cmd
    assert "moves: a point" in screen.text
    s.handle("quit")
    assert s.quit


@pytest.mark.parametrize("name, moves", [
    ("tictactoe", "b2 a1 c3"),
    ("connect4", "4 4 5 3 3"),
    ("go", "E5 C3 pass D4"),
    ("chess", "e4 e5 Nf3 Nc6 Bc4 Nf6 O-O"),
])
def test_save_and_load_round_trip(tmp_path, name, moves):
    g = games.make(name) if name != "go" else games.make("go", size=9)
    start = g.initial_state()
    actions, state = [], start
    for m in moves.split():
        a = g.parse_move(state, m)
        actions.append(a)
        state = g.apply(state, a)
    s, screen = session_of(g, agents.make("random", g), start=start, actions=actions)
    s.handle(f"save {tmp_path / 'game'}")
    path = tmp_path / ("game" + g.record_extension)
    assert path.exists() and f"saved {len(actions)} moves" in screen.text
    s2, screen2 = session_of(g, agents.make("random", g))
    s2.handle(f"load {path}")
    assert s2.actions == actions and np.array_equal(s2.state, state), screen2.errors
    assert s2.person == g.to_play(state)  # you play the side to move


def test_load_positions_of_each_format(tmp_path):
    chess = games.make("chess")
    fen = "r3k2r/8/8/8/8/8/8/R3K2R b KQkq - 0 1"
    rec = read_record(chess, fen + " moves O-O")
    assert chess.to_fen(rec.start).startswith("r3k2r/8") and len(rec.actions) == 1
    assert chess.to_fen(rec.states()[-1]).startswith("r4rk1/")
    pgn = "[Event \"x\"]\n[SetUp \"1\"]\n[FEN \"" + fen + "\"]\n\n1... O-O-O 2. O-O *\n"
    rec = read_record(chess, pgn)
    assert len(rec.actions) == 2 and chess.to_fen(rec.states()[-1]).startswith("2kr3r/8/8/8/8/8/8/R4RK1 b")
    c4 = games.make("connect4")
    assert [a + 1 for a in read_record(c4, "4453").actions] == [4, 4, 5, 3]
    assert [a + 1 for a in read_record(c4, "first: a\nsecond: b\n4 4 5\nresult: ...\n").actions] == [4, 4, 5]
    go = games.make("go", size=9)
    sgf = "(;GM[1]FF[4]SZ[13]KM[6.5]AB[dd][jj]PL[W];W[gg];B[])"
    rec = read_record(go, sgf)
    assert rec.game is not go and rec.game.size == 13 and rec.game.komi == 6.5 and len(rec.actions) == 2
    # the session switches to the new board and rebuilds its agent for it
    s, screen = session_of(go, agents.make("random", go))
    (tmp_path / "g13.sgf").write_text(sgf)
    s.handle(f"load {tmp_path / 'g13.sgf'}")
    assert s.game.size == 13 and s.agent.game is s.game and s.person == 1 and len(s.actions) == 2
    assert "loaded" in screen.text and "A B C D E F G H J K L M N" in screen.text


@pytest.mark.parametrize("name, content, why", [
    ("chess", None, "cannot read"),
    ("chess", "this is not chess", "is not a chess move"),
    ("chess", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNZ w KQkq - 0 1", "FEN"),
    ("chess", "1. e4 e5 2. Ke3 *", "Ke3"),
    ("go", "(;SZ[9];B[ee];B[dd])", "SGF"),
    ("connect4", "44444444", "column 4 is full"),
    ("tictactoe", "a1 a1", "occupied"),
])
def test_bad_files_get_one_line(tmp_path, name, content, why):
    g = games.make(name)
    s, screen = session_of(g, agents.make("random", g))
    path = tmp_path / "in.txt"
    if content is not None:
        path.write_text(content)
    s.handle(f"load {path}")
    assert len(screen.errors) == 1 and why in screen.errors[0] and "\n" not in screen.errors[0]
    assert s.actions == []  # the game goes on as it was


def test_save_to_an_unwritable_place(tmp_path):
    g = games.make("tictactoe")
    s, screen = session_of(g, agents.make("random", g))
    blocker = tmp_path / "file"
    blocker.write_text("")
    s.handle(f"save {blocker / 'sub' / 'game.txt'}")
    assert "cannot write" in screen.errors[-1]
    s.handle("save")
    assert "save needs a file name" in screen.errors[-1]


def test_resigned_records_say_so():
    g = games.make("chess")
    text = format_game(g, g.initial_state(), [g.parse_move(g.initial_state(), "e4")], ("you", "bot"), resigned=1)
    assert '[Result "1-0"]' in text and '[White "you"]' in text
    go = games.make("go", size=9)
    assert "RE[W+R]" in format_game(go, go.initial_state(), [], ("you", "bot"), resigned=0)


def test_go_end_and_score_lines():
    g = games.make("go", size=5, komi=0.5)
    s, screen = session_of(g, Scripted(g, ["pass"]))
    s.begin()
    s.handle("C3")
    s.handle("pass")
    assert "Black: 1 stones + 24 territory = 25" in screen.text
    assert "White: 0 stones + 0 territory = 0 + komi 0.5 = 0.5" in screen.text
    assert "Black wins by 24.5 points (B+24.5) after two passes" in screen.text


def test_chess_views_flip_mark_and_count():
    g = games.make("chess")
    v = view_for(g)
    before = g.parse_position("startpos moves e2e4 d7d5")
    a = g.parse_move(before, "exd5")
    after = g.apply(before, a)
    console = Console(color_system=None, width=100, record=True, file=open("/dev/null", "w"))
    console.print(v.draw(after, a, before))
    lines = console.export_text().splitlines()
    assert lines[0].split() == list("abcdefgh") and lines[-1].split() == list("abcdefgh")
    assert lines[4] == " 5  ·  ·  · [♙] ·  ·  ·  ·  5"
    assert lines[1].split() == ["8", "♜", "♞", "♝", "♛", "♚", "♝", "♞", "♜", "8"]
    console.print(v.draw(after, flip=True))
    flipped = console.export_text().splitlines()
    assert flipped[0].split() == list("hgfedcba") and flipped[1].startswith(" 1  ♖  ♘  ♗  ♔  ♕")
    assert v.extras(after, 0, g.initial_state()) == "material 39 (+1)   captured ♟"
    assert v.extras(after, 1, g.initial_state()) == "material 38"


def test_levels_sides_and_progress_line():
    assert [level_simulations(k) for k in ("1", "medium", "5")] == [50, 800, 12800] and len(LEVELS) == 5
    with pytest.raises(UserError, match="levels: 1/beginner"):
        level_simulations("godlike")
    g = games.make("chess")
    rng = np.random.default_rng(0)
    assert [pick_side(c, g, rng) for c in (None, "first", "second", "black", "White")] == [0, 0, 1, 1, 0]
    with pytest.raises(UserError, match="write first, second, random, white or black"):
        pick_side("purple", g, rng)
    line = progress_line("mcts is thinking", {"simulations": 400, "total": 800, "best": 3, "value": 0.2,
                                               "seconds": 1.25}, lambda a: f"col{a}", "X")
    assert line == "mcts is thinking · 400/800 simulations · best col3 · win 60% for X · 1.2 s"


# ------------------------------------------------------------------------------------------- issue 24 regressions
def test_load_of_a_large_non_game_file_is_one_short_line(tmp_path):
    """A text that looks like a FEN to the chess reader (a '/' in its first word) was quoted whole."""
    g = games.make("chess")
    s, screen = session_of(g, agents.make("random", g))
    path = tmp_path / "notes.txt"
    path.write_text("a/b " + "word " * 5000)
    s.handle(f"load {path}")
    assert len(screen.errors) == 1 and len(screen.errors[0]) <= 400 and "is not a FEN" in screen.errors[0]
    long_token = tmp_path / "token.txt"
    long_token.write_text("x" * 100_000)
    s.handle(f"load {long_token}")
    assert len(screen.errors) == 2 and len(screen.errors[1]) <= 400 and s.actions == []


def test_save_into_a_missing_folder_is_an_error(tmp_path):
    g = games.make("tictactoe")
    s, screen = session_of(g, agents.make("random", g))
    s.handle(f"save {tmp_path / 'nowhere' / 'game.txt'}")
    assert "folder" in screen.errors[-1] and "does not exist" in screen.errors[-1]
    assert not (tmp_path / "nowhere").exists()


def test_pass_pass_is_an_error_not_one_pass():
    g = games.make("go", size=5, komi=0.5)
    s, screen = session_of(g, Scripted(g, ["pass"]))
    s.begin()
    s.handle("pass pass")
    assert "one pass per line" in screen.errors[-1] and s.actions == [] and not s.over


def test_promotion_is_not_shown_as_a_capture():
    g = games.make("chess")
    v = view_for(g)
    start = g.from_fen("8/1P6/8/8/8/8/8/k6K w - - 0 1")
    after = g.apply(start, g.parse_move(start, "b8=Q"))
    assert "captured" not in v.extras(after, 1, start)  # Black took nothing
    taken = g.from_fen("1r6/P7/8/8/8/8/8/k6K w - - 0 1")  # a7xb8=Q: White takes a rook and promotes
    after = g.apply(taken, g.parse_move(taken, "axb8=Q"))
    assert v.extras(after, 0, taken).endswith("captured ♜") and "captured" not in v.extras(after, 1, taken)


def test_saved_pgn_has_todays_date(tmp_path):
    import datetime

    g = games.make("chess")
    s, screen = session_of(g, agents.make("random", g, seed=1))
    s.handle("e4")
    s.handle(f"save {tmp_path / 'game.pgn'}")
    text = (tmp_path / "game.pgn").read_text()
    assert f'[Date "{datetime.date.today().strftime("%Y.%m.%d")}"]' in text and "????" not in text
