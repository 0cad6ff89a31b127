"""External UCI chess engines as players: ``agents.make("uci:COMMAND[;NAME=VALUE...]", chess)``.

The spec after ``uci:`` is the command line (split like a shell does), then ``;``-separated settings: ``movetime``
(milliseconds per move), ``nodes``, ``depth`` (the ``go`` limits; ``movetime=100`` when none is given),
``timeout`` (seconds to wait beyond the limit, 10 by default, and at least that long for the program to start)
and anything else as a UCI option, for example::

    agents.make("uci:/usr/games/stockfish;Skill Level=0;movetime=100", chess)
    agents.make("uci:/usr/games/stockfish;UCI_LimitStrength=true;UCI_Elo=1350;nodes=20000", chess)
    python -m engine.arena chess mcts-material:800 "uci:/usr/games/stockfish;Skill Level=0" --games 20

The player starts the program, checks the options against what its ``uci`` answer declares, and for each move
sends ``position`` (the start position and every move since, so the engine sees repetitions) and ``go``, then
reads ``bestmove`` and the last ``info`` (score, depth, nodes, principal variation) into the ``Decision``
(``score cp`` becomes a value by ``games.chess.score.cp_to_value``). A program that dies, breaks the protocol,
plays an illegal move or does not answer in time raises ``AgentError`` naming the program, the position and
its last words on stderr. ``close()`` sends ``quit`` and ends the process.
"""

from __future__ import annotations

import queue
import shlex
import subprocess
import threading
import time
from collections import deque

import numpy as np

from games import IllegalMove
from games.chess.score import cp_to_value

from .base import Agent, AgentError, Decision

GO_SETTINGS = ("movetime", "nodes", "depth")
DEFAULT_MOVETIME_MS = 100


