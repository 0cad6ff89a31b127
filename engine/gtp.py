"""A Go Text Protocol (GTP v2) engine: the AlphaZero agent (or pure MCTS) behind GoGui, Sabaki, Lizzie, KGS.

    python -m engine.gtp                                   # the shipped network of the board size, else pure MCTS
    python -m engine.gtp --checkpoint runs/go9/latest.pt --simulations 800
    python -m engine.gtp --time 2 --game-option size=19    # two seconds a move on 19x19

Protocol: G. Farnebäck, *Specification of the Go Text Protocol, version 2, draft 2* (2002). A command is
``[id] name [arguments]``; the answer is ``=[id] result`` or ``?[id] message`` followed by an empty line.
Input lines are cleaned as the specification says (control characters dropped, ``#`` comments cut, tabs
made spaces, empty lines ignored). Every failure is a ``?`` answer and the engine goes on; diagnostics go to
stderr only, so stdout carries the protocol alone.

Commands: the required and tournament set (``protocol_version name version known_command list_commands
quit boardsize clear_board komi play genmove undo showboard final_score final_status_list time_settings
time_left loadsgf printsgf kgs-genmove_cleanup``) and Leela Zero's analysis extension for Sabaki and Lizzie:
``lz-analyze [colour] [interval] [minmoves N] [maxmoves N]`` streams ``info move D4 visits 120 winrate 5432
prior 1234 order 0 pv D4 Q16 ...`` lines (one line per interval, winrate and prior in 1/10000, from the
view of the player analysed) until the next command arrives, and ``lz-genmove_analyze`` does the same while
choosing a move, then answers ``play D4``. Input is read by a thread while the search runs in chunks, so a
new command stops an analysis within a chunk (about 50 ms).

Scoring is Tromp-Taylor (every stone on the board is alive), the rules the agent plays by: ``final_score``
is the Tromp-Taylor score of the position and ``final_status_list dead`` is always empty (dead stones have
to be captured before the game ends). ``play`` accepts two moves of the same colour in a row (a GUI's
setup, a controller replaying a game): the position gets a pass of the other colour, or, after a pass or the
end of the game, is rebuilt from the board with that colour to move (the superko history starts again).
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

import agents as agents_mod
from agents.base import Agent, Decision, MoveStat

from .cli import UserError, add_common_args, emit, parse_key_values, run_main, seed_everything

PROTOCOL_VERSION = "2"
ENGINE_NAME = "rlengine"
ENGINE_VERSION = "0.1.0"
MIN_BOARD, MAX_BOARD = 5, 19
_STREAMED = object()  # a handler that wrote its own answer (analysis)
_COLOURS = {"b": 0, "black": 0, "w": 1, "white": 1}


class GtpFailure(Exception):
    """A command that cannot be carried out: answered ``? message``."""


# ------------------------------------------------------------------------------------------- input
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def preprocess(line: str) -> str:
    """One input line cleaned as GTP section 2.4 says: control characters other than tab removed, the text
    from ``#`` on cut, tabs turned into spaces, surrounding space stripped ("" for a line to ignore)."""
    line = _CONTROL.sub("", line.rstrip("\n"))
    line = line.split("#", 1)[0].replace("\t", " ")
    return line.strip()


def parse_command(line: str) -> tuple[str, str, list[str]]:
    """``(id, name, arguments)`` of a cleaned command line; ``id`` is "" when absent."""
    parts = line.split()
    cid = ""
    if parts and parts[0].isdigit():
        cid = parts.pop(0)
    name = parts[0].lower() if parts else ""
    return cid, name, parts[1:]


class Inbox:
    """Commands read by the input thread, waiting for the engine; ``pending`` tells an analysis to stop."""

    def __init__(self):
        self._lines: deque[str] = deque()
        self._ready = threading.Condition()
        self.closed = False

    def put(self, line: str) -> None:
        with self._ready:
            self._lines.append(line)
            self._ready.notify_all()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()

    def get(self) -> str | None:
        """The next command, waiting for it; None once the input has ended and nothing is left."""
        with self._ready:
            while not self._lines and not self.closed:
                self._ready.wait()
            return self._lines.popleft() if self._lines else None

    def pending(self) -> bool:
        """A command (or the end of the input) is waiting."""
        return bool(self._lines) or self.closed

    def wait_pending(self) -> None:
        with self._ready:
            while not self._lines and not self.closed:
                self._ready.wait()


