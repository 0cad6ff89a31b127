"""A UCI chess engine over the search agents: ``python -m engine.uci [--checkpoint C] [--seed S]``.

UCI (the Universal Chess Interface, Kahlen and Huber 2000, "Description of the universal chess interface")
is the line protocol between chess GUIs (Cute Chess, Arena, Banksia, python-chess) and engines. Supported:

* ``uci`` (``id``, the options below, ``uciok``), ``isready`` (``readyok``, answered while searching),
  ``ucinewgame``, ``setoption name N [value V]`` (names are case-insensitive; an unknown option or a bad
  value is reported on stderr and ignored), ``debug on|off``, ``register`` (nothing to register), ``quit``;
* ``position startpos|fen FEN [moves m1 m2 ...]``: moves in UCI (``e2e4``, ``e7e8q``, castling as the king's
  two-square move); the repetition history of the moves is kept;
* ``go`` with ``wtime``/``btime``/``winc``/``binc``/``movestogo`` (time management from the clock),
  ``movetime``, ``nodes`` (simulations), ``depth`` (the principal variation reaches that many plies),
  ``infinite``, ``ponder`` then ``ponderhit``; several limits together stop the search at the first one
  reached, and a plain ``go`` searches ``Simulations`` simulations. ``stop`` ends a search. Every ``go`` is
  answered by exactly one ``bestmove`` (``bestmove (none)`` when the side to move is checkmated or
  stalemated), with ``ponder`` when the principal variation has a reply;
* ``info depth D seldepth S multipv K score cp X nodes N nps R hashfull H time T pv ...`` about once a second
  and before ``bestmove``: ``depth`` is the length of the principal variation (the most visited line of the
  tree), ``seldepth`` the deepest node, ``nodes`` the simulations of this search, ``hashfull`` the tree's
  share of ``MaxTreeNodes`` in permille; ``score cp`` maps the Q value of the move (expected result for the
  side to move in [-1, 1]) to centipawns by Lichess's win-rate model (``games.chess.score``:
  ``cp = 543 * atanh(Q)``), and ``score mate N`` is given when a move's line ends in checkmate with Q = +-1.

Malformed commands, bad FENs and illegal moves get a message on stderr (and as ``info string`` on stdout) and
the engine keeps running: a bad ``position`` leaves the position as it was, a bad ``go`` argument is ignored
(the search still runs and answers ``bestmove``).

The search runs in its own thread, in chunks of about 20 ms (``agents.mcts``), so ``isready`` and ``stop`` are
answered while it thinks. The player is the AlphaZero agent of ``--checkpoint`` (or the game's shipped
checkpoint), else MCTS over the material and quiescence evaluator of ``agents.material`` (``Evaluator
material``; ``rollout`` is pure MCTS), announced on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import agents as agents_mod
from games import IllegalMove
from games.chess.notation import legal_move_list
from games.chess.score import value_to_cp

from .cli import UserError, make_game, pin_threads, run_main, seed_everything

ENGINE_NAME = "rlengine"
ENGINE_AUTHOR = "the rlengine authors"
UNLIMITED = 1_000_000_000
"""The simulation budget of searches bounded by time, depth, ``stop`` or the tree size."""
INFO_INTERVAL = 1.0
"""Seconds between periodic ``info`` lines."""
DEFAULT_MOVES_TO_GO = 25
"""Moves assumed left until the next time control when ``movestogo`` is not given (sudden death)."""
_GO_NUMBERS = ("wtime", "btime", "winc", "binc", "movestogo", "depth", "nodes", "mate", "movetime")
_GO_KEYWORDS = set(_GO_NUMBERS) | {"infinite", "ponder", "searchmoves"}


# ------------------------------------------------------------------------------------------- options
@dataclass
class Option:
    """One UCI option: ``kind`` is spin, check, combo, string or button."""

    name: str
    kind: str
    default: object
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def declaration(self) -> str:
        text = f"option name {self.name} type {self.kind}"
        if self.kind == "button":
            return text
        default = str(self.default).lower() if self.kind == "check" else self.default
        text += f" default {default}"
        if self.kind == "spin":
            text += f" min {self.minimum} max {self.maximum}"
        for c in self.choices:
            text += f" var {c}"
        return text

    def parse(self, text: str | None):
        """The option's value from ``setoption`` text; ``ValueError`` says what is wrong."""
        if self.kind == "button":
            return True
        if text is None:
            raise ValueError(f"option {self.name} needs a value")
        if self.kind == "spin":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"option {self.name} takes an integer, got {text!r}") from None
            if not self.minimum <= value <= self.maximum:
                raise ValueError(f"option {self.name} must be from {self.minimum} to {self.maximum}, got {value}")
            return value
        if self.kind == "check":
            if text.lower() not in ("true", "false"):
                raise ValueError(f"option {self.name} is true or false, got {text!r}")
            return text.lower() == "true"
        if self.kind == "combo":
            for c in self.choices:
                if c.lower() == text.lower():
                    return c
            raise ValueError(f"option {self.name} is one of {', '.join(self.choices)}, got {text!r}")
        return text