class UCIPlayer(Agent):
    """A UCI engine in a subprocess, playing through ``position`` / ``go`` / ``bestmove``.

    ``options``: UCI options to set (name -> value; names as the engine declares them, case-insensitive).
    ``movetime`` (ms), ``nodes``, ``depth``: the ``go`` limits (``movetime`` 100 when none is given).
    ``timeout``: seconds to wait for an answer beyond the time the limit implies.
    """

    batched = False  # one external process holds one game

    def __init__(self, game, command: str | list[str], options: dict | None = None, movetime: int | None = None,
                 nodes: int | None = None, depth: int | None = None, timeout: float = 10.0,
                 name: str | None = None, startup_timeout: float = 30.0):
        super().__init__(game)
        if not getattr(game, "name", "").startswith("chess"):
            raise ValueError(f"UCI players play chess, not {game.name}")
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ValueError("uci: the command line is empty (write uci:/path/to/engine)")
        self.name = name or f"uci:{self.argv[0]}"
        self.limits = {k: v for k, v in (("movetime", movetime), ("nodes", nodes), ("depth", depth)) if v is not None}
        for k, v in self.limits.items():
            if int(v) < 1:
                raise ValueError(f"uci: {k} must be at least 1, got {v}")
        if not self.limits:
            self.limits = {"movetime": DEFAULT_MOVETIME_MS}
        self.timeout = float(timeout)
        self._stderr: deque[str] = deque(maxlen=20)
        self._lines: queue.Queue[str | None] = queue.Queue()
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, bufsize=1)
        except OSError as err:
            raise FileNotFoundError(f"cannot start UCI engine {self.argv[0]!r}: {err.strerror or err}") from None
        threading.Thread(target=self._read, args=(self.process.stdout, self._lines), daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        try:
            self.engine_name, self.declared = self._handshake(startup_timeout)
            for key, value in (options or {}).items():
                self.set_option(key, value)
            self._sync(max(startup_timeout, self.timeout))
        except BaseException:
            self.close()
            raise
        self.start: np.ndarray | None = None
        self.moves: list[str] = []
        self.states: list[np.ndarray] = []

    # ------------------------------------------------------------------------------------------- process
    @staticmethod
    def _read(stream, lines) -> None:
        for line in stream:
            lines.put(line.rstrip("\r\n"))
        lines.put(None)  # end of output: the process is gone

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr.append(line.rstrip())

    def _send(self, line: str) -> None:
        if self.process.poll() is not None:
            raise self._dead()
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._dead() from None

    def _dead(self) -> AgentError:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        else:
            self._stderr_reader.join(timeout=1)  # its last words may still be in the pipe
        said = "; its last words on stderr: " + " | ".join(self._stderr) if self._stderr else ""
        status = "exited" if code is None else f"exited with status {code}"
        return AgentError(f"UCI engine {self.name} {status}{said}")

    def _expect(self, predicate, seconds: float, waiting_for: str) -> list[str]:
        """Lines up to and including the first one for which ``predicate`` holds."""
        deadline = time.monotonic() + seconds
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AgentError(f"UCI engine {self.name} did not send {waiting_for} within {seconds:.1f} s")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._lines.put(None)
                raise self._dead()
            seen.append(line)
            if predicate(line):
                return seen

    def _handshake(self, seconds: float) -> tuple[str, dict[str, str]]:
        self._send("uci")
        lines = self._expect(lambda x: x.strip() == "uciok", seconds, "uciok")
        name, declared = self.argv[0], {}
        for line in lines:
            tokens = line.split()
            if tokens[:2] == ["id", "name"]:
                name = " ".join(tokens[2:])
            elif tokens[:2] == ["option", "name"] and "type" in tokens:
                cut = tokens.index("type")
                declared[" ".join(tokens[2:cut]).lower()] = " ".join(tokens[2:cut])
        return name, declared

    def _sync(self, seconds: float) -> None:
        self._send("isready")
        self._expect(lambda x: x.strip() == "readyok", seconds, "readyok")

    def set_option(self, name: str, value) -> None:
        """``setoption``; an option the engine does not declare is a ``ValueError`` listing those it does."""
        key = self.declared.get(str(name).lower())
        if key is None:
            raise ValueError(f"UCI engine {self.engine_name} has no option {name!r}; it has: "
                             f"{', '.join(sorted(self.declared.values()))}")
        if isinstance(value, bool):
            value = "true" if value else "false"
        self._send(f"setoption name {key} value {value}")

    # ------------------------------------------------------------------------------------------- the game
    def reset(self, games: int = 1) -> None:
        if games != 1:
            raise ValueError(f"{self.name} is an external program: it plays one game at a time")
        self.start, self.moves, self.states = None, [], []
        self._send("ucinewgame")
        self._sync(self.timeout)

    def observe(self, state, action, game=None) -> None:
        if self.start is None:
            self.start, self.states = state.copy(), [state.copy()]
        elif not np.array_equal(self.states[-1], state):
            # a position we did not follow: start the record from here
            self.start, self.moves, self.states = state.copy(), [], [state.copy()]
        self.moves.append(self.game.format_uci(state, int(action)))
        self.states.append(self.game.apply(state, int(action)))

    def undo(self) -> None:
        if self.moves:
            self.moves.pop()
            self.states.pop()

    def _position_command(self, state) -> str:
        if self.start is None or not np.array_equal(self.states[-1], state):
            self.start, self.moves, self.states = state.copy(), [], [state.copy()]
        fen = self.game.to_fen(self.start)
        head = "position startpos" if fen == self.game.to_fen(self.game.initial_state()) else f"position fen {fen}"
        return head + (" moves " + " ".join(self.moves) if self.moves else "")

    def choose(self, state, progress=None) -> Decision:
        if self.game.is_terminal(state):
            raise IllegalMove(f"the game is over ({self.game.termination(state)}): nothing to choose")
        self._send(self._position_command(state))
        self._send("go " + " ".join(f"{k} {int(v)}" for k, v in self.limits.items()))
        wait = self.timeout + self.limits.get("movetime", 0) / 1000
        try:
            lines = self._expect(lambda x: x.startswith("bestmove"), wait, "bestmove")
        except AgentError:
            if self.process.poll() is not None:
                raise
            self._send("stop")  # over time: ask for the move it has
            lines = self._expect(lambda x: x.startswith("bestmove"), max(1.0, min(5.0, self.timeout)),
                                 "bestmove after stop")
        tokens = lines[-1].split()
        text = tokens[1] if len(tokens) > 1 else ""
        fen = self.game.to_fen(state)
        try:
            action = self.game.parse_uci(state, text)
        except IllegalMove as err:
            raise AgentError(f"UCI engine {self.name} answered {lines[-1]!r} in {fen}: {err}") from None
        info = _last_info(lines)
        value = None
        if "mate" in info:
            value = 1.0 if info["mate"] > 0 else -1.0
        elif "cp" in info:
            value = cp_to_value(info["cp"])
        return Decision(action, value=value, info=info)

    def close(self) -> None:
        process = getattr(self, "process", None)
        if process is None or process.poll() is not None:
            return
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
        except OSError:
            pass
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _last_info(lines: list[str]) -> dict:
    """Score, depth, nodes and principal variation of the last ``info`` lines before ``bestmove``."""
    out: dict = {}
    for line in lines:
        tokens = line.split()
        if not tokens or tokens[0] != "info" or "string" in tokens[:2]:
            continue
        if "multipv" in tokens and tokens[tokens.index("multipv") + 1:][:1] not in (["1"], []):
            continue
        i = 1
        while i < len(tokens):
            key = tokens[i]
            if key in ("depth", "seldepth", "nodes", "nps", "time") and i + 1 < len(tokens):
                out[key] = _int(tokens[i + 1])
                i += 2
            elif key == "score" and i + 2 < len(tokens):
                kind, value = tokens[i + 1], _int(tokens[i + 2])
                out.pop("cp", None)
                out.pop("mate", None)
                if kind in ("cp", "mate") and value is not None:
                    out[kind] = value
                i += 3
            elif key == "pv":
                out["pv"] = tokens[i + 1:]
                break
            else:
                i += 1
    return out


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_spec(arg: str) -> tuple[str, dict, dict]:
    """``COMMAND;NAME=VALUE;...`` -> (command, go settings and timeout, UCI options)."""
    parts = [p.strip() for p in str(arg).split(";")]
    command, settings, options = parts[0], {}, {}
    for part in parts[1:]:
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"uci: setting {part!r} must be written NAME=VALUE (e.g. Skill Level=0, movetime=100)")
        key, value = (x.strip() for x in part.split("=", 1))
        if key.lower() in GO_SETTINGS:
            try:
                settings[key.lower()] = int(value)
            except ValueError:
                raise ValueError(f"uci: {key} takes an integer, got {value!r}") from None
        elif key.lower() == "timeout":
            try:
                settings["timeout"] = float(value)
            except ValueError:
                raise ValueError(f"uci: timeout takes seconds, got {value!r}") from None
        else:
            options[key] = value
    return command, settings, options


def make_uci_player(game, arg, seed=None, simulations=None, options=None, **kwargs):
    """``uci:COMMAND[;NAME=VALUE...]`` (see the module docstring); keyword ``options``, ``movetime``, ``nodes``,
    ``depth`` and ``timeout`` add to the spec. ``simulations`` (the arena's budget of search players) is not a UCI
    notion and is ignored."""
    if not arg:
        raise ValueError("uci needs a command, e.g. uci:/usr/games/stockfish")
    command, settings, spec_options = parse_spec(arg)
    settings.update({k: v for k, v in kwargs.items() if k in GO_SETTINGS + ("timeout",) and v is not None})
    spec_options.update(options or {})
    if "timeout" in settings:  # a slow starter (a network compiling its search) gets as long to start too
        settings["startup_timeout"] = max(30.0, settings["timeout"])
    return UCIPlayer(game, command, options=spec_options, name=f"uci:{arg}", **settings)