def _fd_lines(fd: int):
    """Lines read from a file descriptor with ``os.read``: no buffered file object, whose lock a daemon thread
    blocked in a read would hold when the interpreter exits (a fatal error at shutdown)."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


def read_input(stream, inbox: Inbox) -> None:
    """The input thread: clean each line of ``stream`` (a file descriptor, or lines as bytes or text) and queue
    the non-empty ones."""
    try:
        for raw in (_fd_lines(stream) if isinstance(stream, int) else stream):
            text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
            line = preprocess(text)
            if line:
                inbox.put(line)
    except OSError:
        pass
    finally:
        inbox.close()


# ------------------------------------------------------------------------------------------- time
@dataclass
class Clock:
    """Canadian byo-yomi as ``time_settings`` gives it (absolute time: no byo-yomi; byo-yomi time with 0
    stones: no limit) and each colour's time left, from ``time_left`` or counted here when it is not sent."""

    main_time: float = 0.0
    byo_time: float = 1.0
    byo_stones: int = 0
    left: dict[int, list[float]] = field(default_factory=dict)  # colour -> [seconds, stones left in the period]

    @property
    def unlimited(self) -> bool:
        return self.byo_stones == 0 and self.byo_time > 0

    def reset(self) -> None:
        start = [self.main_time, 0] if self.main_time > 0 else [self.byo_time, self.byo_stones]
        self.left = {0: list(start), 1: list(start)}

    def allot(self, colour: int, ply: int, size: int, lag: float) -> float | None:
        """Seconds to think for ``colour``'s move at ``ply``; None without a time limit."""
        if self.unlimited:
            return None
        seconds, stones = self.left.get(colour, [self.main_time, 0])
        if stones > 0:  # in a byo-yomi period: share its time among its stones
            share = seconds / stones
        else:
            # main time over the moves still to come (a game lasts about 0.75 N^2 plies), plus part of a period
            own_moves_left = max(10.0, (0.75 * size * size - ply) / 2)
            share = seconds / own_moves_left
            if self.byo_stones > 0:
                share += 0.5 * self.byo_time / self.byo_stones
            share = min(share, seconds + (self.byo_time / self.byo_stones if self.byo_stones else 0.0))
        return max(0.05, share - lag)

    def spend(self, colour: int, seconds: float) -> None:
        """Count ``seconds`` used by ``colour`` (until the controller sends ``time_left`` again)."""
        if self.unlimited or colour not in self.left:
            return
        left = self.left[colour]
        left[0] -= seconds
        if left[1] > 0:
            left[1] -= 1
            if left[1] == 0 and left[0] > 0:  # the period is kept: a new one starts
                left[0], left[1] = self.byo_time, self.byo_stones
        elif left[0] <= 0 and self.byo_stones > 0:  # main time is over: byo-yomi starts
            left[0], left[1] = self.byo_time + left[0], self.byo_stones


# ------------------------------------------------------------------------------------------- engine
_HANDLERS: dict[str, str] = {}


def gtp_command(name: str):
    """Register a method as the handler of GTP command ``name``: ``handler(args) -> answer text``."""

    def register(fn):
        _HANDLERS[name] = fn.__name__
        return fn

    return register


@dataclass
class _Move:
    colour: int
    action: int
    comment: dict | None = None


PlayerFactory = Callable[[object, bool], tuple[Agent, str]]


