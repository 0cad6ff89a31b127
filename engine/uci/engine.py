"""``UciEngine``: the UCI state machine. ``handle(line)`` runs one command (``cmd_<name>``); ``go`` searches in a
thread, so ``isready`` and ``stop`` are answered while it thinks."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from games import IllegalMove
from games.chess.notation import legal_move_list
from games.chess.score import value_to_cp

from ..cli import UserError
from ..timing import MoveTimer
from .limits import GoLimits, decided, parse_go, pv_reaches, time_budget
from .options import NODE_BYTES, engine_options, wdl

ENGINE_NAME = "rlengine"
ENGINE_AUTHOR = "the rlengine authors"
UNLIMITED = 1_000_000_000
"""The simulation budget of searches bounded by time, depth, ``stop`` or the tree size."""
INFO_INTERVAL = 1.0
"""Seconds between periodic ``info`` lines."""
WARM_UP_SIMULATIONS = 16
"""Simulations of the search run before ``readyok``, so that compilation never eats a move's time."""


class Fatal(Exception):
    """The engine cannot play (its network failed to load): exit with status 2."""


class UciEngine:
    """The protocol state machine. ``build_agent(option values) -> Agent``; ``agent`` is an agent built already
    (the one ``main`` loaded to check the checkpoint); ``now`` is the clock of move times (tests inject one)."""

    def __init__(self, game, build_agent, network: bool, simulations: int, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr, agent=None, now: Callable[[], float] = time.monotonic,
                 warm_up: bool = True):
        self.game = game
        self._build_agent = build_agent  # (options dict) -> Agent
        self.network = network
        self.out, self.err = out, err
        self.now = now
        self.options = {o.name.lower(): o for o in engine_options(network, simulations)}
        self.values = {o.name: o.default for o in self.options.values()}
        self.agent = agent
        self._agent_key = self._agent_settings() if agent is not None else None
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
        self.commands = self.errors = self.searches = 0
        self._warm = not warm_up
        threading.Thread(target=self._warm_up, name="uci-warm-up", daemon=True).start()

    # --------------------------------------------------------------------------------------- output
    def send(self, line: str) -> None:
        with self._lock:
            self.out.write(line + "\n")
            self.out.flush()

    def problem(self, message: str) -> None:
        """A bad command or argument: one line on stderr, and as ``info string`` for GUIs (cut to 300
        characters: a message may quote the input)."""
        self.errors += 1
        message = " ".join(message.split())
        if len(message) > 300:
            message = message[:297] + "..."
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
            agent = self._ensure_agent()
            if not self._warm:
                self._warm = True
                self._search_once(agent)
        except BaseException as err:  # reported to the command that waits for the engine
            self._build_error = err
        finally:
            self._ready.set()

    def _search_once(self, agent) -> None:
        """A tiny search on the start position (and the calls a move makes after it): compiles the kernels."""
        state = self.game.initial_state()
        decision = agent.choose(state, lambda report: False, simulations=WARM_UP_SIMULATIONS)
        after = self.game.apply(state, int(decision.action))
        self.game.termination(after)
        self.game.format_uci(state, int(decision.action))
        agent.reset()

    def _ensure_agent(self):
        key = self._agent_settings()
        if self.agent is None or key != self._agent_key:
            if self.agent is not None:
                self.agent.close()
            self.agent = self._build_agent(dict(self.values))
            self._agent_key = key
            self.agent.reset()
        return self.agent

    def wait_ready(self) -> None:
        self._ready.wait()
        if self._build_error is not None:
            err = self._build_error
            message = str(err) if isinstance(err, (UserError, ValueError, OSError)) else f"{type(err).__name__}: {err}"
            raise Fatal(message)

    # --------------------------------------------------------------------------------------- commands
    def handle(self, line: str, received: float | None = None) -> None:
        """One command line, which arrived at ``received`` (default: now; a move's time counts from it)."""
        tokens = line.strip().split()
        if not tokens:
            return
        self.commands += 1
        self.received = self.now() if received is None else received
        name = tokens[0].lower()
        method = getattr(self, f"cmd_{name}", None)
        if method is None:
            self.problem(f"unknown command {tokens[0][:40]!r} (known: {', '.join(self.command_names())})")
            return
        try:
            method(tokens[1:])
        except Fatal:
            raise
        except IllegalMove as err:
            self.problem(str(err))
        except Exception as err:  # a bug must not end a game: report it and keep running
            self.problem(f"{name} failed: {type(err).__name__}: {err}")

    @classmethod
    def command_names(cls) -> list[str]:
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
        if not text.lower().startswith("name "):
            self.problem(f"setoption needs 'name <option> [value <x>]', got {text[:60]!r}")
            return
        rest = text[5:]
        cut = rest.lower().find(" value ")
        name, value = (rest[:cut].strip(), rest[cut + 7:].strip()) if cut >= 0 else (rest.strip(), None)
        if value is None and rest.lower().rstrip().endswith(" value"):
            name, value = rest.strip()[:-6].strip(), ""
        opt = self.options.get(name.lower())
        if opt is None:
            self.notice(f"info: unknown option {name[:40]!r} ignored (options: "
                        f"{', '.join(o.name for o in self.options.values())})")
            return
        try:
            parsed = opt.parse(value)
        except ValueError as err:
            self.problem(str(err))
            return
        self.stop_search()
        self.values[opt.name] = parsed
        if opt.name == "Hash":
            self.values["MaxTreeNodes"] = max(1_000, parsed * 2**20 // NODE_BYTES)
        if opt.name == "Threads" and "torch" in sys.modules:
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
            raise IllegalMove(f"position needs startpos or fen, got {args[0][:40]!r}")
        if rest and rest[0].lower() != "moves":
            raise IllegalMove(f"position: expected 'moves' after the position, got {rest[0][:40]!r}")
        states, actions = [start], []
        for i, text in enumerate(rest[1:]):
            try:
                action = self.game.parse_uci(states[-1], text)
            except IllegalMove as err:
                raise IllegalMove(f"position: move {i + 1} ({text[:12]}): {err}; the position is unchanged") from None
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
        received = self.received
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
        self.searches += 1
        self._search_thread = threading.Thread(target=self._search, args=(agent, state, limits, received),
                                               name="uci-search", daemon=True)
        self._search_thread.start()

    def cmd_stop(self, args) -> None:
        self.stop_search()

    def cmd_ponderhit(self, args) -> None:
        if self.searching() and self._pondering:
            self._ponderhit_at = self.received
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
        """Answer one ``go`` with exactly one ``bestmove``: at once in a finished or forced position, else after
        a search that stops at the first limit reached (the move's deadline on every path)."""
        game = self.game
        search_state = self._searchable(state, limits)
        if search_state is None:
            return
        white = game.to_play(search_state) == 0
        if limits.movetime is None and (limits.wtime, limits.btime)[not white] is None and limits.timed:
            self.send("info string no clock for the side to move: using the other side's")
        timer = MoveTimer.starting(time_budget(limits, white, int(self.values["MoveOverhead"])), received,
                                   now=self.now)
        legal = game.legal_actions(search_state)
        if len(legal) == 1 and timer.budget is not None and not (limits.ponder or limits.infinite):
            self.send("info string the only legal move")
            self.send(f"bestmove {game.format_uci(search_state, int(legal[0]))}")
            return
        self._configure(agent, limits)
        last_report: list[dict] = []
        progress = self._progress(search_state, limits, timer, received, last_report)
        try:
            decision = agent.choose(search_state, progress)
            action = int(decision.action)
            if not game.legal_mask(search_state)[action]:
                raise RuntimeError(f"the agent chose an illegal move {game.format_uci(search_state, action)}")
        except Exception as err:  # never leave the GUI without a move
            self.problem(f"search failed: {type(err).__name__}: {err}; playing the first legal move")
            decision, action = None, int(legal[0])
        self._wait_release(limits)
        self._answer(search_state, action, decision, last_report[0] if last_report else None, received)

    def _searchable(self, state, limits: GoLimits):
        """The position to search, or None after answering a finished game: ``bestmove (none)`` when the side
        to move is mated or stalemated; a draw by rule (repetition, fifty moves) is searched without its
        history, which the draw does not change (a GUI may not apply the rule)."""
        game = self.game
        reason = game.termination(state)
        if reason in ("checkmate", "stalemate"):
            self.send(f"info depth 0 score {'mate 0' if reason == 'checkmate' else 'cp 0'}")
            self._wait_release(limits)
            self.send("bestmove (none)")
            return None
        if reason is None:
            return state
        self.send(f"info string the game is a draw by {reason}; choosing a move anyway")
        fields = game.to_fen(state).split()
        fresh = game.from_fen(" ".join(fields[:4] + ["0", fields[5]]))
        if game.is_terminal(fresh):  # bare kings and the like: any legal move will do
            action = game.action_of(fresh, legal_move_list(game.params, fresh)[0])
            self._wait_release(limits)
            self.send(f"bestmove {game.format_uci(fresh, action)}")
            return None
        return fresh

    def _configure(self, agent, limits: GoLimits) -> None:
        if hasattr(agent, "simulations"):
            if limits.nodes:
                agent.simulations = limits.nodes
            elif limits.unlimited:
                agent.simulations = int(self.values["Simulations"])
            else:
                agent.simulations = UNLIMITED
        if "MinibatchSize" in self.values:
            agent.leaves = int(self.values["MinibatchSize"])
        if "MaterialMix" in self.values:
            agent.material_mix = int(self.values["MaterialMix"]) / 100
        if hasattr(agent, "top"):
            agent.top = max(agent.top, int(self.values["MultiPV"]))
        if hasattr(agent, "max_tree_nodes"):
            agent.max_tree_nodes = int(self.values["MaxTreeNodes"])

    def _progress(self, state, limits: GoLimits, timer: MoveTimer, received: float, last_report: list):
        """The search's progress callback: periodic info, and True at the first limit reached."""
        multipv = int(self.values["MultiPV"])
        clock_mode = limits.movetime is None and (limits.wtime is not None or limits.btime is not None)
        single = len(self.game.legal_actions(state)) == 1
        last_info = [received]

        def progress(report: dict) -> bool:
            now = self.now()
            last_report[:] = [report]
            if now - last_info[0] >= INFO_INTERVAL:
                last_info[0] = now
                self._send_info(state, report, now - received, multipv)
            if self._stop.is_set():
                return True
            if self._pondering or limits.infinite:
                return False
            if limits.nodes and report.get("simulations", 0) >= limits.nodes:
                return True
            if limits.depth and report.get("pvs") and pv_reaches(self.game, state, report["pvs"][0], limits.depth):
                return True
            if timer.budget is not None:
                if self._ponderhit_at is not None:  # the clock runs from ponderhit
                    timer.start, self._ponderhit_at = self._ponderhit_at, None
                if timer.expired():
                    return True
                if clock_mode and (single or decided(report, timer.elapsed(), timer.budget - timer.margin)):
                    return True
            return False

        return progress

    def _answer(self, state, action: int, decision, report: dict | None, received: float) -> None:
        """The last ``info`` of the move played, then ``bestmove`` (with ``ponder`` when the line has a reply)."""
        game = self.game
        elapsed = self.now() - received
        if report is not None and report.get("pvs") and report["pvs"][0] and report["pvs"][0][0] == action:
            self._send_info(state, report, elapsed, int(self.values["MultiPV"]))
        elif decision is not None:
            report = {"simulations": decision.info.get("simulations", 0), "top": decision.top[:1],
                      "pvs": [decision.info.get("pv") or [action]], "value": decision.value,
                      "tree_nodes": decision.info.get("tree_nodes", 0), "max_depth": len(decision.info.get("pv", []))}
            if report["top"] and report["top"][0].action != action:
                report["top"] = []
            self._send_info(state, report, elapsed, 1)
        pv = report["pvs"][0] if report and report.get("pvs") else [action]
        move = game.format_uci(state, action)
        if len(pv) >= 2 and pv[0] == action:
            self.send(f"bestmove {move} ponder {game.format_uci(game.apply(state, action), pv[1])}")
        else:
            self.send(f"bestmove {move}")

    def _wait_release(self, limits: GoLimits) -> None:
        """UCI: after ``go infinite`` (or while pondering) ``bestmove`` waits for ``stop`` (or ``ponderhit``)."""
        if limits.infinite or (limits.ponder and self._pondering):
            self._release.wait()

    def _send_info(self, state, report: dict, elapsed: float, multipv: int) -> None:
        game = self.game
        sims = int(report.get("simulations", 0))
        ms = max(int(elapsed * 1000), 0)
        nps = int(sims / elapsed) if elapsed > 0 else 0
        hashfull = min(1000, int(1000 * report.get("tree_nodes", 0) / int(self.values["MaxTreeNodes"])))
        seldepth = int(report.get("max_depth", 0))
        top = report.get("top") or []
        pvs = report.get("pvs") or []
        for k in range(max(1, min(multipv, len(pvs)))):
            pv = pvs[k] if k < len(pvs) else []
            value = top[k].value if k < len(top) else (report.get("value") or 0.0)
            moves, s = [], state
            for a in pv:
                moves.append(game.format_uci(s, a))
                s = game.apply(s, a)
            score = f"cp {value_to_cp(value)}"
            if pv and game.termination(s) == "checkmate" and abs(abs(value) - 1.0) < 1e-6:
                plies = len(pv)
                score = f"mate {(plies + 1) // 2}" if value > 0 else f"mate -{plies // 2}"
            if self.values.get("UCI_ShowWDL"):
                score += " wdl {} {} {}".format(*wdl(value))
            text = (f"info depth {max(len(pv), 1)} seldepth {max(seldepth, len(pv), 1)} multipv {k + 1} "
                    f"score {score} nodes {sims} nps {nps} hashfull {hashfull} time {ms}")
            if moves:
                text += " pv " + " ".join(moves)
            self.send(text)
