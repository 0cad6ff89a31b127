"""The GTP engine (``engine.gtp``): a full session over stdin/stdout, and the protocol state machine in process."""

from __future__ import annotations

import io
import queue
import subprocess
import sys
import threading
import time

import pytest

import agents
import games
from agents.base import Agent, Decision, MoveStat
from engine.cli import UserError
from engine.gtp import Clock, GtpEngine, parse_command, player_factory, preprocess
from engine.gtp import main as gtp_main

from .conftest import ROOT
from .uci_helpers import START_TIMEOUT


# ------------------------------------------------------------------------------------------- a raw client
class Session:
    """``python -m engine.gtp`` in a subprocess; ``ask`` sends a command and returns its answer's lines."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.gtp", *args], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.stderr = ""
        self.started = False

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def line(self, timeout: float = 60.0) -> str:
        if not self.started:  # the engine compiles (or loads from Numba's cache) its search before answering
            timeout, self.started = max(timeout, START_TIMEOUT), True
        line = self.lines.get(timeout=timeout)
        assert line is not None, "the engine closed its output"
        return line

    def answer(self) -> list[str]:
        out = []
        while True:
            line = self.line()
            if line == "" and out:
                return out
            if line != "" or out:
                out.append(line)

    def ask(self, text: str) -> list[str]:
        self.send(text)
        return self.answer()

    def close(self) -> int:
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        code = self.proc.wait(timeout=30)
        self.stderr = self.proc.stderr.read()
        return code


@pytest.fixture(scope="module")
def session():
    s = Session("--simulations", "40", "--seed", "3", "--resign-threshold", "-1")
    yield s
    s.close()


def test_session_administrative_commands_and_ids(session):
    assert session.ask("protocol_version") == ["= 2"]
    assert session.ask("12 name") == ["=12 rlengine"]
    assert session.ask("known_command lz-analyze") == ["= true"]
    assert session.ask("7 known_command frobnicate") == ["=7 false"]
    listed = session.ask("list_commands")
    names = {listed[0][2:]} | set(listed[1:])
    required = {"protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score", "final_status_list",
                "time_settings", "time_left", "loadsgf", "printsgf", "kgs-genmove_cleanup", "lz-analyze",
                "lz-genmove_analyze"}
    assert required <= names
    assert session.ask("frobnicate 1 2") == ["? unknown command"]
    assert session.ask("33 frobnicate") == ["?33 unknown command"]
    # comments, tabs and control characters are cleaned away; an empty line gets no answer
    session.send("")
    session.send("# only a comment")
    assert session.ask("5\tname # trailing comment\r") == ["=5 rlengine"]


def test_session_game_errors_undo_and_scoring(session):
    assert session.ask("boardsize 25") == ["? unacceptable size"]
    assert session.ask("boardsize 4") == ["? unacceptable size"]
    assert session.ask("boardsize nine")[0].startswith("? syntax error")
    assert session.ask("boardsize 7") == ["="]
    assert session.ask("komi 0.5") == ["="]
    assert session.ask("clear_board") == ["="]
    assert session.ask("play b D4") == ["="]
    assert session.ask("play w D4")[0].startswith("? illegal move")
    assert session.ask("play w Z9")[0] == "? syntax error: 'Z9' is off the 7x7 board (columns A-G without I, rows 1-7)"
    assert session.ask("play w I3")[0].startswith("? syntax error")
    assert session.ask("play purple D5")[0].startswith("? syntax error")
    assert session.ask("play b")[0].startswith("? syntax error")
    assert session.ask("4 genmove w")[0].startswith("=4 ")
    board = session.ask("showboard")
    assert board[0] == "=" and board[1].split() == list("ABCDEFG") and len(board) == 1 + 9 + 1
    assert "X" in board[1 + 4]  # D4 is on the fifth row from the top of a 7x7 board
    assert session.ask("undo") == ["="]
    assert session.ask("undo") == ["="]
    assert session.ask("undo") == ["? cannot undo"]
    # one black stone on an empty 7x7 board: all 49 points are Black's, komi 0.5
    assert session.ask("play b D4") == ["="]
    assert session.ask("final_score") == ["= B+48.5"]
    assert session.ask("final_status_list dead") == ["="]
    assert session.ask("final_status_list alive") == ["= D4"]
    assert session.ask("final_status_list sideways")[0].startswith("? syntax error")
    # two moves of the same colour: the engine keeps going
    assert session.ask("play b C3") == ["="]
    assert session.ask("play b E5") == ["="]
    assert session.ask("genmove w")[0].startswith("= ")
    assert session.ask("time_settings 2 1 1") == ["="]
    assert session.ask("time_left w 1 0") == ["="]
    assert session.ask("time_left purple 100 0")[0].startswith("? syntax error")
    assert session.ask("genmove b")[0].startswith("= ")


def test_session_sgf_round_trip(session, tmp_path):
    assert session.ask("boardsize 9") == ["="]
    assert session.ask("komi 7.5") == ["="]
    for cmd in ("play b E5", "play w C3", "play b G7", "play b G3", "play w pass"):
        assert session.ask(cmd) == ["="], cmd
    sgf = session.ask("printsgf")
    assert sgf[0] == "=" and sgf[1].startswith("(;FF[4]")
    text = "\n".join(sgf[1:])
    assert "SZ[9]" in text and "KM[7.5]" in text and ";B[ee]" in text and ";B[gc]" in text and "W[]" in text
    path = tmp_path / "game.sgf"
    assert session.ask(f"printsgf {path}") == ["="]
    board_before = session.ask("showboard")
    assert session.ask("clear_board") == ["="]
    assert session.ask(f"loadsgf {path}") == ["="]
    assert session.ask("showboard") == board_before
    assert session.ask(f"loadsgf {path} 3") == ["="]  # the position before move 3: two stones
    rows = session.ask("showboard")[2:11]
    assert sum(r.count("X") + r.count("O") for r in rows) == 2
    assert session.ask(f"loadsgf {tmp_path / 'missing.sgf'}")[0].startswith("? cannot load file")
    bad = tmp_path / "bad.sgf"
    bad.write_text("(;SZ[9];B[ee];W[ee])")
    answer = session.ask(f"loadsgf {bad}")
    assert answer[0].startswith("? cannot load file") and "occupied" in answer[0]
    assert session.ask("showboard")[2:11] == rows  # a failed load leaves the game as it was


def test_session_lz_analyze_streams_until_the_next_command(session):
    assert session.ask("boardsize 9") == ["="]
    assert session.ask("clear_board") == ["="]
    session.send("21 lz-analyze b 5")
    assert session.line() == "=21"
    infos = []
    deadline = time.monotonic() + 60
    while len(infos) < 3 and time.monotonic() < deadline:
        infos.append(session.line())
    assert len(infos) == 3 and all(i.startswith("info move ") for i in infos)
    first = infos[-1].split(" info ")[0].split()
    head = first[1:first.index("pv")]  # "info", key value pairs, then "pv" and the moves
    fields = dict(zip(head[::2], head[1::2], strict=True))
    assert int(fields["visits"]) > 0 and 0 <= int(fields["winrate"]) <= 10000 and fields["order"] == "0"
    assert first[first.index("pv") + 1] == fields["move"]
    session.send("22 name")
    rest = []
    while True:
        line = session.line()
        if line == "":
            break
        rest.append(line)
    assert all(r.startswith("info move") for r in rest)  # info lines, then the empty line that ends the answer
    assert session.answer() == ["=22 rlengine"]
    streamed = session.ask("lz-genmove_analyze b 1")
    assert streamed[0] == "=" and streamed[-1].startswith("play ") and len(streamed[-1].split()) == 2
    assert session.ask("lz-analyze b 5 avoid b D4 1")[0].startswith("? cannot parse analyze tags")


def test_session_genmove_keeps_to_its_byo_yomi(session):
    """time_settings 0 5 1 gave genmove 5.45 s; the bound is the period itself (a generous margin: the engine
    stops 0.2 s of lag and 5% earlier), for the first move after the settings and the next."""
    assert session.ask("clear_board") == ["="]
    assert session.ask("time_settings 0 2 1") == ["="]
    for colour in "bw":
        t0 = time.monotonic()
        assert session.ask(f"genmove {colour}")[0].startswith("= ")
        assert time.monotonic() - t0 < 2.0 + 1.0
    assert session.ask("time_settings 0 1 0") == ["="]  # back to no time limit


def test_session_quit_ends_the_process(session):
    assert session.ask("9 quit") == ["=9"]
    assert session.close() == 0
    assert "GTP engine ready" in session.stderr  # diagnostics went to stderr


def test_bad_command_line_is_a_clear_error():
    proc = subprocess.run([sys.executable, "-m", "engine.gtp", "--simulations", "0"], cwd=ROOT, capture_output=True,
                          text=True, input="quit\n", timeout=120)
    assert proc.returncode == 2 and "--simulations must be >= 1" in proc.stderr and proc.stdout == ""
    for args, message in ((["--game-option", "colour=red"], "game option colour is not known"),
                          (["--game-option", "size=30"], "size must be an integer from 5 to 19")):
        with pytest.raises(UserError, match=message):
            gtp_main(args)


# ------------------------------------------------------------------------------------------- in process
def test_preprocess_and_parse():
    assert preprocess("  12\tgenmove b # a comment\r\n") == "12 genmove b"
    assert preprocess("\x01na\x02me\n") == "name"
    assert preprocess("# nothing") == ""
    assert parse_command("12 genmove b") == ("12", "genmove", ["b"])
    assert parse_command("PLAY B d4") == ("", "play", ["B", "d4"])


def _engine(make=None, **kw) -> GtpEngine:
    log = io.StringIO()
    return GtpEngine(make or player_factory(None, 20, 0, log), out=io.StringIO(), log=log, **kw)


def test_out_of_turn_play_inserts_a_pass_or_rebuilds():
    e = _engine()
    g = e.game
    assert e.execute("play b E5") == "=\n\n"
    assert e.execute("play b D5") == "=\n\n"  # a white pass is put in between
    assert g.board(e.state)[4, 3] == 1 and g.board(e.state)[4, 4] == 1 and g.to_play(e.state) == 1
    assert e.execute("play w pass") == "=\n\n"
    assert e.execute("play w C3") == "=\n\n"  # a black pass would end the game: rebuilt with White to move
    assert not g.is_terminal(e.state) and g.board(e.state)[6, 2] == 2 and g.to_play(e.state) == 0
    assert [(m.colour, m.action) for m in e.moves] == [(0, 40), (0, 39), (1, 81), (1, 56)]
    assert e.execute("play b pass") == "=\n\n" and e.execute("play w pass") == "=\n\n"
    assert g.is_terminal(e.state)
    assert e.execute("play b J9") == "=\n\n"  # moves after the end of the game go on from the board
    assert g.board(e.state)[0, 8] == 1
    assert e.execute("genmove b").startswith("= ")  # and so does genmove out of turn
    while e.moves:
        assert e.execute("undo") == "=\n\n"
    assert (g.board(e.state) == 0).all()


def test_komi_and_boardsize_keep_or_clear_the_game():
    e = _engine()
    e.execute("play b E5")
    e.execute("play w C3")
    assert e.execute("komi 0.5") == "=\n\n"
    assert e.game.komi == 0.5 and len(e.moves) == 2 and e.execute("final_score") == "= W+0.5\n\n"
    assert e.execute("komi 6.25").startswith("? syntax error")
    assert e.execute("komi lots").startswith("? syntax error")
    assert e.execute("boardsize 19") == "=\n\n"
    assert e.game.size == 19 and not e.moves and e.execute("play b T19") == "=\n\n"
    assert e.execute("boardsize 20") == "? unacceptable size\n\n"
    assert e.game.size == 19 and len(e.moves) == 1  # a refused size changes nothing


class _Scripted(Agent):
    """An agent that answers with a fixed move and value (for resignation and clean-up)."""

    def __init__(self, game, action, value, top=()):
        super().__init__(game)
        self.action, self.value, self.top = action, value, list(top)
        self.budgets = []

    def choose(self, state, progress=None, **budget):
        self.budgets.append(budget)
        return Decision(self.action, value=self.value, top=self.top, info={"visits": 10})


def test_resignation_threshold_and_minimum_moves():
    made = {}

    def make(game, first):
        made["agent"] = _Scripted(game, game.point("E5"), -0.95)
        return made["agent"], "scripted"

    e = _engine(make, resign_threshold=-0.9, resign_after=4)
    assert e.execute("genmove b") == "= E5\n\n"  # too early to resign
    for mv in ("play w C3", "play b G7", "play w C7"):
        e.execute(mv)
    assert e.execute("genmove b") == "= resign\n\n" and len(e.moves) == 4  # a resignation plays nothing
    made["agent"].value, made["agent"].action = -0.5, e.game.point("D4")
    assert e.execute("genmove b") == "= D4\n\n"
    never = _engine(make, resign_threshold=-1.0, resign_after=0)
    made["agent"].value = -1.0
    assert never.execute("genmove b") == "= E5\n\n"


def test_cleanup_does_not_pass_while_moves_remain():
    def make(game, first):
        top = [MoveStat(game.pass_action, 50, 0.1, 0.9), MoveStat(game.point("C3"), 20, 0.1, 0.8)]
        return _Scripted(game, game.pass_action, 0.9, top), "scripted"

    e = _engine(make)
    assert e.execute("genmove b") == "= pass\n\n"
    assert e.execute("kgs-genmove_cleanup b") == "= C3\n\n"
    # only own eyes left: pass
    e2 = _engine(make, size=5)
    rows = ["XXXXX", "X.X.X", "XXXXX", "X.X.X", "XXXXX"]
    e2.session.start = e2.game.state_from_board(rows, to_play="B")
    e2.session.states = [e2.session.start]
    assert e2.execute("kgs-genmove_cleanup b") == "= pass\n\n"


def test_time_control_budget():
    clock = Clock(60.0, 10.0, 5)
    clock.reset()
    main = clock.allot(0, 0, 9, lag=0.2)
    assert 1.0 < main < 4.0  # a share of the main time plus half a byo-yomi stone's time
    clock.left[0] = [20.0, 4]  # in byo-yomi: 20 seconds for 4 stones
    assert clock.allot(0, 50, 9, lag=0.2) == pytest.approx(4.8)
    clock.spend(0, 4.0)
    assert clock.left[0] == [16.0, 3]
    assert Clock(0.0, 1.0, 0).unlimited  # byo-yomi time with no stones: no time limit
    absolute = Clock(100.0, 0.0, 0)
    absolute.reset()
    assert absolute.allot(1, 0, 19, lag=0.0) == pytest.approx(100 / (0.75 * 361 / 2))
    made = {}

    def make(game, first):
        made["agent"] = _Scripted(game, game.pass_action, 0.0)
        return made["agent"], "scripted"

    e = _engine(make, simulations=123)
    e.execute("genmove b")
    assert made["agent"].budgets[-1] == {"simulations": 123}
    e.execute("time_settings 30 0 0")
    e.execute("genmove w")
    budget = made["agent"].budgets[-1]
    assert 0.05 <= budget["seconds"] < 30 and budget["simulations"] == 10**9  # by time, however many simulations


def test_internal_errors_do_not_end_the_session():
    class Broken(_Scripted):
        def choose(self, state, progress=None, **budget):
            raise RuntimeError("the network caught fire")

    e = _engine(lambda game, first: (Broken(game, 0, 0.0), "broken"))
    answer = e.execute("3 genmove b")
    assert answer.startswith("?3 internal error: RuntimeError: the network caught fire")
    assert e.execute("name") == "= rlengine\n\n" and not e.moves


def test_a_gtp_player_drives_the_gtp_engine():
    """The external-program player against this engine as the program (no GNU Go needed)."""
    g = games.make("go", size=7, komi=7.5)
    from engine.matches import play_game

    program = agents.make(f"gtp:{sys.executable} -m engine.gtp --simulations 30 --resign-threshold -1", g)
    try:
        assert program.program.startswith("rlengine")
        rec = play_game(g, [program, agents.make("random", g, seed=4)], max_moves=30)
        assert len(rec.actions) == 30 or rec.reason == "end"
        state = g.initial_state()
        for a in rec.actions:
            state = g.apply(state, a)
        assert program.final_score(state) == g.result_string(state)
    finally:
        program.close()
    assert program.proc.returncode == 0


def test_an_agent_without_a_search_budget_still_plays_by_the_clock():
    class Legacy(Agent):  # the interface before budgets: choose(state, progress)
        def choose(self, state, progress=None):
            return Decision(self.game.point("C3"), value=0.1)

    e = _engine(lambda game, first: (Legacy(game), "legacy"))
    assert e.execute("time_settings 10 0 0") == "=\n\n"
    assert e.execute("genmove b") == "= C3\n\n"
    assert "takes no search budget" in e.log.getvalue()
