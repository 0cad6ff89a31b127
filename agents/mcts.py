"""Search players: ``MCTSAgent`` runs ``engine.mcts.BatchedMCTS`` (one tree) with any evaluator and keeps its
subtree between moves. ``agents.make("mcts:1000", game)`` is pure MCTS: uniform priors and random rollouts,
1000 simulations per move (Kocsis and Szepesvari's UCT family, here with AlphaZero's PUCT selection); a game
with a playout policy of its own (Go's, which leaves its own eyes alone) rolls out with it;
``agents.make("mcts", game, time_limit=2.0)`` searches for two seconds a move instead.

The budget of one move is ``simulations`` and/or ``seconds`` (``choose``'s keywords; the agent's own
``simulations`` and ``time_limit`` otherwise). Given a ``progress`` callback or a time budget, the search runs in
chunks of simulations, each continuing the same tree: PUCT selection does not depend on the remaining budget,
so the tree and the move are those of one uninterrupted search of the same size. After each chunk ``progress``
gets the search so far (simulations, best move, value and win probability, the top moves with their principal
variations, tree size and depth); a callback that returns True stops the search, which then decides with what
it has. The UCI and GTP engines build ``stop``, time controls and analysis on this, the terminal UI its live
line. Gumbel's sequential halving plans its whole budget, so a Gumbel search is never cut into chunks.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from numba import njit

from engine.mcts import ROOT, BatchedMCTS, MCTSConfig, RolloutEvaluator

from .base import Agent, Decision, MoveStat

REPORT_EVERY = 0.02
"""Default seconds between progress reports: short enough that a protocol thread sharing the interpreter answers
within a few tens of milliseconds (the compiled search holds the GIL while it runs)."""


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


def principal_variation(search: BatchedMCTS, action: int | None = None, length: int = 64, tree: int = 0) -> list[int]:
    """The most visited line from the root of tree ``tree`` (starting with ``action`` when given), at most
    ``length`` moves."""
    line: list[int] = []
    node = ROOT
    if action is not None:
        line.append(int(action))
        node = search.child(tree, int(action))
    while node >= 0 and len(line) < length:
        edges = search.edges(tree, node)
        if edges.visits.size == 0 or edges.visits.max() <= 0:
            break
        k = int(np.argmax(edges.visits))
        line.append(int(edges.actions[k]))
        node = int(edges.child[k])
    return line


def top_moves(search: BatchedMCTS, result=None, k: int = 5, pv_length: int = 12, tree: int = 0) -> list[MoveStat]:
    """The ``k`` most visited root moves of tree ``tree`` of ``search`` (visits, prior, Q), each with its principal
    variation. Any agent that searches with ``BatchedMCTS`` can be read this way (the GTP engine's analysis)."""
    result = search.result() if result is None else result
    visits, q, prior = result.visits[tree], result.q[tree], result.prior[tree]
    order = np.argsort(-visits, kind="stable")[:k]
    return [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a]),
                     principal_variation(search, int(a), pv_length, tree) if pv_length > 0 else [])
            for a in order if visits[a] > 0]


def decision_of(result, i: int, action: int, top: int) -> Decision:
    """A ``Decision`` for root ``i`` of a search result: value, top moves by visits (visits, prior, Q)."""
    visits, q, prior = result.visits[i], result.q[i], result.prior[i]
    order = np.argsort(-visits, kind="stable")[:top]
    stats = [MoveStat(int(a), int(visits[a]), float(prior[a]), float(q[a])) for a in order if visits[a] > 0]
    value = float(result.value[i])
    return Decision(int(action), value=value, top=stats,
                    info={"win_probability": (value + 1.0) / 2.0, "simulations": int(result.simulations[i])})