class GtpEngine:
    """The protocol state machine: a Go game (board size, komi, moves), the agent that plays it and the clock.

    ``make_player(game, first) -> (agent, description)`` builds the agent of a game (called again when the
    board size or komi changes; ``first`` is True for the start-up game). ``execute(line)`` runs one command
    and returns its full answer (``serve`` reads stdin in a thread and writes to ``out``).
    """

    def __init__(self, make_player: PlayerFactory, size: int = 9, komi: float = 7.5, ko_rule: str = "positional",
                 max_moves: int | None = None, simulations: int | None = None, seconds: float | None = None,
                 resign_threshold: float = -0.9, resign_after: int | None = None, lag: float = 0.2,
                 max_tree_mb: float = 2048.0, out: TextIO | None = None, log: TextIO | None = None):
        self._make_player = make_player
        self.ko_rule, self.max_moves = ko_rule, max_moves
        self.simulations, self.seconds = simulations, seconds
        self.resign_threshold, self.resign_after = resign_threshold, resign_after
        self.lag, self.max_tree_mb = lag, max_tree_mb
        self.out = out if out is not None else sys.stdout
        self.log = log if log is not None else sys.stderr
        self.inbox = Inbox()
        self.clock = Clock()
        self.errors = 0
        self.commands = 0
        self.quit = False
        self._players: dict[tuple[int, float], tuple[Agent, str]] = {}
        self._write_lock = threading.Lock()
        self._new_game(size, komi, first=True)

    # ---------------------------------------------------------------------------------- game state
    def _new_game(self, size: int, komi: float, first: bool = False) -> None:
        from games.go import Go

        self.game = Go(size, komi, self.ko_rule, self.max_moves)
        key = (size, float(komi))
        if key not in self._players:
            self._players[key] = self._make_player(self.game, first)
        self.agent, self.player = self._players[key]
        self.start = self.game.initial_state()
        self.states = [self.start]
        self.moves: list[_Move] = []
        self.agent.reset()
        self.clock.reset()

    @property
    def state(self) -> np.ndarray:
        return self.states[-1]

    def _ready(self, state: np.ndarray, colour: int) -> tuple[np.ndarray, str | None]:
        """The position in which ``colour`` moves next: ``state`` itself; with a pass of the other colour
        when it is not ``colour``'s turn; rebuilt from the board (``colour`` to move) after the end of the game
        or when that pass would end it."""
        g = self.game
        if not g.is_terminal(state):
            if g.to_play(state) == colour:
                return state, None
            if g.passes(state) == 0 and g.moves_played(state) + 1 < g.max_game_length:
                return g.apply(state, g.pass_action), "pass"
        cells = g.board(state).ravel()
        return g.setup_state(np.flatnonzero(cells == 1), np.flatnonzero(cells == 2), to_play=colour), "rebuilt"

    def _play(self, colour: int, action: int, comment: dict | None = None, tell_agent: bool = True) -> None:
        """Play ``action`` for ``colour`` (GtpFailure if illegal) and tell the agent."""
        g = self.game
        before = self.state
        state, how = self._ready(before, colour)
        if action != g.pass_action:
            why = g.move_status(state, action)
            if why is not None:
                raise GtpFailure(f"illegal move: {g.format_move(state, action)} ({why})")
        after = g.apply(state, action)
        if tell_agent:
            if how == "pass":
                self.agent.observe(before, g.pass_action)
            elif how == "rebuilt":
                self.agent.reset()
            self.agent.observe(state, action)
        self.moves.append(_Move(colour, action, comment))
        self.states.append(after)

    def _replay(self, start: np.ndarray, moves: list[_Move]) -> None:
        self.start = start
        self.states = [start]
        self.moves = []
        self.agent.reset()
        for m in moves:
            self._play(m.colour, m.action, m.comment, tell_agent=False)

    # ---------------------------------------------------------------------------------- protocol
    def execute(self, line: str) -> str | None:
        """Run one command line (already cleaned, or raw: it is cleaned again) and return its full answer
        (``None`` for an empty line; streamed answers are written to ``out`` and give "")."""
        line = preprocess(line)
        if not line:
            return None
        cid, name, args = parse_command(line)
        self.commands += 1
        method = _HANDLERS.get(name)
        if method is None:
            self.errors += 1
            return f"?{cid} unknown command\n\n"
        self._cid = cid
        try:
            answer = getattr(self, method)(args)
        except GtpFailure as err:
            self.errors += 1
            return f"?{cid} {_one_paragraph(str(err))}\n\n"
        except Exception as err:  # a bug must not end the session: report it and go on
            self.errors += 1
            traceback.print_exc(file=self.log)
            return f"?{cid} internal error: {type(err).__name__}: {_one_paragraph(str(err))}\n\n"
        if answer is _STREAMED:
            return ""
        text = _one_paragraph(answer or "")
        if text.startswith("\n"):
            return f"={cid}{text}\n\n"
        return f"={cid} {text}\n\n" if text else f"={cid}\n\n"

    def write(self, text: str) -> None:
        with self._write_lock:
            self.out.write(text)
            self.out.flush()

    def diag(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    def serve(self, stream=None) -> None:
        """Answer commands from ``stream`` (default: the file descriptor of stdin) until ``quit`` or the end of
        the input."""
        stream = stream if stream is not None else sys.stdin.fileno()
        reader = threading.Thread(target=read_input, args=(stream, self.inbox), daemon=True, name="gtp-input")
        reader.start()
        while not self.quit:
            line = self.inbox.get()
            if line is None:
                break
            answer = self.execute(line)
            if answer:
                self.write(answer)

    def close(self) -> None:
        for agent, _ in self._players.values():
            agent.close()

    # ---------------------------------------------------------------------------------- arguments
    @staticmethod
    def _colour(text: str) -> int:
        c = _COLOURS.get(text.lower())
        if c is None:
            raise GtpFailure(f"syntax error: {text!r} is not a colour (b, w, black or white)")
        return c

    def _vertex(self, text: str) -> int:
        from games import IllegalMove
        from games.go import coords

        t = text.strip()
        if t.lower() == "pass":
            return self.game.pass_action
        try:
            return coords.from_gtp(t, self.game.size)  # case-insensitive; errors quote the vertex as written
        except IllegalMove as err:
            raise GtpFailure(f"syntax error: {err}") from None

    @staticmethod
    def _number(text: str, kind=float, what: str = "a number"):
        try:
            value = kind(text)
        except ValueError:
            raise GtpFailure(f"syntax error: {text!r} is not {what}") from None
        if isinstance(value, float) and not np.isfinite(value):
            raise GtpFailure(f"syntax error: {text!r} is not {what}")
        return value

    @staticmethod
    def _need(args: list[str], count: int, usage: str) -> None:
        if len(args) < count:
            raise GtpFailure(f"syntax error: usage {usage}")

    # ---------------------------------------------------------------------------------- administrative
    @gtp_command("protocol_version")
    def cmd_protocol_version(self, args):
        return PROTOCOL_VERSION

    @gtp_command("name")
    def cmd_name(self, args):
        return ENGINE_NAME

    @gtp_command("version")
    def cmd_version(self, args):
        return f"{ENGINE_VERSION} ({self.player})"

    @gtp_command("known_command")
    def cmd_known_command(self, args):
        self._need(args, 1, "known_command NAME")
        return "true" if args[0].lower() in _HANDLERS else "false"

    @gtp_command("list_commands")
    def cmd_list_commands(self, args):
        return "\n".join(sorted(_HANDLERS))

    @gtp_command("quit")
    def cmd_quit(self, args):
        self.quit = True
        return ""

    # ---------------------------------------------------------------------------------- setup
    @gtp_command("boardsize")
    def cmd_boardsize(self, args):
        self._need(args, 1, "boardsize SIZE")
        size = self._number(args[0], int, "an integer")
        if not MIN_BOARD <= size <= MAX_BOARD:
            raise GtpFailure("unacceptable size")
        if self.max_moves is not None and self.max_moves > 10 * size * size:
            raise GtpFailure(f"unacceptable size (the engine's max_moves {self.max_moves} is too long for it)")
        self._new_game(size, self.game.komi)
        return ""

    @gtp_command("clear_board")
    def cmd_clear_board(self, args):
        self._new_game(self.game.size, self.game.komi)
        return ""

    @gtp_command("komi")
    def cmd_komi(self, args):
        self._need(args, 1, "komi NUMBER")
        komi = self._number(args[0])
        if komi * 2 != round(komi * 2) or abs(komi) > 1000:
            raise GtpFailure(f"syntax error: komi must be a multiple of 0.5, got {args[0]}")
        if komi != self.game.komi:
            moves, start = self.moves, self.start
            size = self.game.size
            key = (size, float(komi))
            from games.go import Go

            self.game = Go(size, komi, self.ko_rule, self.max_moves)
            if key not in self._players:
                self._players[key] = self._make_player(self.game, False)
            self.agent, self.player = self._players[key]
            self._replay(start, moves)  # states keep their layout; the score of a finished game follows komi
        return ""

    @gtp_command("time_settings")
    def cmd_time_settings(self, args):
        self._need(args, 3, "time_settings MAIN_TIME BYO_YOMI_TIME BYO_YOMI_STONES")
        main, byo = self._number(args[0], int, "an integer"), self._number(args[1], int, "an integer")
        stones = self._number(args[2], int, "an integer")
        if min(main, byo, stones) < 0:
            raise GtpFailure("syntax error: times and stones must be >= 0")
        self.clock = Clock(float(main), float(byo), int(stones))
        self.clock.reset()
        return ""

    @gtp_command("time_left")
    def cmd_time_left(self, args):
        self._need(args, 3, "time_left COLOUR TIME STONES")
        colour = self._colour(args[0])
        seconds, stones = self._number(args[1]), self._number(args[2], int, "an integer")
        if seconds < 0 or stones < 0:
            raise GtpFailure("syntax error: time and stones must be >= 0")
        self.clock.left[colour] = [float(seconds), int(stones)]
        return ""

    # ---------------------------------------------------------------------------------- moves
    @gtp_command("play")
    def cmd_play(self, args):
        self._need(args, 2, "play COLOUR VERTEX")
        colour = self._colour(args[0])
        self._play(colour, self._vertex(args[1]))
        return ""

    @gtp_command("undo")
    def cmd_undo(self, args):
        if not self.moves:
            raise GtpFailure("cannot undo")
        self.moves.pop()
        self.states.pop()
        self.agent.undo()
        return ""

    def _budget(self, colour: int, state: np.ndarray) -> dict:
        """The search budget of a move: the clock's share, else --time, else --simulations (else the agent's)."""
        cap = self._simulation_cap()
        seconds = self.clock.allot(colour, self.game.moves_played(state), self.game.size, self.lag)
        if seconds is None:
            seconds = self.seconds
        if seconds is not None:
            return {"seconds": seconds, "simulations": cap}
        if self.simulations is not None:
            return {"simulations": min(self.simulations, cap)}
        return {}

    def _simulation_cap(self) -> int:
        """Simulations a search may add before its tree outgrows ``max_tree_mb`` (search agents only)."""
        search = getattr(self.agent, "search", None)
        tree = getattr(search, "tree", None)
        if tree is None:
            return 10**9
        arrays = [getattr(tree, f) for f in getattr(tree, "_fields", ())]
        per_node = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray) and a.ndim >= 2) / max(
            tree.visit_count.shape[1], 1)
        used = search.tree_size(0)
        return max(1, int(self.max_tree_mb * 2**20 / max(per_node, 1.0)) - used)

    def _decide(self, colour: int, cleanup: bool = False, progress=None) -> tuple[str, Decision | None]:
        """Search for ``colour`` and play the move: (GTP vertex or "resign", decision)."""
        g = self.game
        state, _ = self._ready(self.state, colour)
        budget = self._budget(colour, state)
        started = time.perf_counter()
        decision = self._choose(state, progress, budget)
        elapsed = time.perf_counter() - started
        self.clock.spend(colour, elapsed)
        action = int(decision.action)
        value = _move_value(decision)
        self._report(colour, state, decision, value, elapsed)
        if cleanup:
            action = self._cleanup_move(state, colour, decision)
        elif self._should_resign(state, value, decision):
            self.diag(f"resigning: value {value:+.3f} < {self.resign_threshold:+.3f}")
            return "resign", decision
        comment = {"visits": decision.info.get("visits", decision.info.get("simulations"))}
        if value is not None:
            comment["winrate"] = round((value + 1) / 2, 4)
        self._play(colour, action, comment)
        return g.format_move(state, action), decision

    def _choose(self, state, progress, budget: dict) -> Decision:
        """``agent.choose`` with the move's budget when the agent takes one (``Agent.choose``'s keywords)."""
        if budget and not _takes_budget(self.agent):
            if not getattr(self, "_budget_noted", False):
                self.diag(f"note: {self.player} takes no search budget: it searches its own number of simulations")
                self._budget_noted = True
            budget = {}
        return self.agent.choose(state, progress, **budget)

    def _should_resign(self, state, value: float | None, decision: Decision) -> bool:
        if decision.resign:
            return True
        if value is None or self.resign_threshold <= -1:
            return False
        after = self.resign_after if self.resign_after is not None else self.game.size * self.game.size // 4
        return self.game.moves_played(state) >= after and len(self.moves) >= after and value < self.resign_threshold

    def _cleanup_move(self, state, colour: int, decision: Decision) -> int:
        """KGS clean-up: no pass while any move other than filling one's own eye remains (dead stones get
        captured); the search's most visited such move, else the first such move by prior."""
        from games.go import rules

        g = self.game
        action = int(decision.action)
        if action != g.pass_action:
            return action
        board = state[int(g.params[rules.P_BOARD]): int(g.params[rules.P_BOARD]) + g.size * g.size]

        def fine(a: int) -> bool:
            return a != g.pass_action and g.move_status(state, a) is None and \
                not rules.is_own_eye(g.params, board, a, colour)

        for stat in decision.top:
            if fine(stat.action):
                return int(stat.action)
        for a in g.legal_actions(state):
            if fine(a):
                return a
        return g.pass_action

    def _report(self, colour, state, decision: Decision, value, elapsed) -> None:
        g = self.game
        line = [f"{'BW'[colour]} {g.format_move(state, decision.action)}"]
        if "visits" in decision.info:
            line.append(f"visits {decision.info['visits']}")
        if value is not None:
            line.append(f"winrate {50 * (value + 1):.1f}%")
        line.append(f"{elapsed:.2f}s")
        if decision.top:
            line.append("| " + " ".join(f"{g.format_move(state, m.action)}:{m.visits}" for m in decision.top[:5]))
        self.diag(" ".join(line))

    @gtp_command("genmove")
    def cmd_genmove(self, args):
        self._need(args, 1, "genmove COLOUR")
        vertex, _ = self._decide(self._colour(args[0]))
        return vertex

    @gtp_command("kgs-genmove_cleanup")
    def cmd_kgs_genmove_cleanup(self, args):
        self._need(args, 1, "kgs-genmove_cleanup COLOUR")
        vertex, _ = self._decide(self._colour(args[0]), cleanup=True)
        return vertex

    # ---------------------------------------------------------------------------------- display and scoring
    @gtp_command("showboard")
    def cmd_showboard(self, args):
        return "\n" + self.game.render(self.state)

    @gtp_command("final_score")
    def cmd_final_score(self, args):
        from games.go import format_score

        return format_score(self.game.score(self.state))

    @gtp_command("final_status_list")
    def cmd_final_status_list(self, args):
        self._need(args, 1, "final_status_list alive|dead|seki")
        status = args[0].lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpFailure(f"syntax error: status {args[0]!r} is not alive, dead or seki")
        if status != "alive":
            return ""  # Tromp-Taylor: every stone on the board is alive (and seki is not told apart)
        return "\n".join(" ".join(self.game.format_move(self.state, p) for p in group)
                         for group in _groups(self.game.board(self.state)))

    # ---------------------------------------------------------------------------------- SGF
    @gtp_command("loadsgf")
    def cmd_loadsgf(self, args):
        from games.go import Go, read_sgf

        self._need(args, 1, "loadsgf FILENAME [MOVE_NUMBER]")
        move_number = self._number(args[1], int, "an integer") if len(args) > 1 else None
        try:
            text = Path(args[0]).read_text(encoding="utf-8", errors="replace")
            sgf = read_sgf(text, alternate=False)
        except (OSError, ValueError) as err:
            raise GtpFailure(f"cannot load file: {err}") from None
        komi = sgf.komi if sgf.komi is not None else self.game.komi
        saved = (self.game, self.agent, self.player, self.start, self.states, self.moves)
        try:
            self._new_game(sgf.size, komi)
            game: Go = self.game
            start = (game.setup_state(sgf.setup_black, sgf.setup_white, to_play=sgf.to_play)
                     if sgf.has_setup else game.initial_state())
            moves = sgf.moves if move_number is None else sgf.moves[: max(move_number - 1, 0)]
            self._replay(start, [_Move(c, a) for c, a in moves])
        except (ValueError, GtpFailure) as err:
            self.game, self.agent, self.player, self.start, self.states, self.moves = saved
            raise GtpFailure(f"cannot load file: {err}") from None
        return ""

    def sgf_text(self) -> str:
        from games.go import rules, write_sgf

        g = self.game
        cells = g.board(self.start).ravel()
        black, white = np.flatnonzero(cells == rules.BLACK), np.flatnonzero(cells == rules.WHITE)
        first = g.to_play(self.start)
        to_play = first if (len(black) or len(white) or first) else None
        result = g.result_string(self.state) if g.is_terminal(self.state) else ""
        return write_sgf(g.size, g.komi, [(m.colour, m.action) for m in self.moves], result=result,
                         comments=[m.comment for m in self.moves], setup_black=black, setup_white=white,
                         to_play=to_play, rules="Tromp-Taylor", game_comment=f"{ENGINE_NAME} GTP: {self.player}")

    @gtp_command("printsgf")
    def cmd_printsgf(self, args):
        text = self.sgf_text()
        if args:
            try:
                Path(args[0]).write_text(text, encoding="utf-8")
            except OSError as err:
                raise GtpFailure(f"cannot write file: {err}") from None
            return ""
        return "\n" + text.strip()

    # ---------------------------------------------------------------------------------- analysis
    def _analyze_tags(self, args: list[str]) -> dict:
        """``[colour] [interval] [interval N] [minmoves N] [maxmoves N]`` (Leela Zero's order)."""
        tags = {"colour": None, "interval": 0.0, "minmoves": 0, "maxmoves": 0}
        i = 0
        while i < len(args):
            t = args[i].lower()
            if t in _COLOURS and tags["colour"] is None and i == 0:
                tags["colour"] = _COLOURS[t]
            elif re.fullmatch(r"\d+", t):
                tags["interval"] = int(t) / 100
            elif t in ("interval", "minmoves", "maxmoves") and i + 1 < len(args):
                n = self._number(args[i + 1], int, "an integer")
                if n < 0:
                    raise GtpFailure(f"syntax error: {t} must be >= 0")
                tags[t] = n / 100 if t == "interval" else n
                i += 1
            elif t in ("avoid", "allow"):
                raise GtpFailure(f"cannot parse analyze tags: {t} is not supported")
            else:
                raise GtpFailure(f"cannot parse analyze tags: {args[i]!r}")
            i += 1
        return tags

    def _info_line(self, state, top: list[MoveStat], maxmoves: int) -> str:
        g = self.game
        parts = []
        for order, m in enumerate(top[: maxmoves or None]):
            pv = " ".join(g.format_move(state, a) for a in (m.pv or [m.action]))
            parts.append(f"info move {g.format_move(state, m.action)} visits {m.visits} "
                         f"winrate {int(round(5000 * (m.value + 1)))} prior {int(round(10000 * m.prior))} "
                         f"order {order} pv {pv}")
        return " ".join(parts)

    def _streamer(self, state, tags, stop_on_input: bool):
        """A progress callback that writes an info line every ``interval`` and stops on the next command."""
        interval = tags["interval"]
        due = [time.monotonic() + interval]

        def progress(info: dict) -> bool:
            now = time.monotonic()
            if interval > 0 and now >= due[0]:
                top = info.get("top")
                if top is None and hasattr(self.agent, "search"):  # a search agent that reports no moves
                    from agents.mcts import top_moves

                    top = top_moves(self.agent.search, k=max(10, tags["maxmoves"]))
                if top:
                    self.write(self._info_line(state, top, tags["maxmoves"]) + "\n")
                    due[0] = now + interval
            return stop_on_input and self.inbox.pending()

        return progress

    def _tune_report(self, tags) -> None:
        if hasattr(self.agent, "report_moves"):
            self.agent.report_moves = max(10, tags["minmoves"], tags["maxmoves"])

    @gtp_command("lz-analyze")
    def cmd_lz_analyze(self, args):
        tags = self._analyze_tags(args)
        colour = tags["colour"] if tags["colour"] is not None else self._side_to_move()
        state, _ = self._ready(self.state, colour)
        self.write(f"={self._cid}\n")
        self._tune_report(tags)
        try:
            progress = self._streamer(state, tags, stop_on_input=True)
            while not self.inbox.pending():
                cap = self._simulation_cap()
                if cap <= 1:  # the tree is as large as allowed: wait for the next command
                    self.inbox.wait_pending()
                    break
                self._choose(state, progress, {"simulations": cap})
        finally:
            self.write("\n")
        return _STREAMED

    @gtp_command("lz-genmove_analyze")
    def cmd_lz_genmove_analyze(self, args):
        tags = self._analyze_tags(args)
        if tags["colour"] is None:
            raise GtpFailure("syntax error: usage lz-genmove_analyze COLOUR [INTERVAL]")
        state, _ = self._ready(self.state, tags["colour"])
        self.write(f"={self._cid}\n")
        self._tune_report(tags)
        try:
            vertex, _ = self._decide(tags["colour"], progress=self._streamer(state, tags, stop_on_input=False))
            self.write(f"play {vertex}\n")
        except GtpFailure as err:
            self.diag(f"lz-genmove_analyze failed: {err}")
        finally:
            self.write("\n")
        return _STREAMED

    def _side_to_move(self) -> int:
        g = self.game
        if self.moves and g.is_terminal(self.state):
            return 1 - self.moves[-1].colour
        return g.to_play(self.state)


