"""The engine session behind the GTP commands: a Go game (board size, komi, handicap, moves), the agent that
plays it, the clock, and how a move is chosen (budget, resignation, KGS clean-up). Nothing here parses GTP.

Moves out of turn: ``play`` accepts two moves of the same colour in a row (a GUI's setup, a controller replaying
a game): the position gets a pass of the other colour, or, after a pass or the end of the game, is rebuilt from
the board with that colour to move (the superko history starts again). ``genmove`` and the analysis commands
for the colour not to move play and search for the colour asked (as GNU Go and KataGo do) from the board
rebuilt with that colour to move: no pass is inserted, so the engine's move never ends a game by a second pass
it did not choose.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.base import Agent, Decision

from ..timing import MoveTimer
from .clock import Clock
from .protocol import GtpFailure

PlayerFactory = Callable[[object, bool], tuple[Agent, str]]
WARM_UP_SIMULATIONS = 8
"""Simulations of the search run when a player is built, so that compilation never eats a move's time."""


@dataclass
class Move:
    colour: int
    action: int
    comment: dict | None = None


class GoSession:
    """The state of one GTP session. ``make_player(game, first) -> (agent, description)`` builds the agent of a
    game (again when the board size or komi changes; ``first`` is True for the start-up game); ``diag`` writes a
    diagnostic line; ``now`` is the clock of move times (injectable for tests)."""

    def __init__(self, make_player: PlayerFactory, size: int = 9, komi: float = 7.5, ko_rule: str = "positional",
                 max_moves: int | None = None, simulations: int | None = None, seconds: float | None = None,
                 resign_threshold: float = -0.9, resign_after: int | None = None, lag: float = 0.2,
                 max_tree_mb: float = 2048.0, diag: Callable[[str], None] = print,
                 now: Callable[[], float] = time.monotonic, warm_up: bool = True):
        self._make_player = make_player
        self.ko_rule, self.max_moves = ko_rule, max_moves
        self.simulations, self.seconds = simulations, seconds
        self.resign_threshold, self.resign_after = resign_threshold, resign_after
        self.lag, self.max_tree_mb = lag, max_tree_mb
        self.diag, self.now, self.warm_up = diag, now, warm_up
        self.clock = Clock()
        self.handicap = 0
        self._players: dict[tuple[int, float], tuple[Agent, str]] = {}
        self._budget_noted = False
        self.new_game(size, komi, first=True)

    # ---------------------------------------------------------------------------------- games and players
    def _player(self, first: bool) -> None:
        key = (self.game.size, float(self.game.komi))
        if key not in self._players:
            agent, description = self._make_player(self.game, first)
            self._players[key] = agent, description
            if self.warm_up:
                self._warm_up(agent)
        self.agent, self.player = self._players[key]

    def _warm_up(self, agent: Agent) -> None:
        """Run a tiny search (the chunked path with progress reports, as moves use it) so that the kernels are
        compiled now, not inside the first move's time."""
        if not takes_budget(agent):
            return
        if not self._players or len(self._players) == 1:
            self.diag("warming up: a short search compiles the kernels (or loads them from Numba's cache)")
        try:
            agent.choose(self.game.initial_state(), lambda report: False, simulations=WARM_UP_SIMULATIONS)
        except Exception as err:  # a broken agent is reported when it is asked for a move
            self.diag(f"note: warm-up search failed: {type(err).__name__}: {err}")
        agent.reset()

    def new_game(self, size: int, komi: float, first: bool = False) -> None:
        from games.go import Go

        self.game = Go(size, komi, self.ko_rule, self.max_moves)
        self._player(first)
        self.start = self.game.initial_state()
        self.states = [self.start]
        self.moves: list[Move] = []
        self.handicap = 0
        self.agent.reset()
        self.clock.reset()

    def set_komi(self, komi: float) -> None:
        """Another komi for the game going on: its moves are kept (the score of a finished game follows)."""
        from games.go import Go

        if komi == self.game.komi:
            return
        moves, start = self.moves, self.start
        self.game = Go(self.game.size, komi, self.ko_rule, self.max_moves)
        self._player(False)
        self.replay(start, moves)

    def close(self) -> None:
        for agent, _ in self._players.values():
            agent.close()

    @property
    def state(self) -> np.ndarray:
        return self.states[-1]

    def budget_description(self) -> str:
        """What a move may take, as the banner and ``version`` say it."""
        if not self.clock.unlimited:
            return f"time_settings {self.clock.describe()}"
        if self.seconds is not None:
            return f"{self.seconds:g} s a move (GTP time_settings override it)"
        if self.simulations is not None:
            return f"{self.simulations} simulations a move"
        own = getattr(self.agent, "simulations", None)
        own_time = getattr(self.agent, "time_limit", None)
        if own_time:
            return f"{own_time:g} s a move (the player's own)"
        return f"{own} simulations a move (the player's own)" if own else "the player's own budget"

    # ---------------------------------------------------------------------------------- moves
    def side_to_move(self) -> int:
        g = self.game
        if self.moves and g.is_terminal(self.state):
            return 1 - self.moves[-1].colour
        return g.to_play(self.state)

    def ready(self, state: np.ndarray, colour: int, insert_pass: bool = True) -> tuple[np.ndarray, str | None]:
        """The position in which ``colour`` moves next: ``state`` itself; with a pass of the other colour when it
        is not ``colour``'s turn (``insert_pass``, and only when that pass does not end the game); else rebuilt
        from the board with ``colour`` to move."""
        g = self.game
        if not g.is_terminal(state):
            if g.to_play(state) == colour:
                return state, None
            if insert_pass and g.passes(state) == 0 and g.moves_played(state) + 1 < g.max_game_length:
                return g.apply(state, g.pass_action), "pass"
        cells = g.board(state).ravel()
        return g.setup_state(np.flatnonzero(cells == 1), np.flatnonzero(cells == 2), to_play=colour), "rebuilt"

    def play(self, colour: int, action: int, comment: dict | None = None, tell_agent: bool = True,
             prepared: tuple[np.ndarray, str | None] | None = None) -> None:
        """Play ``action`` for ``colour`` (GtpFailure if illegal) and tell the agent; ``prepared`` is the
        position ``ready`` gave for it."""
        g = self.game
        before = self.state
        state, how = prepared if prepared is not None else self.ready(before, colour)
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
        self.moves.append(Move(colour, action, comment))
        self.states.append(after)

    def replay(self, start: np.ndarray, moves: list[Move]) -> None:
        self.start = start
        self.states = [start]
        self.moves = []
        self.agent.reset()
        for m in moves:
            self.play(m.colour, m.action, m.comment, tell_agent=False)

    def undo(self) -> None:
        if not self.moves:
            raise GtpFailure("cannot undo")
        self.moves.pop()
        self.states.pop()
        self.agent.undo()

    def place_handicap(self, points: list[int]) -> None:
        """Black's handicap stones on an empty board; White moves next (GTP 4.1)."""
        g = self.game
        if self.moves or np.any(g.board(self.state)):
            raise GtpFailure("board not empty")
        self.start = g.setup_state(points, (), to_play="W")
        self.states = [self.start]
        self.handicap = len(points)
        self.agent.reset()

    # ---------------------------------------------------------------------------------- choosing a move
    def move_timer(self, colour: int, state: np.ndarray, received: float) -> MoveTimer:
        """The time of ``colour``'s move from the arrival of its command: the clock's share (which keeps back
        ``lag`` already), else ``--time`` less ``lag``, else no time limit."""
        seconds = self.clock.allot(colour, self.game.moves_played(state), self.game.size, self.lag)
        if seconds is not None:
            return MoveTimer.starting(seconds, received, now=self.now)
        if self.seconds is not None:
            return MoveTimer.starting(self.seconds, received, fixed=min(self.lag, self.seconds / 2), now=self.now)
        return MoveTimer.starting(None, received, now=self.now)

    def budget(self, timer: MoveTimer) -> dict:
        """The search budget: the seconds left on ``timer`` (however many simulations), else --simulations
        (else the agent's own), never more simulations than the tree's memory bound allows."""
        cap = self.simulation_cap()
        if timer.budget is not None:
            return {"seconds": timer.left(), "simulations": cap}
        if self.simulations is not None:
            return {"simulations": min(self.simulations, cap)}
        return {}

    def simulation_cap(self) -> int:
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

    def decide(self, colour: int, received: float, cleanup: bool = False, progress=None) -> tuple[str, Decision]:
        """Search for ``colour`` and play the move: (GTP vertex or "resign", decision). The move's time counts
        from ``received``, the arrival of its command."""
        g = self.game
        prepared = self.ready(self.state, colour, insert_pass=False)
        state = prepared[0]
        timer = self.move_timer(colour, state, received)
        legal = g.legal_actions(state)
        if len(legal) == 1:  # only a pass: nothing to think about
            decision = Decision(int(legal[0]), info={"forced": True})
        else:
            decision = self.choose(state, self.stopper(timer, progress), self.budget(timer))
        elapsed = self.now() - received
        self.clock.spend(colour, elapsed)
        action = int(decision.action)
        value = move_value(decision)
        self._report(colour, state, decision, value, elapsed)
        if cleanup:
            action = self._cleanup_move(state, colour, decision)
        elif self._should_resign(state, value, decision):
            self.diag(f"resigning: value {value:+.3f} < {self.resign_threshold:+.3f}")
            return "resign", decision
        comment = {"visits": decision.info.get("visits", decision.info.get("simulations"))}
        if value is not None:
            comment["winrate"] = round((value + 1) / 2, 4)
        self.play(colour, action, comment, prepared=prepared)
        return g.format_move(state, action), decision

    @staticmethod
    def stopper(timer: MoveTimer, progress):
        """The progress callback of a move: the caller's (analysis), and a stop at the timer's deadline."""
        if timer.budget is None:
            return progress

        def stop(report: dict) -> bool:
            wanted = bool(progress(report)) if progress is not None else False
            return wanted or timer.expired()

        return stop

    def choose(self, state, progress, budget: dict) -> Decision:
        """``agent.choose`` with the move's budget when the agent takes one (``Agent.choose``'s keywords)."""
        if budget and not takes_budget(self.agent):
            if not self._budget_noted:
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

    # ---------------------------------------------------------------------------------- records
    def sgf_text(self, application: str, comment: str) -> str:
        from games.go import rules, write_sgf

        g = self.game
        cells = g.board(self.start).ravel()
        black, white = np.flatnonzero(cells == rules.BLACK), np.flatnonzero(cells == rules.WHITE)
        first = g.to_play(self.start)
        to_play = first if (len(black) or len(white) or first) else None
        result = g.result_string(self.state) if g.is_terminal(self.state) else ""
        return write_sgf(g.size, g.komi, [(m.colour, m.action) for m in self.moves], result=result,
                         comments=[m.comment for m in self.moves], setup_black=black, setup_white=white,
                         to_play=to_play, handicap=self.handicap, rules="Tromp-Taylor", application=application,
                         game_comment=comment)

    def load_sgf(self, text: str, move_number: int | None) -> None:
        """The game of an SGF record (up to before ``move_number``); the session is unchanged on failure."""
        from games.go import read_sgf

        try:
            sgf = read_sgf(text, alternate=False)
        except ValueError as err:
            raise GtpFailure(f"cannot load file: {err}") from None
        komi = sgf.komi if sgf.komi is not None else self.game.komi
        saved = (self.game, self.agent, self.player, self.start, self.states, self.moves, self.handicap)
        try:
            self.new_game(sgf.size, komi)
            start = (self.game.setup_state(sgf.setup_black, sgf.setup_white, to_play=sgf.to_play)
                     if sgf.has_setup else self.game.initial_state())
            moves = sgf.moves if move_number is None else sgf.moves[: max(move_number - 1, 0)]
            self.replay(start, [Move(c, a) for c, a in moves])
            self.handicap = sgf.handicap if sgf.setup_black and not sgf.setup_white else 0
        except (ValueError, GtpFailure) as err:
            self.game, self.agent, self.player, self.start, self.states, self.moves, self.handicap = saved
            raise GtpFailure(f"cannot load file: {err}") from None


def takes_budget(agent: Agent) -> bool:
    try:
        params = inspect.signature(agent.choose).parameters
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in params.values()) or {"simulations", "seconds"} <= set(params)


def move_value(decision: Decision) -> float | None:
    """The value of the chosen move (mover's view): its search value, else the root's."""
    for m in decision.top:
        if m.action == decision.action and m.visits > 0:
            return float(m.value)
    return None if decision.value is None else float(decision.value)
