"""The player interface used by the arena, the terminal UI and the GTP/UCI protocols.

An agent is told about a new game (``reset``), about every move played by either side (``observe``, so
search agents can reuse their subtree), and asked for a move (``choose``), which returns a ``Decision``: the
action and, when the agent has one, an evaluation. Agents are built from short specs by ``agents.make``::

    agents.make("random", game)
    agents.make("minimax", game)              # exact play, small games only
    agents.make("c4solver", game)             # perfect Connect Four (agents/connect4_solver.py)
    agents.make("mcts:1000", game)            # pure MCTS with random rollouts, 1000 simulations per move
    agents.make("alphazero:path/to/ckpt.pt", game, simulations=800)
    agents.make("gtp:/usr/games/gnugo --mode gtp --level 1", go)   # an external Go program over GTP
    agents.make("mcts-material:800", chess)   # chess: MCTS over a material + quiescence evaluator
    agents.make("uci:/usr/games/stockfish;Skill Level=0;movetime=100", chess)   # an external UCI engine

``choose(state, progress)``: a searching agent calls ``progress(info)`` while it thinks and stops early,
deciding with what it has, when the call returns True (``engine.uci`` implements ``stop`` and time controls
this way). Agents whose search has a budget expose it as a settable ``simulations`` attribute.

Many games at once: ``reset(games=G)`` starts G games side by side, ``observe(state, action, game=i)`` tells
about a move of game ``i`` and ``choose_batch(states, games)`` asks for a move in several of them at once (a
search agent searches them together, one network call per search step for all, each game keeping its own
subtree). ``choose_batch(states)`` without ``games`` answers for independent positions (analysis, benchmark
sets). An agent whose ``batched`` is False (an external program, which holds one game) plays one game at a
time; ``engine.matches`` plays a pair's games at once when both agents are batched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class MoveStat:
    """One candidate move of a search: action, visits, prior, value (mover's view) and the principal
    variation that starts with it (``pv[0] == action``; empty when the agent has none)."""

    action: int
    visits: int = 0
    prior: float = 0.0
    value: float = 0.0
    pv: list[int] = field(default_factory=list)


@dataclass
class Decision:
    """What an agent chose, and why when it knows: ``value`` is in [-1, 1] from the mover's view."""

    action: int
    value: float | None = None
    top: list[MoveStat] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    resign: bool = False


ProgressFn = Callable[[dict], "bool | None"]
"""Called while an agent thinks with a dict such as {"simulations": n, "best": action, "value": v, "top":
[MoveStat, ...], "elapsed": seconds}; returning True asks the agent to stop and answer with what it has (GTP's
analysis stops when the next command arrives)."""


class AgentError(RuntimeError):
    """An agent could not answer: an external program died, timed out or broke its protocol. The message
    says which program and what happened."""


class Agent:
    """Base class: override ``choose``; ``reset``, ``observe`` and ``choose_batch`` are optional."""

    name = "agent"
    batched = True
    """Whether the agent can play several games side by side (``choose_batch`` with ``games``). The base
    ``choose_batch`` asks ``choose`` one position after another, right for an agent that keeps no state between
    moves; an agent that holds one game (an external program) sets it False."""

    def __init__(self, game):
        self.game = game

    def reset(self, games: int = 1) -> None:
        """New games start (from ``game.initial_state()`` or positions set up by the caller): ``games`` of them
        side by side, numbered 0 .. games - 1 in ``observe`` and ``choose_batch``."""

    def observe(self, state: np.ndarray, action: int, game: int | None = None) -> None:
        """``action`` was played in ``state`` (by either side); ``game``: which game of ``reset(games)`` (None: the
        one game that ``choose`` plays)."""

    def undo(self) -> None:
        """The last move was taken back; search agents drop what they reused."""

    def choose(self, state: np.ndarray, progress: ProgressFn | None = None, *, simulations: int | None = None,
               seconds: float | None = None) -> Decision:
        """The move to play in ``state``. Search agents take a budget for this move (``simulations``, or
        ``seconds`` of thinking; ``None``: their own default) and report on ``progress`` while they think;
        other agents ignore both."""
        raise NotImplementedError

    def choose_batch(self, states, games=None) -> list[Decision]:
        """A ``Decision`` for each of ``states``: ``games[j]`` is the game (of ``reset(games)``) that ``states[j]``
        belongs to, None for independent positions. This default asks ``choose`` for one after another."""
        return [self.choose(s) for s in states]

    def close(self) -> None:
        """Release processes or threads the agent holds."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class RandomAgent(Agent):
    """Uniform over legal moves (seeded)."""

    def __init__(self, game, seed: int | None = 0):
        super().__init__(game)
        self.name = "random"
        self.rng = np.random.default_rng(seed)

    def choose(self, state, progress=None, **budget):
        return Decision(int(self.rng.choice(self.game.legal_actions(state))))


class MinimaxAgent(Agent):
    """Perfect play by exhaustive negamax (tic-tac-toe and tiny boards); ties broken at random (seeded)."""

    def __init__(self, game, seed: int | None = 0):
        from .minimax import Solver

        super().__init__(game)
        self.name = "minimax"
        self.solver = Solver(game)
        self.rng = np.random.default_rng(seed)

    def choose(self, state, progress=None, **budget):
        values = self.solver.action_values(state)
        best = np.flatnonzero(values == values.max())
        return Decision(int(self.rng.choice(best)), value=float(values.max()))


# ------------------------------------------------------------------------------------------- registry
_AGENTS: dict[str, str] = {}


def register_agent(kind: str, target: str) -> None:
    """Register an agent factory ``"module:callable"``; it is called as ``factory(game, arg, **kwargs)``."""
    _AGENTS[kind] = target


def agent_kinds() -> list[str]:
    return sorted(_AGENTS)


def make(spec: str, game, **kwargs) -> Agent:
    """Build an agent from a spec ``kind[:argument]`` (see the module docstring)."""
    kind, _, arg = str(spec).partition(":")
    kind = kind.strip().lower()
    if kind not in _AGENTS:
        raise ValueError(f"unknown player {spec!r}; known kinds: {', '.join(agent_kinds())}")
    module_name, fn_name = _AGENTS[kind].split(":")
    factory = getattr(importlib.import_module(module_name), fn_name)
    return factory(game, arg or None, **kwargs)


# Without a network: MCTS over a game's own evaluator where it has one (best_available).
_NO_NETWORK_PLAYERS = {
    "chess": ("mcts-material", "MCTS over the material and quiescence evaluator (agents/material.py)"),
}


def best_available(game) -> tuple[str, str]:
    """``(spec, description)`` of the strongest player for ``game`` that needs nothing from the user: the AlphaZero
    player when a network is shipped for the game, else MCTS over the game's own evaluator (chess: material and
    quiescence), else pure MCTS with random rollouts. ``engine.play``, ``engine.analyze`` and ``engine.uci`` use it
    when given no checkpoint."""
    from .checkpoints import default_checkpoint

    if default_checkpoint(game).is_file():
        return "alphazero", f"the shipped AlphaZero network ({default_checkpoint(game).name})"
    return _NO_NETWORK_PLAYERS.get(game.name, ("mcts", "pure MCTS with random rollouts"))


def _make_random(game, arg, seed=0, **_):
    return RandomAgent(game, seed=seed)


def _make_minimax(game, arg, seed=0, **_):
    return MinimaxAgent(game, seed=seed)


register_agent("random", "agents.base:_make_random")
register_agent("minimax", "agents.base:_make_minimax")
register_agent("mcts", "agents.mcts:make_pure_mcts")
register_agent("c4solver", "agents.connect4_solver:make_solver_agent")
register_agent("alphazero", "agents.alphazero:make_alphazero")
register_agent("gtp", "agents.gtp_player:make_gtp_player")
register_agent("mcts-material", "agents.material:make_material_mcts")
register_agent("uci", "agents.uci_player:make_uci_player")