def engine_options(network: bool, simulations: int) -> list[Option]:
    """The options ``uci`` declares (``Threads`` with a network, ``Evaluator`` without)."""
    opts = [
        Option("Simulations", "spin", simulations, 1, 10_000_000,
               help="simulations of a go without limits (nodes, time, depth or infinite)"),
        Option("MultiPV", "spin", 1, 1, 16, help="lines reported in info (the most visited moves)"),
        Option("MoveOverhead", "spin", 50, 0, 10_000, help="milliseconds kept back per move for transmission"),
        Option("MaxTreeNodes", "spin", 100_000, 1_000, 10_000_000,
               help="the search stops when its tree holds this many nodes (about 6.4 KB each in chess)"),
    ]
    if network:
        opts.append(Option("Threads", "spin", 1, 1, max(os.cpu_count() or 1, 1),
                           help="torch threads of the network evaluator (the tree search is one thread)"))
    else:
        opts.append(Option("Evaluator", "combo", "material", choices=("material", "rollout"),
                           help="leaf evaluator without a network: material + quiescence, or random rollouts"))
    return opts


# ------------------------------------------------------------------------------------------- go
@dataclass
class GoLimits:
    """What one ``go`` asks for (times in milliseconds)."""

    wtime: int | None = None
    btime: int | None = None
    winc: int | None = None
    binc: int | None = None
    movestogo: int | None = None
    depth: int | None = None
    nodes: int | None = None
    mate: int | None = None
    movetime: int | None = None
    infinite: bool = False
    ponder: bool = False
    searchmoves: list[str] = field(default_factory=list)

    @property
    def unlimited(self) -> bool:
        """No limit at all: ``Simulations`` decides."""
        return not (self.infinite or self.ponder or self.depth or self.nodes or self.movetime is not None
                    or self.wtime is not None or self.btime is not None)


def parse_go(tokens: list[str]) -> tuple[GoLimits, list[str]]:
    """The limits of ``go`` arguments and a list of problems (each ignored: the search still runs)."""
    limits, problems = GoLimits(), []
    i = 0
    while i < len(tokens):
        key = tokens[i].lower()
        i += 1
        if key in ("infinite", "ponder"):
            setattr(limits, key, True)
        elif key == "searchmoves":
            while i < len(tokens) and tokens[i].lower() not in _GO_KEYWORDS:
                limits.searchmoves.append(tokens[i])
                i += 1
        elif key in _GO_NUMBERS:
            if i >= len(tokens) or tokens[i].lower() in _GO_KEYWORDS:
                problems.append(f"go: {key} needs a number")
                continue
            text = tokens[i]
            i += 1
            try:
                value = int(text)
            except ValueError:
                problems.append(f"go: {key} needs an integer, got {text!r}")
                continue
            if value < 0 and key not in ("wtime", "btime"):  # a clock below zero happens when a GUI lags
                problems.append(f"go: {key} must not be negative, got {value}")
                continue
            if value == 0 and key in ("depth", "nodes", "movestogo", "mate"):
                problems.append(f"go: {key} must be at least 1, got 0")
                continue
            setattr(limits, key, value)
        else:
            problems.append(f"go: unknown argument {tokens[i - 1]!r}")
    return limits, problems


