"""Search players: ``MCTSAgent`` runs ``engine.mcts.BatchedMCTS`` (one tree) with any evaluator and keeps its
subtree between moves. ``agents.make("mcts:1000", game)`` is pure MCTS: uniform priors and random rollouts,
1000 simulations per move (Kocsis and Szepesvari's UCT family, here with AlphaZero's PUCT selection).

Given a ``progress`` callback, ``choose`` searches in short chunks and reports after each one (simulations,
best move, value, principal variations, tree size); a callback that returns True stops the search, which then
decides with what it has. Protocol front ends (``engine.uci``) build time controls, ``stop`` and ``info``
lines on this.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from engine.mcts import ROOT, BatchedMCTS, MCTSConfig, RolloutEvaluator

from .base import Agent, Decision, MoveStat

CHUNK_SECONDS = 0.02
"""Target length of one search chunk when reporting progress: short enough that a protocol thread sharing
the interpreter answers within a few tens of milliseconds (the compiled search holds the GIL)."""


@njit(cache=True)
def _max_depth(parent, num_nodes):
    """Deepest node of a tree (root depth 0); parents are stored before their children."""
    depth = np.zeros(num_nodes, dtype=np.int32)
    deepest = 0
    for x in range(1, num_nodes):
        depth[x] = depth[parent[x]] + 1
        if depth[x] > deepest:
            deepest = depth[x]
    return deepest


class MCTSAgent(Agent):
    """Plays the most visited move of a search with ``evaluator`` (no noise: ``MCTSConfig.for_play``).

    Every move observed while the tree's root is the position it was played in advances the tree (subtree
    reuse); anything else (a set-up position, an undo) makes the next search start afresh.

    ``simulations`` is the budget of one ``choose`` (settable between moves); ``max_tree_nodes`` (None: no
    limit) stops a search once the tree holds that many nodes (memory: about 6.4 KB a node in chess).
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
        self.max_tree_nodes: int | None = None
        self._synced = False  # the tree's root is the current position

    @property
    def simulations(self) -> int:
        return self.config.simulations

    @simulations.setter
    def simulations(self, n: int) -> None:
        if int(n) < 1:
            raise ValueError(f"simulations must be >= 1, got {n}")
        self.config.simulations = int(n)

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
        start = time.perf_counter()
        budget = self.config.simulations
        if progress is None or self.config.gumbel:
            # one call: fastest, and sequential halving (Gumbel) plans over the whole budget
            result = self.search.run(self.evaluator)
            done = int(result.simulations[0])
            if progress is not None:
                progress(self._report(result, done, start))
        else:
            done, chunk = 0, 4
            while True:
                t0 = time.perf_counter()
                n = min(chunk, budget - done)
                if self.max_tree_nodes is not None:
                    n = min(n, max(self.max_tree_nodes - self.search.tree_size(0), 0))
                result = self.search.run(self.evaluator, simulations=max(n, 0))
                ran = int(result.simulations[0])
                done += ran
                # the next chunk takes about CHUNK_SECONDS (at most doubling, so one slow evaluation never leads
                # to a long chunk)
                elapsed = time.perf_counter() - t0
                if ran > 0:
                    chunk = int(np.clip(ran * CHUNK_SECONDS / max(elapsed, 1e-6), 1, 2 * chunk))
                report = self._report(result, done, start)
                full = self.max_tree_nodes is not None and self.search.tree_size(0) >= self.max_tree_nodes
                report["tree_full"] = full
                stop = bool(progress(report))
                if stop or done >= budget or ran == 0 or full:
                    break
        action = int(self.search.choose(0.0, self.rng)[0])
        return self._decision(action, result, done, start)

    # ----------------------------------------------------------------------------------- reporting
    def principal_variation(self, action: int | None = None, max_length: int = 64) -> list[int]:
        """Actions of the most visited line from the root (starting with ``action`` when given)."""
        line: list[int] = []
        node = ROOT
        if action is not None:
            line.append(int(action))
            node = self.search.child(0, int(action))
        while node >= 0 and len(line) < max_length:
            e = self.search.edges(0, node)
            if e.visits.size == 0 or e.visits.max() <= 0:
                break
            k = int(np.argmax(e.visits))
            line.append(int(e.actions[k]))
            node = int(e.child[k])
        return line

    def _top(self, result) -> list[MoveStat]:
        visits, q, prior = result.visits[0], result.q[0], result.prior[0]
        order = np.argsort(-visits, kind="stable")[: self.top]
        return [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a])) for a in order if visits[a] > 0]

    def _report(self, result, done: int, start: float) -> dict:
        best = int(result.best_move[0])
        top = self._top(result)
        t = self.search.tree
        return {"simulations": done, "best": best, "value": float(result.value[0]), "top": top,
                "pvs": [self.principal_variation(m.action) for m in top],
                "tree_nodes": self.search.tree_size(0),
                "max_depth": int(_max_depth(t.parent[0], int(t.num_nodes[0]))),
                "seconds": time.perf_counter() - start}

    def _decision(self, action: int, result, done: int, start: float) -> Decision:
        top = self._top(result)
        pv = self.principal_variation(action) if action >= 0 else []
        return Decision(action, value=float(result.value[0]), top=top,
                        info={"simulations": done, "tree_nodes": self.search.tree_size(0), "pv": pv,
                              "seconds": time.perf_counter() - start})


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
