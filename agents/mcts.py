"""Search players: ``MCTSAgent`` runs ``engine.mcts.BatchedMCTS`` (one tree) with any evaluator and keeps its
subtree between moves. ``agents.make("mcts:1000", game)`` is pure MCTS: uniform priors and random rollouts,
1000 simulations per move (Kocsis and Szepesvari's UCT family, here with AlphaZero's PUCT selection); a game
with a playout policy of its own (Go's, which leaves its own eyes alone) rolls out with it."""

from __future__ import annotations

import time

import numpy as np

from engine.mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator

from .base import Agent, Decision, MoveStat


class MCTSAgent(Agent):
    """Plays the most visited move of a search with ``evaluator`` (no noise: ``MCTSConfig.for_play``).

    Every move observed while the tree's root is the position it was played in advances the tree (subtree
    reuse); anything else (a set-up position, an undo) makes the next search start afresh. ``choose`` on the
    position of the previous ``choose`` keeps searching the same tree (analysis adds up).

    With a ``progress`` callback or a time budget (``seconds``) the search runs in chunks of about
    ``progress_every`` seconds; after each chunk ``progress`` gets the search so far (``top``: the most visited
    moves with their principal variations) and may return True to stop it.
    """

    def __init__(self, game, evaluator, config: MCTSConfig | None = None, seed: int | None = 0, name: str = "mcts",
                 top: int = 5, progress_every: float = 0.05):
        super().__init__(game)
        self.name = name
        self.evaluator = evaluator
        self.config = (config or MCTSConfig()).for_play()
        self.search = BatchedMCTS(game, 1, self.config, seed=seed or 0)
        self.rng = np.random.default_rng(seed)
        self.top = top
        self.progress_every = float(progress_every)
        self.report_moves = 10  # moves in each progress report (GTP analysis asks for more)
        self._synced = False  # the tree's root is the current position

    @property
    def simulations(self) -> int:
        """Simulations per move when ``choose`` is given no budget."""
        return self.config.simulations

    def reset(self) -> None:
        self._synced = False

    def observe(self, state, action) -> None:
        if self._synced and np.array_equal(self.search.root_state(0), state):
            self.search.advance(0, int(action))
        else:
            self._synced = False

    def undo(self) -> None:
        self._synced = False

    def choose(self, state, progress=None, *, simulations: int | None = None,
               seconds: float | None = None) -> Decision:
        if not (self._synced and np.array_equal(self.search.root_state(0), state)):
            self.search.reset(0, state)
            self._synced = True
        budget = self.config.simulations if simulations is None else int(simulations)
        if budget < 1:
            raise ValueError(f"simulations must be >= 1, got {budget}")
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        start = time.perf_counter()
        if progress is None and seconds is None:
            result = self.search.run(self.evaluator, budget)  # one call: the whole search in compiled code
            done = int(result.simulations[0])
        else:
            result, done = self._run_chunks(budget, seconds, progress, start)
        action = int(self.search.choose(0.0, self.rng)[0])
        elapsed = time.perf_counter() - start
        top = self.top_moves(result, self.top)
        return Decision(action, value=float(result.value[0]), top=top,
                        info={"simulations": done, "visits": int(result.visits[0].sum()), "seconds": elapsed,
                              "tree_nodes": self.search.tree_size(0)})

    def _run_chunks(self, budget, seconds, progress, start):
        done, chunk = 0, 8
        result = None
        while done < budget:
            n = min(chunk, budget - done)
            result = self.search.run(self.evaluator, n)
            ran = int(result.simulations[0])
            done += ran
            elapsed = time.perf_counter() - start
            if ran == 0:  # a finished game: nothing to search
                break
            # size the next chunk to take about progress_every seconds (and to end on the time budget)
            rate = done / max(elapsed, 1e-6)
            chunk = max(1, int(rate * self.progress_every))
            if seconds is not None:
                left = seconds - elapsed
                if left <= 0:
                    break
                chunk = max(1, min(chunk, int(rate * left)))
            if progress is not None and progress(self._report(result, done, elapsed)):
                break
        if result is None:
            result = self.search.result()
        return result, done

    def _report(self, result, done, elapsed) -> dict:
        visits = result.visits[0]
        best = int(np.argmax(visits))
        return {"simulations": done, "visits": int(visits.sum()), "best": best, "value": float(result.value[0]),
                "elapsed": elapsed, "top": self.top_moves(result, self.report_moves)}

    def top_moves(self, result=None, k: int = 5, pv_length: int = 12) -> list[MoveStat]:
        """The ``k`` most visited root moves of the current search, each with its principal variation."""
        return top_moves(self.search, result, k, pv_length)


def top_moves(search: BatchedMCTS, result=None, k: int = 5, pv_length: int = 12, tree: int = 0) -> list[MoveStat]:
    """The ``k`` most visited root moves of tree ``tree`` of ``search``, each with its principal variation (any
    agent that searches with ``BatchedMCTS``; the GTP engine's analysis reads it)."""
    result = search.result() if result is None else result
    visits, q, prior = result.visits[tree], result.q[tree], result.prior[tree]
    order = np.argsort(-visits, kind="stable")[:k]
    return [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a]),
                     principal_variation(search, int(a), pv_length, tree))
            for a in order if visits[a] > 0]


def principal_variation(search: BatchedMCTS, action: int, length: int = 12, tree: int = 0) -> list[int]:
    """``action`` then the most visited move at each node below it (at most ``length`` moves)."""
    pv = [int(action)]
    node = search.child(tree, action)
    while node >= 0 and len(pv) < length:
        edges = search.edges(tree, node)
        if edges.visits.size == 0 or edges.visits.max() == 0:
            break
        k = int(np.argmax(edges.visits))
        pv.append(int(edges.actions[k]))
        node = int(edges.child[k])
    return pv


def make_pure_mcts(game, arg, seed=0, simulations=None, rollouts=1, **_):
    """``mcts[:N]``: N simulations per move (1000 by default) with ``rollouts`` random playouts per leaf (the
    game's own playout policy when it has one: ``game.playout_evaluator``)."""
    try:
        n = int(arg) if arg else int(simulations or 1000)
    except ValueError:
        raise ValueError(f"mcts:{arg}: the argument is the number of simulations per move, e.g. mcts:1000") from None
    if n < 1:
        raise ValueError(f"mcts:{arg}: simulations must be >= 1")
    own = getattr(game, "playout_evaluator", None)
    if own:
        # the game's playouts are evaluated from Python: 8 leaves per call (virtual loss) halve the overhead
        evaluator, leaves = own(rollouts, seed=seed or 0), 8
    else:
        evaluator, leaves = RolloutEvaluator(game, rollouts=rollouts, seed=seed or 0), 1
    config = MCTSConfig(simulations=n, dirichlet_epsilon=0.0, leaves_per_tree=leaves)
    return MCTSAgent(game, evaluator, config, seed=seed, name=f"mcts:{n}")
