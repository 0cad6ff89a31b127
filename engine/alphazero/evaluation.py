"""The evaluation stage: batched matches between networks and fixed baselines, rated with Bradley-Terry Elo.

After each iteration the new network plays the previous one (AlphaGo Zero's evaluator, optionally gating which
network generates self-play data) and fixed yardsticks: the random player and pure MCTS with random rollouts at
a fixed budget. All games of a match are played at once: each side keeps one search tree per game and searches
only the games where it is to move, so a network side makes one network call per search step for all of them.
Games start from random openings of ``opening_moves`` plies, each opening played twice with colours swapped.
Ratings come from ``engine.elo.fit_elo`` over every game played so far (random anchored at 0).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator, tree_seed


class BatchedPlayer:
    """A player of G simultaneous games: ``start(states)``, ``choose(mask) -> actions``, ``advance(i, action)``."""

    name = "player"

    def start(self, states: list[np.ndarray], seed: int) -> None:
        raise NotImplementedError

    def choose(self, to_move: np.ndarray) -> np.ndarray:
        """Moves (int64[G]) for the games flagged in ``to_move``."""
        raise NotImplementedError

    def advance(self, i: int, action: int) -> None:
        """Game ``i`` went on with ``action`` (by either side)."""


class SearchPlayer(BatchedPlayer):
    """Plays the search's best move with any evaluator (network or rollouts), no noise, subtree reuse."""

    def __init__(self, game, name: str, evaluator, config: MCTSConfig, games: int):
        self.game = game
        self.name = name
        self.evaluator = evaluator
        self.config = config.for_play()
        self.search = BatchedMCTS(game, games, self.config, seed=0)
        self.games = games
        self._live = np.zeros(games, np.bool_)
        self._rng = np.random.default_rng(0)

    def start(self, states, seed: int) -> None:
        self.search.set_roots(states, seeds=[tree_seed(seed, i) for i in range(self.games)])
        self._live[:] = True
        self._rng = np.random.default_rng([seed, 0xE7A1])

    def choose(self, to_move):
        self.search.run(self.evaluator, active=to_move)
        return self.search.choose(0.0, self._rng)

    def advance(self, i, action):
        self.search.advance(i, action)

    def finish(self, i: int) -> None:
        self._live[i] = False


class RandomPlayer(BatchedPlayer):
    name = "random"

    def __init__(self, game, games: int):
        self.game = game
        self.games = games
        self.states: list[np.ndarray] = []
        self._rng = np.random.default_rng(0)

    def start(self, states, seed):
        self.states = [s.copy() for s in states]
        self._rng = np.random.default_rng([seed, 0x4A7D])

    def choose(self, to_move):
        out = np.full(self.games, -1, np.int64)
        for i in np.flatnonzero(to_move):
            out[i] = int(self._rng.choice(np.flatnonzero(self.game.legal_mask(self.states[i]))))
        return out

    def advance(self, i, action):
        self.game.rules.apply(self.game.params, self.states[i], action)


def random_openings(game, count: int, plies: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` positions after ``plies`` uniformly random moves (never a finished game)."""
    out = []
    while len(out) < count:
        s = game.initial_state()
        for _ in range(plies):
            legal = np.flatnonzero(game.legal_mask(s))
            if legal.size == 0:
                break
            s = game.apply(s, int(rng.choice(legal)))
        if not game.is_terminal(s):
            out.append(s)
    return out


def play_match(game, a: BatchedPlayer, b: BatchedPlayer, games: int, opening_moves: int, seed: int,
               progress: Callable[[int], None] | None = None) -> list[tuple[str, str, float]]:
    """``games`` games between ``a`` and ``b`` (both built for that many games), all at once; each opening is
    played twice with colours swapped. Returns ``(first, second, score of first)`` records."""
    rng = np.random.default_rng([seed, 0x0BE4])
    openings = random_openings(game, (games + 1) // 2, opening_moves, rng)
    starts = [openings[i // 2] for i in range(games)]
    first_is_a = np.array([i % 2 == 0 for i in range(games)])
    states = [s.copy() for s in starts]
    for p in (a, b):
        p.start([s.copy() for s in starts], seed)
    live = np.array([not game.is_terminal(s) for s in states])
    results = np.zeros(games, np.int64)
    moves = np.zeros(games, np.int64)
    done = 0
    while live.any():
        movers = np.array([game.to_play(s) if live[i] else -1 for i, s in enumerate(states)])
        a_moves = live & (((movers == 0) & first_is_a) | ((movers == 1) & ~first_is_a))
        b_moves = live & ~a_moves
        chosen = np.full(games, -1, np.int64)
        for player, mask in ((a, a_moves), (b, b_moves)):
            if mask.any():
                picks = player.choose(mask)
                chosen[mask] = picks[mask]
        for i in np.flatnonzero(live):
            action = int(chosen[i])
            states[i] = game.apply(states[i], action)  # checked: an illegal choice is an error
            moves[i] += 1
            if game.is_terminal(states[i]) or moves[i] >= game.max_game_length:
                live[i] = False
                results[i] = game.result(states[i]) if game.is_terminal(states[i]) else 0
                done += 1
                if progress is not None:
                    progress(done)
            else:
                a.advance(i, action)
                b.advance(i, action)
    records = []
    for i in range(games):
        first, second = (a.name, b.name) if first_is_a[i] else (b.name, a.name)
        records.append((first, second, (int(results[i]) + 1) / 2.0))
    return records


def score_of(records: list[tuple[str, str, float]], name: str) -> float:
    """Mean score of ``name`` over ``records``."""
    total = n = 0.0
    for first, second, s in records:
        if first == name:
            total, n = total + s, n + 1
        elif second == name:
            total, n = total + 1.0 - s, n + 1
    return total / n if n else float("nan")


def mcts_baseline(game, simulations: int, games: int, seed: int = 0) -> SearchPlayer:
    """Pure MCTS with one random rollout per leaf and ``simulations`` simulations per move: the search of
    ``agents.make("mcts:N")`` (``MCTSConfig.pure``)."""
    return SearchPlayer(game, f"mcts:{simulations}", RolloutEvaluator(game, 1, seed), MCTSConfig.pure(simulations),
                        games)
