"""Search players: ``MCTSAgent`` runs ``engine.mcts.BatchedMCTS`` (one tree) with any evaluator and keeps its
subtree between moves. ``agents.make("mcts:1000", game)`` is pure MCTS: uniform priors and random rollouts,
1000 simulations per move (Kocsis and Szepesvari's UCT family, here with AlphaZero's PUCT selection)."""

from __future__ import annotations

import numpy as np

from engine.mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator

from .base import Agent, Decision, MoveStat


class MCTSAgent(Agent):
    """Plays the most visited move of a search with ``evaluator`` (no noise: ``MCTSConfig.for_play``).

    Every move observed while the tree's root is the position it was played in advances the tree (subtree
    reuse); anything else (a set-up position, an undo) makes the next search start afresh.
    """

    def __init__(self, game, evaluator, config: MCTSConfig | None = None, seed: int | None = 0, name: str = "mcts",
                 top: int = 5):
        super().__init__(game)
        self.name = name
        self.evaluator = evaluator
        self.config = (config or MCTSConfig()).for_play()
        self.search = BatchedMCTS(game, 1, self.config, seed=seed or 0)
        self.rng = np.random.default_rng(seed)
        self.top = top
        self._synced = False  # the tree's root is the current position

    def reset(self) -> None:
        self._synced = False

    def observe(self, state, action) -> None:
        if self._synced and np.array_equal(self.search.root_state(0), state):
            self.search.advance(0, int(action))
        else:
            self._synced = False

    def undo(self) -> None:
        self._synced = False

    def choose(self, state, progress=None) -> Decision:
        if not (self._synced and np.array_equal(self.search.root_state(0), state)):
            self.search.reset(0, state)
            self._synced = True
        result = self.search.run(self.evaluator)
        action = int(self.search.choose(0.0, self.rng)[0])
        visits, q, prior = result.visits[0], result.q[0], result.prior[0]
        order = np.argsort(-visits, kind="stable")[: self.top]
        top = [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a])) for a in order if visits[a] > 0]
        if progress is not None:
            progress({"simulations": int(result.simulations[0]), "best": action, "value": float(result.value[0])})
        return Decision(action, value=float(result.value[0]), top=top,
                        info={"simulations": int(result.simulations[0]), "tree_nodes": self.search.tree_size(0)})


def make_pure_mcts(game, arg, seed=0, simulations=None, rollouts=1, **_):
    """``mcts[:N]``: N simulations per move (1000 by default) with ``rollouts`` random playouts per leaf."""
    try:
        n = int(arg) if arg else int(simulations or 1000)
    except ValueError:
        raise ValueError(f"mcts:{arg}: the argument is the number of simulations per move, e.g. mcts:1000") from None
    if n < 1:
        raise ValueError(f"mcts:{arg}: simulations must be >= 1")
    return MCTSAgent(game, RolloutEvaluator(game, rollouts=rollouts, seed=seed or 0),
                     MCTSConfig(simulations=n, dirichlet_epsilon=0.0), seed=seed, name=f"mcts:{n}")