def _takes_budget(agent: Agent) -> bool:
    try:
        params = inspect.signature(agent.choose).parameters
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in params.values()) or {"simulations", "seconds"} <= set(params)


def _move_value(decision: Decision) -> float | None:
    """The value of the chosen move (mover's view): its search value, else the root's."""
    for m in decision.top:
        if m.action == decision.action and m.visits > 0:
            return float(m.value)
    return None if decision.value is None else float(decision.value)


def _one_paragraph(text: str) -> str:
    """A GTP answer may not contain an empty line (it ends the answer)."""
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text.rstrip("\n")


def _groups(board: np.ndarray) -> list[list[int]]:
    """The stones of ``board`` (N x N, 0 empty) as connected groups of actions."""
    n = board.shape[0]
    cells = board.ravel()
    seen = np.zeros(n * n, bool)
    out = []
    for p in range(n * n):
        if cells[p] == 0 or seen[p]:
            continue
        group, stack = [], [p]
        seen[p] = True
        while stack:
            q = stack.pop()
            group.append(q)
            r, c = divmod(q, n)
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                t = rr * n + cc
                if 0 <= rr < n and 0 <= cc < n and not seen[t] and cells[t] == cells[p]:
                    seen[t] = True
                    stack.append(t)
        out.append(sorted(group))
    return out


