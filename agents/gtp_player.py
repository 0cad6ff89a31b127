"""External Go programs as players, over the Go Text Protocol (GTP v2, G. Farnebäck 2002).

    agents.make("gtp:/usr/games/gnugo --mode gtp --level 1 --chinese-rules", games.make("go", size=9))

The program is started once; each game sets its board size and komi and clears the board (``reset``), every
move of either side is relayed with ``play`` (``observe``) and the program's own moves come from ``genmove``
(``choose``). Its ``resign`` becomes a resigning ``Decision``. A move the program makes that breaks this
engine's positional superko (GNU Go checks simple ko only) is taken back with ``undo`` and replaced by a pass,
with a note on stderr; any other illegal move, a ``?`` answer, a program that dies or stays silent longer than
``timeout`` seconds raises ``AgentError`` naming the program, the command and the last lines of its stderr.
``final_score()`` asks the program to score the position (``engine.arena --final-score``). ``close()`` sends
``quit`` and ends the process.
"""

from __future__ import annotations

import queue
import shlex
import subprocess
import sys
import threading
from collections import deque

import numpy as np

from .base import Agent, AgentError, Decision

_EOF = object()


class GtpPlayer(Agent):
    """A GTP program playing Go through the Agent interface (see the module docstring)."""

    batched = False  # one external process holds one game

    def __init__(self, game, command: str, timeout: float = 60.0, log=None):
        super().__init__(game)
        if not hasattr(game, "pass_action") or not hasattr(game, "komi") or game.name[:2] != "go":
            raise ValueError(f"gtp players play Go, not {game.name}")
        self.argv = shlex.split(command)
        if not self.argv:
            raise ValueError("gtp: give the command line of a GTP program, e.g. "
                             "gtp:/usr/games/gnugo --mode gtp --level 1")
        self.command = command
        self.timeout = float(timeout)
        self.log = log if log is not None else sys.stderr
        self.name = f"gtp:{self.argv[0]}"
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, bufsize=1, encoding="utf-8",
                                         errors="replace")
        except OSError as err:
            raise ValueError(f"cannot start {self.argv[0]!r}: {err.strerror or err}"
                             + (" (GNU Go installs as /usr/games/gnugo)" if "gnugo" in self.argv[0] else "")) from None
        self._lines: queue.Queue = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=20)
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        self._closed = False
        self._broken = False
        self._state: np.ndarray | None = None  # the position the program has, None when unknown
        self._own: tuple[np.ndarray, int] | None = None  # its last generated move, not to be relayed back
        try:
            version = self.send("protocol_version", timeout=max(self.timeout, 600.0))  # start-up: loading, compiling
            if version.strip() != "2":
                print(f"note: {self.command!r} speaks GTP version {version.strip()!r}, expected 2", file=self.log)
            self.program = " ".join(x for x in (self.send("name"), self.send("version")) if x)
        except AgentError:
            self.close()
            raise
        self.name = f"gtp:{self.program or self.argv[0]}"

    # ------------------------------------------------------------------------------------- process
    @staticmethod
    def _pump(stream, lines: queue.Queue) -> None:
        try:
            for line in stream:
                lines.put(line)
        except (OSError, ValueError):
            pass
        lines.put(_EOF)

    def _drain(self, stream) -> None:
        try:
            for line in stream:
                self._stderr.append(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    def _failure(self, what: str, broken: bool = True) -> AgentError:
        if broken:
            self._broken = True  # its state is unknown now: close() ends it without asking
        tail = " | ".join(x for x in self._stderr if x.strip())[-600:]
        return AgentError(f"GTP program {self.command!r}: {what}" + (f"; its stderr: {tail}" if tail else ""))

    def send(self, command: str, timeout: float | None = None) -> str:
        """Send one command and return the answer's text; ``AgentError`` on ``?``, death or silence."""
        if self._closed:
            raise AgentError(f"GTP program {self.command!r} was closed")
        if self.proc.poll() is not None:
            raise self._failure(f"exited with status {self.proc.returncode} before {command!r}")
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._failure(f"died (could not send {command!r})") from None
        limit = self.timeout if timeout is None else timeout
        answer: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=limit)
            except queue.Empty:
                raise self._failure(f"no answer to {command!r} within {limit:g} s") from None
            if line is _EOF:
                self.proc.wait(timeout=5)
                raise self._failure(f"exited with status {self.proc.returncode} while answering {command!r}")
            line = line.replace("\r", "").rstrip("\n")
            if not answer:
                if not line.strip():
                    continue  # blank lines before an answer
                if line[0] not in "=?":
                    raise self._failure(f"answered {command!r} with {line!r}, not '=' or '?' (not a GTP engine?)")
            elif not line.strip():
                break
            answer.append(line)
        head = answer[0]
        body = head[1:].lstrip("0123456789")  # an id, if the program echoes one
        text = "\n".join([body.strip()] + answer[1:]).strip()
        if head[0] == "?":
            raise self._failure(f"refused {command!r}: {text or '(no message)'}", broken=False)
        return text

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self.proc.poll() is None and not self._broken:
                self.send("quit", timeout=30)
        except AgentError:
            pass
        self._closed = True
        if self._broken and self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=30)  # a loaded machine takes seconds to shut an interpreter with torch down
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def __del__(self):
        try:
            if not self._closed and self.proc.poll() is None:
                self.proc.kill()
        except Exception:  # interpreter shutdown: nothing left to do
            pass

    # ------------------------------------------------------------------------------------- game
    def _colour(self, state) -> str:
        return "BW"[self.game.to_play(state)]

    def _vertex(self, state, action: int) -> str:
        return self.game.format_move(state, action)

    def reset(self, games: int = 1) -> None:
        if games != 1:
            raise ValueError(f"{self.name} is an external program: it plays one game at a time")
        g = self.game
        self.send(f"boardsize {g.size}")
        self.send(f"komi {g.komi:g}")
        self.send("clear_board")
        self._state = g.initial_state()
        self._own = None

    def _sync(self, state) -> None:
        """Give the program ``state`` when it has another position: the stones are put on a cleared board
        (any order is legal for a legal position; the ko and superko history are lost)."""
        if self._state is not None and np.array_equal(self._state, state):
            return
        g = self.game
        self.send("clear_board")
        cells = g.board(state).ravel()
        for colour, value in (("B", 1), ("W", 2)):
            for p in np.flatnonzero(cells == value):
                self.send(f"play {colour} {g.format_move(state, int(p))}")
        self._state = state.copy()

    def observe(self, state, action, game=None) -> None:
        if self._own is not None and self._own[1] == action and np.array_equal(self._own[0], state):
            self._own = None  # its own move: the program has played it already
            return
        self._own = None
        if self._state is None or not np.array_equal(self._state, state):
            self._state = None  # out of step: the next choose sets the position up
            return
        self.send(f"play {self._colour(state)} {self._vertex(state, int(action))}")
        self._state = self.game.apply(state, int(action))

    def undo(self) -> None:
        self._state = None

    def choose(self, state, progress=None, **budget) -> Decision:
        from games import IllegalMove
        from games.go import coords

        g = self.game
        self._sync(state)
        colour = self._colour(state)
        reply = self.send(f"genmove {colour}", timeout=max(self.timeout, 600.0))
        word = reply.split()[0].lower() if reply.split() else ""
        if word == "resign":
            self._own = None
            return Decision(g.pass_action, resign=True, info={"reply": reply})
        try:
            action = coords.from_gtp(word, g.size)
        except IllegalMove:
            raise self._failure(f"answered 'genmove {colour}' with {reply!r}, not a move") from None
        info = {"reply": reply}
        why = g.move_status(state, action)
        if why is not None:
            if "superko" not in why:
                raise self._failure(f"played {reply!r}, illegal here: {why}\n{g.render(state)}")
            # GNU Go knows simple ko only: take the move back and pass instead
            self.send("undo")
            self.send(f"play {colour} pass")
            print(f"note: {self.name} played {reply} (illegal: {why}); passing instead", file=self.log)
            info["replaced"] = reply
            action = g.pass_action
        self._state = g.apply(state, action)
        self._own = (state.copy(), action)
        return Decision(int(action), info=info)

    def final_score(self, state=None) -> str:
        """The program's own score of ``state`` (default: the position it has), e.g. ``B+3.5``."""
        if state is not None:
            self._sync(state)
        return self.send("final_score").split("\n")[0].strip()


def make_gtp_player(game, arg, timeout: float = 60.0, **_):
    """``gtp:COMMAND``: the GTP program started by ``COMMAND`` (split like a shell command line)."""
    if not arg:
        raise ValueError("gtp: give the command line of a GTP program, e.g. gtp:/usr/games/gnugo --mode gtp --level 1")
    return GtpPlayer(game, arg, timeout=timeout)