def time_budget(limits: GoLimits, white: bool, overhead_ms: int) -> float | None:
    """Seconds to think on this move, or None without a time limit.

    ``movetime`` is used as given (less the overhead). On a clock: the time left divided by the moves to go
    (``movestogo``, else 25) plus three quarters of the increment, never more than half the clock (all but the
    overhead before the last move of a control), and at least 10 ms.
    """
    budgets = []
    if limits.movetime is not None:
        budgets.append(max(limits.movetime - overhead_ms, 1) / 1000)
    left = limits.wtime if white else limits.btime
    if left is not None:
        inc = (limits.winc if white else limits.binc) or 0
        left = max(left, 0)
        to_go = limits.movestogo or DEFAULT_MOVES_TO_GO
        share = left / to_go + 0.75 * inc
        cap = left - overhead_ms if to_go <= 1 else left / 2
        budgets.append(max(min(share, cap) - overhead_ms, 10) / 1000)
    return min(budgets) if budgets else None


# ------------------------------------------------------------------------------------------- the engine
class UciEngine:
    """The protocol state machine: ``handle(line)`` runs one command; the search runs in a thread."""

    def __init__(self, game, build_agent, network: bool, simulations: int, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr):
        self.game = game
        self._build_agent = build_agent  # (options dict) -> Agent
        self.network = network
        self.out, self.err = out, err
        self.options = {o.name.lower(): o for o in engine_options(network, simulations)}
        self.values = {o.name: o.default for o in self.options.values()}
        self.agent = None
        self._agent_key = None
        self._ready = threading.Event()
        self._build_error: BaseException | None = None
        self._lock = threading.Lock()
        self._search_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._release = threading.Event()  # infinite / ponder searches wait for this before bestmove
        self._ponderhit_at: float | None = None
        self._pondering = False
        self.debug = False
        self.start = game.initial_state()
        self.actions: list[int] = []
        self.states = [self.start]
        self.quit = False
        threading.Thread(target=self._warm_up, name="uci-warm-up", daemon=True).start()

    # --------------------------------------------------------------------------------------- output
    def send(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def problem(self, message: str) -> None:
        """A bad command or argument: one line on stderr, and as ``info string`` for GUIs."""
        with self._lock:
            self.err.write(f"error: {message}\n")
            self.err.flush()
        self.send(f"info string error: {message}")

    def notice(self, message: str) -> None:
        with self._lock:
            self.err.write(f"{message}\n")
            self.err.flush()

    # --------------------------------------------------------------------------------------- the agent
    def _agent_settings(self) -> tuple:
        return (self.values.get("Evaluator"),)

    def _warm_up(self) -> None:
        try:
            self._ensure_agent()
        except BaseException as err:  # reported to the command that waits for the engine
            self._build_error = err
        finally:
            self._ready.set()

    def _ensure_agent(self):
        key = self._agent_settings()
        if self.agent is None or key != self._agent_key:
            if self.agent is not None:
                self.agent.close()
            self.agent = self._build_agent(dict(self.values))
            self._agent_key = key
            self._replay_history()
        return self.agent

    def _replay_history(self) -> None:
        self.agent.reset()

    def wait_ready(self) -> None:
        self._ready.wait()
        if self._build_error is not None:
            err = self._build_error
            message = str(err) if isinstance(err, (UserError, ValueError, OSError)) else f"{type(err).__name__}: {err}"
            raise _Fatal(message)

    # --------------------------------------------------------------------------------------- commands
    def handle(self, line: str) -> None:
        tokens = line.strip().split()
        if not tokens:
            return
        name = tokens[0].lower()
        method = getattr(self, f"cmd_{name}", None)
        if method is None:
            self.problem(f"unknown command {tokens[0]!r} (known: {', '.join(self.commands())})")
            return
        try:
            method(tokens[1:])
        except _Fatal:
            raise
        except IllegalMove as err:
            self.problem(str(err))
        except Exception as err:  # a bug must not end a game: report it and keep running
            self.problem(f"{name} failed: {type(err).__name__}: {err}")

    @classmethod
    def commands(cls) -> list[str]:
        return sorted(n[4:] for n in dir(cls) if n.startswith("cmd_"))

    def cmd_uci(self, args) -> None:
        self.send(f"id name {ENGINE_NAME}")
        self.send(f"id author {ENGINE_AUTHOR}")
        for opt in self.options.values():
            self.send(opt.declaration())
        self.send("uciok")

    def cmd_isready(self, args) -> None:
        if not self.searching():
            self.wait_ready()
        self.send("readyok")

    def cmd_debug(self, args) -> None:
        if args and args[0].lower() in ("on", "off"):
            self.debug = args[0].lower() == "on"
        else:
            self.problem("debug takes on or off")

    def cmd_register(self, args) -> None:
        pass  # nothing to register

    def cmd_setoption(self, args) -> None:
        text = " ".join(args)
        lower = text.lower()
        if not lower.startswith("name "):
            self.problem(f"setoption needs 'name <option> [value <x>]', got {text!r}")
            return
        rest = text[5:]
        cut = rest.lower().find(" value ")
        name, value = (rest[:cut].strip(), rest[cut + 7:].strip()) if cut >= 0 else (rest.strip(), None)
        if value is None and rest.lower().rstrip().endswith(" value"):
            name, value = rest.strip()[:-6].strip(), ""
        opt = self.options.get(name.lower())
        if opt is None:
            self.notice(f"info: unknown option {name!r} ignored (options: "
                        f"{', '.join(o.name for o in self.options.values())})")
            return
        try:
            parsed = opt.parse(value)
        except ValueError as err:
            self.problem(str(err))
            return
        self.stop_search()
        self.values[opt.name] = parsed
        if opt.name == "Threads":
            if "torch" in sys.modules:
                sys.modules["torch"].set_num_threads(parsed)

    def cmd_ucinewgame(self, args) -> None:
        self.stop_search()
        self.start = self.game.initial_state()
        self.actions, self.states = [], [self.start]
        if self.agent is not None:
            self.agent.reset()

    def cmd_position(self, args) -> None:
        self.stop_search()
        if not args:
            raise IllegalMove("position needs startpos or fen FEN, then optionally moves")
        kind = args[0].lower()
        if kind == "startpos":
            start, rest = self.game.initial_state(), args[1:]
        elif kind == "fen":
            cut = next((i for i, t in enumerate(args) if t.lower() == "moves"), len(args))
            if cut == 1:
                raise IllegalMove("position fen needs a FEN")
            start, rest = self.game.from_fen(" ".join(args[1:cut])), args[cut:]
        else:
            raise IllegalMove(f"position needs startpos or fen, got {args[0]!r}")
        if rest and rest[0].lower() != "moves":
            raise IllegalMove(f"position: expected 'moves' after the position, got {rest[0]!r}")
        states, actions = [start], []
        for i, text in enumerate(rest[1:]):
            try:
                action = self.game.parse_uci(states[-1], text)
            except IllegalMove as err:
                raise IllegalMove(f"position: move {i + 1} ({text}): {err}; the position is unchanged") from None
            actions.append(action)
            states.append(self.game.apply(states[-1], action))
        same_game = self.game.to_fen(start) == self.game.to_fen(self.start) and actions[:len(self.actions)] == \
            self.actions and len(self.states) == len(self.actions) + 1
        if self.agent is not None:
            if same_game:  # the game went on: let the agent follow (subtree reuse)
                for k in range(len(self.actions), len(actions)):
                    self.agent.observe(states[k], actions[k])
            else:
                self.agent.reset()
        self.start, self.actions, self.states = start, actions, states

    def cmd_go(self, args) -> None:
        received = time.monotonic()
        self.stop_search()
        limits, problems = parse_go(args)
        for p in problems:
            self.problem(p + " (ignored)")
        if limits.searchmoves:
            self.problem("go searchmoves is not supported: searching every move")
        if limits.mate:
            self.problem("go mate is not supported: searching as a plain go")
        self.wait_ready()
        agent = self._ensure_agent()
        state = self.states[-1]
        self._stop.clear()
        self._release.clear()
        self._pondering = limits.ponder
        self._ponderhit_at = None
        self._search_thread = threading.Thread(target=self._search, args=(agent, state, limits, received),
                                               name="uci-search", daemon=True)
        self._search_thread.start()

    def cmd_stop(self, args) -> None:
        self.stop_search()

    def cmd_ponderhit(self, args) -> None:
        if self.searching() and self._pondering:
            self._ponderhit_at = time.monotonic()
            self._pondering = False
            self._release.set()

    def cmd_quit(self, args) -> None:
        self.stop_search()
        self.quit = True

    # --------------------------------------------------------------------------------------- the search
    def searching(self) -> bool:
        return self._search_thread is not None and self._search_thread.is_alive()

    def stop_search(self) -> None:
        """End a running search; its thread sends ``bestmove`` before this returns."""
        if self._search_thread is None:
            return
        self._stop.set()
        self._release.set()
        self._search_thread.join()
        self._search_thread = None

    def _search(self, agent, state, limits: GoLimits, received: float) -> None:
        game = self.game
        white = game.to_play(state) == 0
        reason = game.termination(state)
        search_state = state
        if reason in ("checkmate", "stalemate"):
            self.send(f"info depth 0 score {'mate 0' if reason == 'checkmate' else 'cp 0'}")
            self._wait_release(limits)
            self.send("bestmove (none)")
            return
        if reason is not None:
            # A draw the game API applies by itself (repetition, fifty moves, bare kings) that a GUI may not:
            # search the position without its history and clocks, which the draw does not change.
            self.send(f"info string the game is a draw by {reason}; choosing a move anyway")
            fields = game.to_fen(state).split()
            search_state = game.from_fen(" ".join(fields[:4] + ["0", fields[5]]))
            if game.is_terminal(search_state):  # bare kings and the like: any legal move will do
                action = game.action_of(search_state, legal_move_list(game.params, search_state)[0])
                self._wait_release(limits)
                self.send(f"bestmove {game.format_uci(search_state, action)}")
                return
        budget = time_budget(limits, white, int(self.values["MoveOverhead"]))
        multipv = int(self.values["MultiPV"])
        max_nodes = int(self.values["MaxTreeNodes"])
        if hasattr(agent, "simulations"):
            if limits.nodes:
                agent.simulations = limits.nodes
            elif limits.unlimited:
                agent.simulations = int(self.values["Simulations"])
            else:
                agent.simulations = UNLIMITED
        if hasattr(agent, "top"):
            agent.top = max(agent.top, multipv)
        if hasattr(agent, "max_tree_nodes"):
            agent.max_tree_nodes = max_nodes
        legal = len(game.legal_actions(search_state))
        clock_mode = limits.movetime is None and (limits.wtime is not None or limits.btime is not None)
        last_info = [received]
        last_report: list[dict] = []

        def progress(report: dict) -> bool:
            now = time.monotonic()
            last_report[:] = [report]
            if now - last_info[0] >= INFO_INTERVAL:
                last_info[0] = now
                self._send_info(search_state, report, now - received, multipv, max_nodes)
            if self._stop.is_set():
                return True
            if self._pondering or limits.infinite:
                return False
            if limits.nodes and report.get("simulations", 0) >= limits.nodes:
                return True
            if limits.depth and report.get("pvs") and _pv_reaches(game, search_state, report["pvs"][0], limits.depth):
                return True
            if budget is not None:
                start = self._ponderhit_at or received
                elapsed = now - start
                if elapsed >= budget:
                    return True
                if clock_mode and (legal == 1 or _decided(report, elapsed, budget)):
                    return True
            return False

        try:
            decision = agent.choose(search_state, progress)
            action = int(decision.action)
            if not game.legal_mask(search_state)[action]:
                raise RuntimeError(f"the agent chose an illegal move {game.format_uci(search_state, action)}")
        except Exception as err:  # never leave the GUI without a move
            self.problem(f"search failed: {type(err).__name__}: {err}; playing the first legal move")
            decision = None
            action = int(game.legal_actions(search_state)[0])
        self._wait_release(limits)
        now = time.monotonic()
        report = last_report[0] if last_report else None
        if report is not None and report.get("pvs") and report["pvs"][0] and report["pvs"][0][0] == action:
            self._send_info(search_state, report, now - received, multipv, max_nodes)
        elif decision is not None:
            report = {"simulations": decision.info.get("simulations", 0), "top": decision.top[:1],
                      "pvs": [decision.info.get("pv") or [action]], "value": decision.value,
                      "tree_nodes": decision.info.get("tree_nodes", 0), "max_depth": len(decision.info.get("pv", []))}
            if report["top"] and report["top"][0].action != action:
                report["top"] = []
            self._send_info(search_state, report, now - received, 1, max_nodes)
        pv = report["pvs"][0] if report and report.get("pvs") else [action]
        move = game.format_uci(search_state, action)
        if len(pv) >= 2 and pv[0] == action:
            reply = game.format_uci(game.apply(search_state, action), pv[1])
            self.send(f"bestmove {move} ponder {reply}")
        else:
            self.send(f"bestmove {move}")

    def _wait_release(self, limits: GoLimits) -> None:
        """UCI: after ``go infinite`` (or while pondering) ``bestmove`` waits for ``stop`` (or ``ponderhit``)."""
        if limits.infinite or (limits.ponder and self._pondering):
            self._release.wait()

    def _send_info(self, state, report: dict, elapsed: float, multipv: int, max_nodes: int) -> None:
        game = self.game
        sims = int(report.get("simulations", 0))
        ms = max(int(elapsed * 1000), 0)
        nps = int(sims / elapsed) if elapsed > 0 else 0
        hashfull = min(1000, int(1000 * report.get("tree_nodes", 0) / max_nodes))
        seldepth = int(report.get("max_depth", 0))
        top = report.get("top") or []
        pvs = report.get("pvs") or []
        lines = max(1, min(multipv, len(pvs)))
        for k in range(lines):
            pv = pvs[k] if k < len(pvs) else []
            value = top[k].value if k < len(top) else report.get("value", 0.0)
            moves, s = [], state
            for a in pv:
                moves.append(game.format_uci(s, a))
                s = game.apply(s, a)
            score = f"cp {value_to_cp(value)}"
            if pv and game.termination(s) == "checkmate" and abs(abs(value) - 1.0) < 1e-6:
                plies = len(pv)
                score = f"mate {(plies + 1) // 2}" if value > 0 else f"mate -{plies // 2}"
            text = (f"info depth {max(len(pv), 1)} seldepth {max(seldepth, len(pv), 1)} multipv {k + 1} "
                    f"score {score} nodes {sims} nps {nps} hashfull {hashfull} time {ms}")
            if moves:
                text += " pv " + " ".join(moves)
            self.send(text)


def _pv_reaches(game, state, pv: list[int], depth: int) -> bool:
    """``go depth``: the principal variation is ``depth`` plies long, or ends the game sooner."""
    if len(pv) >= depth:
        return True
    for a in pv:
        state = game.apply(state, a)
    return bool(pv) and game.is_terminal(state)


def _decided(report: dict, elapsed: float, budget: float) -> bool:
    """Clock games: stop early when the most visited move cannot be overtaken in the time left (the runner-up
    would need more simulations than the search can still run)."""
    top = report.get("top") or []
    sims = report.get("simulations", 0)
    if len(top) < 2 or sims < 100 or elapsed <= 0:
        return False
    remaining = sims / elapsed * (budget - elapsed)
    return top[0].visits - top[1].visits > remaining


class _Fatal(Exception):
    """The engine cannot play (its network failed to load): exit with status 2."""


# ------------------------------------------------------------------------------------------- players
def build_player_factory(game, checkpoint: Path | None, seed: int, notice):
    """A function (UCI option values) -> Agent, and whether it plays with a network.

    With ``checkpoint``: the AlphaZero agent of that file. Without: the game's shipped AlphaZero checkpoint
    when there is one, else MCTS over the evaluator named by the ``Evaluator`` option, announced by ``notice``.
    """
    if checkpoint is not None:
        def make_network(values):
            return agents_mod.make(f"alphazero:{checkpoint}", game, simulations=int(values["Simulations"]),
                                   seed=seed)
        return make_network, True
    reason = "no AlphaZero player is available"
    if "alphazero" in agents_mod.agent_kinds():
        try:
            shipped = agents_mod.make("alphazero", game, seed=seed)
        except (ValueError, FileNotFoundError, OSError, UserError) as err:  # nets.CheckpointError is a UserError
            reason = f"no shipped checkpoint for {game.name} ({err})"
        else:
            def make_shipped(values, _agent=[shipped]):  # noqa: B006 - the first build reuses the loaded agent
                agent = _agent.pop() if _agent else agents_mod.make("alphazero", game, seed=seed)
                agent.simulations = int(values["Simulations"])
                return agent
            return make_shipped, True

    announced = []

    def make_fallback(values):
        kind = "mcts-material" if values.get("Evaluator", "material") == "material" else "mcts"
        if not announced or announced[-1] != kind:
            what = ("the material and quiescence evaluator (agents/material.py)" if kind == "mcts-material"
                    else "random rollouts (pure MCTS)")
            notice(f"notice: {reason}; playing MCTS with {what}. Give --checkpoint for a trained network.")
            announced.append(kind)
        return agents_mod.make(f"{kind}:{int(values['Simulations'])}", game, seed=seed)

    return make_fallback, False


# ------------------------------------------------------------------------------------------- main
def serve(engine: UciEngine, stream: TextIO = sys.stdin) -> None:
    """Read commands until ``quit`` or the end of input."""
    while not engine.quit:
        line = stream.readline()
        if not line:
            engine.stop_search()
            break
        engine.handle(line)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m engine.uci", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=None, help="AlphaZero network checkpoint (.pt) to play with")
    p.add_argument("--simulations", type=int, default=800,
                   help="default of the Simulations option (the budget of a go without limits)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="chess options, e.g. history=8 (must match the checkpoint)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same machine: same moves)")
    args = p.parse_args(argv)
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise UserError(f"checkpoint {args.checkpoint} does not exist")
    if args.simulations < 1:
        raise UserError(f"--simulations must be at least 1, got {args.simulations}")
    seed_everything(args.seed)
    pin_threads(1)  # one thread until the GUI sets the Threads option
    game = make_game("chess", args.game_option)
    factory, network = build_player_factory(game, args.checkpoint, args.seed,
                                            lambda m: print(m, file=sys.stderr, flush=True))
    engine = UciEngine(game, factory, network, args.simulations)
    try:
        serve(engine)
    except _Fatal as err:
        raise UserError(str(err)) from None
    finally:
        if engine.agent is not None:
            engine.agent.close()
    return 0


if __name__ == "__main__":
    run_main(main)