# ------------------------------------------------------------------------------------------- players
def player_factory(checkpoint: str | None, simulations: int | None, seed: int, log: TextIO) -> PlayerFactory:
    """Builds the agent of a game: the AlphaZero agent (``checkpoint``, else the network shipped for the board
    size), else pure MCTS with a notice on stderr. A checkpoint that cannot be loaded for the start-up board
    is an error; for another board size the engine falls back to pure MCTS."""

    def make(game, first: bool) -> tuple[Agent, str]:
        kwargs = {"seed": seed}
        if simulations is not None:
            kwargs["simulations"] = simulations
        spec = "alphazero" + (f":{checkpoint}" if checkpoint else "")
        try:
            agent = agents_mod.make(spec, game, **kwargs)
            return agent, f"alphazero {checkpoint or 'shipped'} {game.size}x{game.size}"
        except (ValueError, FileNotFoundError, OSError, KeyError, RuntimeError, UserError) as err:
            if checkpoint and first:
                raise UserError(f"--checkpoint {checkpoint}: {err}") from None
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        agent = agents_mod.make("mcts", game, **kwargs)
        print(f"notice: no network for {game.size}x{game.size} ({reason}); playing pure MCTS ({agent.name}, "
              "random playouts)", file=log, flush=True)
        return agent, f"{agent.name} {game.size}x{game.size}"

    return make


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m engine.gtp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=None,
                   help="AlphaZero checkpoint (default: the one shipped for the board size, else pure MCTS)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--simulations", type=int, default=None,
                        help="simulations per move (default: the agent's own, 1000 for pure MCTS)")
    budget.add_argument("--time", type=float, default=None, help="seconds per move (GTP time settings override it)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="start-up game: size=9 (5..19), komi=7.5, ko_rule=positional, max_moves=N")
    p.add_argument("--resign-threshold", type=float, default=-0.9,
                   help="resign when the chosen move's value (-1 lost .. +1 won) is below this; -1 never resigns")
    p.add_argument("--resign-after", type=int, default=None,
                   help="never resign before this many moves (default: a quarter of the board's points)")
    p.add_argument("--lag", type=float, default=0.2, help="seconds kept back per move for the controller's lag")
    p.add_argument("--max-tree-mb", type=float, default=2048.0,
                   help="memory bound of the search tree (analysis stops growing it there)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.simulations is not None and args.simulations < 1:
        raise UserError(f"--simulations must be >= 1, got {args.simulations}")
    if args.time is not None and args.time <= 0:
        raise UserError(f"--time must be > 0, got {args.time}")
    if not -1.0 <= args.resign_threshold <= 1.0:
        raise UserError(f"--resign-threshold must be in [-1, 1], got {args.resign_threshold}")
    options = parse_key_values(args.game_option, "game option")
    unknown = sorted(set(options) - {"size", "komi", "ko_rule", "max_moves"})
    if unknown:
        raise UserError(f"game option {', '.join(unknown)} is not known; the options are size, komi, ko_rule, "
                        "max_moves")
    seed_everything(args.seed)
    from .cli import pin_threads

    pin_threads(1)
    log = sys.stderr
    try:
        engine = GtpEngine(player_factory(args.checkpoint, args.simulations, args.seed, log),
                           size=options.get("size", 9), komi=options.get("komi", 7.5),
                           ko_rule=options.get("ko_rule", "positional"), max_moves=options.get("max_moves"),
                           simulations=args.simulations, seconds=args.time, resign_threshold=args.resign_threshold,
                           resign_after=args.resign_after, lag=args.lag, max_tree_mb=args.max_tree_mb,
                           out=sys.stdout, log=log)
    except (ValueError, TypeError) as err:
        raise UserError(str(err)) from None
    print(f"{ENGINE_NAME} GTP engine ready: {engine.player}", file=log, flush=True)
    try:
        engine.serve()
    finally:
        engine.close()
    if args.json:
        emit({"commands": engine.commands, "errors": engine.errors, "player": engine.player}, True)


if __name__ == "__main__":
    run_main(main)
