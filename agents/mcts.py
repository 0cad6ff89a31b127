"""Search players: ``MCTSAgent`` runs ``engine.mcts.BatchedMCTS`` (one tree) with any evaluator and keeps its
subtree between moves. ``agents.make("mcts:1000", game)`` is pure MCTS: uniform priors and random rollouts,
1000 simulations per move (Kocsis and Szepesvari's UCT family, here with AlphaZero's PUCT selection);
``agents.make("mcts", game, time_limit=2.0)`` searches for two seconds a move instead.

With a ``progress`` callback (or a time limit) the search runs in chunks of simulations, each continuing the
same tree: PUCT selection does not depend on the remaining budget, so the tree, and the move, are the ones of
one uninterrupted search of the same size (Gumbel's sequential halving plans its whole budget, so it is never
cut into chunks).
"""

from __future__ import annotations

import time

import numpy as np

from engine.mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator

from .base import Agent, Decision, MoveStat


class MCTSAgent(Agent):
    """Plays the most visited move of a search with ``evaluator`` (no noise: ``MCTSConfig.for_play``).

    Every move observed while the tree's root is the position it was played in advances the tree (subtree
    reuse); anything else (a set-up position, an undo) makes the next search start afresh.
    """

    def __init__(self, game, evaluator, config: MCTSConfig | None = None, seed: int | None = 0, name: str = "mcts",
                 top: int = 5, time_limit: float | None = None, report_every: float = 0.1):
        super().__init__(game)
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        self.name = name
        self.time_limit = time_limit  # seconds per move; None: config.simulations per move
        self.report_every = report_every  # seconds between progress reports
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
        started = time.perf_counter()
        if (progress is None and self.time_limit is None) or self.config.gumbel:
            result = self.search.run(self.evaluator)
            done = int(result.simulations[0])
        else:
            result, done = self._run_in_chunks(progress, started)
        action = int(self.search.choose(0.0, self.rng)[0])
        visits, q, prior = result.visits[0], result.q[0], result.prior[0]
        order = np.argsort(-visits, kind="stable")[: self.top]
        top = [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a])) for a in order if visits[a] > 0]
        value = float(result.value[0])
        seconds = time.perf_counter() - started
        if progress is not None and self.config.gumbel:
            progress(self._report(done, action, value, seconds))
        return Decision(action, value=value, top=top,
                        info={"simulations": done, "tree_nodes": self.search.tree_size(0), "seconds": seconds,
                              "win_probability": (value + 1.0) / 2.0})

    def _report(self, done: int, best: int, value: float, seconds: float) -> dict:
        total = None if self.time_limit is not None else self.config.simulations
        return {"simulations": done, "total": total, "best": best, "value": value,
                "win_probability": (value + 1.0) / 2.0, "seconds": seconds}

    def _run_in_chunks(self, progress, started: float):
        """Search ``config.simulations`` (or until ``time_limit``) in chunks sized to take about
        ``report_every`` seconds each, reporting after every chunk; returns (last result, simulations)."""
        budget = None if self.time_limit is not None else self.config.simulations
        deadline = None if self.time_limit is None else started + self.time_limit
        chunk, done = 16, 0
        while True:
            n = chunk if budget is None else min(chunk, budget - done)
            t0 = time.perf_counter()
            result = self.search.run(self.evaluator, n)
            now = time.perf_counter()
            ran = int(result.simulations[0])
            done += ran
            if progress is not None:
                progress(self._report(done, int(result.best_move[0]), float(result.value[0]), now - started))
            if ran == 0 or (budget is not None and done >= budget) or (deadline is not None and now >= deadline):
                return result, done
            target = self.report_every if deadline is None else min(self.report_every, deadline - now)
            rate = ran / max(now - t0, 1e-6)
            chunk = int(min(max(1, rate * target), 4 * n + 16))  # grow gently: the first chunks are noisy


def make_pure_mcts(game, arg, seed=0, simulations=None, rollouts=1, time_limit=None, **_):
    """``mcts[:N]``: N simulations per move (1000 by default) with ``rollouts`` random playouts per leaf;
    ``time_limit`` (seconds) searches that long a move instead of N simulations."""
    try:
        n = int(arg) if arg else int(simulations or 1000)
    except ValueError:
        raise ValueError(f"mcts:{arg}: the argument is the number of simulations per move, e.g. mcts:1000") from None
    if n < 1:
        raise ValueError(f"mcts:{arg}: simulations must be >= 1")
    # Uniform priors give every root move the same first-play urgency, and ties go to the lowest action: with
    # AlphaZero's FPU reduction the search kept to the first moves it tried and never tried the last action
    # (pass in Go, so it could not end a game it had won). UCB1's rule instead: every root move is tried once
    # before any is tried twice (a first-play value far above any Q).
    config = MCTSConfig(simulations=n, dirichlet_epsilon=0.0, fpu_reduction_root=-1000.0)
    return MCTSAgent(game, RolloutEvaluator(game, rollouts=rollouts, seed=seed or 0), config, seed=seed,
                     name=f"mcts:{n}" if time_limit is None else f"mcts:{time_limit:g}s", time_limit=time_limit)