class MCTSAgent(Agent):
    """Plays the most visited move of a search with ``evaluator`` (no noise: ``MCTSConfig.for_play``).

    Every move observed while the tree's root is the position it was played in advances the tree (subtree
    reuse); anything else (a set-up position, an undo) makes the next search start afresh. ``choose`` on the
    position of the previous ``choose`` keeps searching the same tree (analysis adds up).

    ``simulations`` is the budget of one ``choose`` (settable between moves), ``time_limit`` (seconds, None: no
    limit) a time budget per move; ``max_tree_nodes`` (None: no limit) stops a search once the tree holds that
    many nodes (memory: about 6.4 KB a node in chess); ``report_moves`` is the number of top moves (with
    principal variations) in each progress report and ``report_every`` the seconds between reports.
    """

    def __init__(self, game, evaluator, config: MCTSConfig | None = None, seed: int | None = 0, name: str = "mcts",
                 top: int = 5, time_limit: float | None = None, report_every: float = REPORT_EVERY,
                 max_batch: int = 256):
        super().__init__(game)
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
        self.name = name
        self.evaluator = evaluator
        self.config = (config or MCTSConfig()).for_play()
        self.search = BatchedMCTS(game, 1, self.config, seed=seed or 0)
        self.rng = np.random.default_rng(seed)
        self.top = top
        self.time_limit = time_limit
        self.report_every = float(report_every)
        self.report_moves = 10
        self.max_tree_nodes: int | None = None
        self._synced = False  # the tree's root is the current position
        self.max_batch = int(max_batch)  # positions per search of choose_batch without games
        self._seed = int(seed or 0)
        self._games = 1  # games side by side (reset)
        self._batch: BatchedMCTS | None = None  # their trees, one per game (choose_batch with games)
        self._batch_synced = np.zeros(0, np.bool_)
        self._free_search: BatchedMCTS | None = None  # the search of choose_batch without games

    @property
    def simulations(self) -> int:
        """Simulations per move when ``choose`` is given no budget."""
        return self.config.simulations

    @simulations.setter
    def simulations(self, n: int) -> None:
        if int(n) < 1:
            raise ValueError(f"simulations must be >= 1, got {n}")
        self.config.simulations = int(n)
        self.search.config.simulations = int(n)  # a copy after ``leaves`` was set

    @property
    def leaves(self) -> int:
        """Leaves a one-game search (``choose``) hands the evaluator per call, kept apart by virtual loss: a
        network evaluates 8 positions in about 3x the time of one on a CPU core. Searches of many games or
        positions side by side (``choose_batch``) keep the config's ``leaves_per_tree``: the games are the batch."""
        return self.search.config.leaves_per_tree

    @leaves.setter
    def leaves(self, k: int) -> None:
        if int(k) < 1:
            raise ValueError(f"leaves must be >= 1, got {k}")
        if int(k) != self.leaves:
            # a tree sized for at most 1,024 simulations to start with (it grows): a time-limited search has an
            # unbounded budget
            config = dataclasses.replace(self.config, leaves_per_tree=int(k),
                                         simulations=min(self.config.simulations, 1024))
            self.search = BatchedMCTS(self.game, 1, config, seed=self._seed)
            config.simulations = self.config.simulations
            self._synced = False

    @property
    def batched(self) -> bool:
        """Games side by side need a budget in simulations (a time limit is one game's)."""
        return self.time_limit is None

    # ------------------------------------------------------------------------------------------- game flow
    def reset(self, games: int = 1) -> None:
        if games < 1:
            raise ValueError(f"games must be >= 1, got {games}")
        self._synced = False
        self._games = int(games)
        self._batch_synced = np.zeros(self._games, np.bool_)
        if self._batch is not None and self._batch.batch_size != self._games:
            self._batch = None

    def observe(self, state, action, game=None) -> None:
        if game is not None:
            if self._batch is not None and self._batch_synced[game] and \
                    np.array_equal(self._batch.root_state(game), state):
                self._batch.advance(game, int(action))
            elif game < self._batch_synced.size:
                self._batch_synced[game] = False
            return
        if self._synced and np.array_equal(self.search.root_state(0), state):
            self.search.advance(0, int(action))
        else:
            self._synced = False

    def undo(self) -> None:
        self._synced = False

    # ------------------------------------------------------------------------------------------- search
    def choose(self, state, progress=None, *, simulations: int | None = None,
               seconds: float | None = None) -> Decision:
        if not (self._synced and np.array_equal(self.search.root_state(0), state)):
            self.search.reset(0, state)
            self._synced = True
        if seconds is None:
            seconds = self.time_limit
        elif seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if simulations is not None:
            budget = int(simulations)
        elif seconds is not None and self.time_limit is not None:
            budget = None  # a time-limited player: as many simulations as the time allows
        else:
            budget = self.config.simulations
        if budget is not None and budget < 1:
            raise ValueError(f"simulations must be >= 1, got {budget}")
        start = time.perf_counter()
        if (progress is None and seconds is None) or self.config.gumbel:
            result = self.search.run(self.evaluator, budget or self.config.simulations)  # the whole search compiled
            done = int(result.simulations[0])
            if progress is not None:
                progress(self._report(result, done, start, budget))
        else:
            result, done = self._run_chunks(budget, seconds, progress, start)
        action = int(self.search.choose(0.0, self.rng)[0])
        return self._decision(action, result, done, start)

    def _run_chunks(self, budget: int | None, seconds: float | None, progress, start: float):
        """Search until ``budget`` simulations, ``seconds``, a full tree or a True from ``progress``, in chunks
        sized to take about ``report_every`` seconds; returns (last result, simulations run)."""
        deadline = None if seconds is None else start + seconds
        floor = max(self.leaves, 1)  # a chunk fills at least one evaluator call
        done, chunk, result = 0, max(4, floor), None
        slowest = 0.0  # the most seconds one simulation of this search has cost (per chunk)
        while True:
            n = chunk if budget is None else min(chunk, budget - done)
            if self.max_tree_nodes is not None:
                n = min(n, max(self.max_tree_nodes - self.search.tree_size(0), 0))
            t0 = time.perf_counter()
            result = self.search.run(self.evaluator, max(n, 0))
            now = time.perf_counter()
            ran = int(result.simulations[0])
            done += ran
            full = self.max_tree_nodes is not None and self.search.tree_size(0) >= self.max_tree_nodes
            stop = False
            if progress is not None:
                report = self._report(result, done, start, budget)
                report["tree_full"] = full
                stop = bool(progress(report))
            if (stop or ran == 0 or full or (budget is not None and done >= budget)
                    or (deadline is not None and now >= deadline)):
                return result, done
            # the next chunk takes about report_every (and ends on the deadline) at the slowest cost per simulation
            # seen so far: the cost varies a hundredfold within one search (a mate found early makes most
            # simulations free, then exploration gets expensive again), and a chunk sized on a cheap one overran
            # a 500 ms budget by 400 ms. At most doubling, so one slow evaluation never leads to a long chunk.
            target = self.report_every if deadline is None else min(self.report_every, deadline - now)
            slowest = max(slowest, (now - t0) / max(ran, 1))
            chunk = int(np.clip(target / max(slowest, 1e-7), floor, max(2 * chunk, floor)))

    # ------------------------------------------------------------------------------------------- many positions
    def choose_batch(self, states, games=None) -> list[Decision]:
        """Search the positions of ``states`` (none finished) together and return one ``Decision`` each. With
        ``games`` (indices of the games of ``reset(games)``), each game keeps its tree between moves (subtree
        reuse, as ``choose``); without, the positions are independent and up to ``max_batch`` share a search.
        Each step of a search makes one evaluator call for all of its positions."""
        states = list(states)
        for s in states:
            if self.game.is_terminal(s):
                raise ValueError("choose_batch got a finished game: there is no move to choose")
        if not self.batched:  # a time budget is one position's: search them one after another
            if games is not None:
                raise ValueError(f"{self.name} searches by time: it plays one game at a time")
            return [self.choose(s) for s in states]
        if games is not None:
            return self._choose_in_games(states, [int(g) for g in games])
        out: list[Decision] = []
        for start in range(0, len(states), self.max_batch):
            part = states[start:start + self.max_batch]
            search = self._free_search
            if search is None or search.batch_size != len(part):
                search = BatchedMCTS(self.game, len(part), self.config, seed=self._seed)
                if len(part) == self.max_batch or self._free_search is None:
                    self._free_search = search
            search.set_roots(part)
            result = search.run(self.evaluator)
            actions = search.choose(0.0, self.rng)
            out += [decision_of(result, i, int(actions[i]), self.top) for i in range(len(part))]
        return out

    def _choose_in_games(self, states: list, games: list[int]) -> list[Decision]:
        if len(games) != len(states):
            raise ValueError(f"choose_batch: {len(states)} states but {len(games)} games")
        if any(not 0 <= g < self._games for g in games):
            raise ValueError(f"choose_batch: games are numbered 0 .. {self._games - 1} (reset(games={self._games}))")
        if self._batch is None:
            self._batch = BatchedMCTS(self.game, self._games, self.config, seed=self._seed)
        active = np.zeros(self._games, np.bool_)
        for s, g in zip(states, games, strict=True):
            if not (self._batch_synced[g] and np.array_equal(self._batch.root_state(g), s)):
                self._batch.reset(g, s)
                self._batch_synced[g] = True
            active[g] = True
        result = self._batch.run(self.evaluator, active=active)
        actions = self._batch.choose(0.0, self.rng)
        return [decision_of(result, g, int(actions[g]), self.top) for g in games]

    # ------------------------------------------------------------------------------------------- reporting
    def principal_variation(self, action: int | None = None, max_length: int = 64) -> list[int]:
        """Actions of the most visited line from the root (starting with ``action`` when given)."""
        return principal_variation(self.search, action, max_length)

    def top_moves(self, result=None, k: int = 5, pv_length: int = 12) -> list[MoveStat]:
        """The ``k`` most visited root moves of the current search, each with its principal variation."""
        return top_moves(self.search, result, k, pv_length)

    def _report(self, result, done: int, start: float, budget: int | None) -> dict:
        top = self.top_moves(result, max(self.top, self.report_moves), pv_length=64)
        value = float(result.value[0])
        t = self.search.tree
        return {"simulations": done, "total": budget, "visits": int(result.visits[0].sum()),
                "best": int(result.best_move[0]), "value": value, "win_probability": (value + 1.0) / 2.0,
                "top": top, "pvs": [m.pv for m in top[: self.top]], "tree_nodes": self.search.tree_size(0),
                "max_depth": int(_max_depth(t.parent[0], int(t.num_nodes[0]))),
                "seconds": time.perf_counter() - start}

    def _decision(self, action: int, result, done: int, start: float) -> Decision:
        value = float(result.value[0])
        return Decision(action, value=value, top=self.top_moves(result, self.top),
                        info={"simulations": done, "visits": int(result.visits[0].sum()),
                              "tree_nodes": self.search.tree_size(0),
                              "pv": self.principal_variation(action) if action >= 0 else [],
                              "win_probability": (value + 1.0) / 2.0, "seconds": time.perf_counter() - start})


def make_pure_mcts(game, arg, seed=0, simulations=None, rollouts=1, time_limit=None, **_):
    """``mcts[:N]``: N simulations per move (1000 by default) with ``rollouts`` random playouts per leaf (the
    game's own playout policy when it has one: ``game.playout_evaluator``); ``time_limit`` (seconds) searches that
    long a move instead of N simulations."""
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
    config = MCTSConfig.pure(n, leaves_per_tree=leaves)
    return MCTSAgent(game, evaluator, config, seed=seed,
                     name=f"mcts:{n}" if time_limit is None else f"mcts:{time_limit:g}s", time_limit=time_limit)
