"""Leaf evaluators behind one interface.

An evaluator is a callable ``evaluate(planes[L, C, H, W] float32, legal[L, A] bool) -> (logits[L, A],
value[L])``, value in [-1, 1] for the player to move at each leaf (``nets.inference.PolicyValueEvaluator``
is the network one). The search looks for two optional extensions:

* ``builtin``: an ``(EVAL_* kind, rollouts)`` pair the compiled search evaluates itself, with no Python
  round trip (``UniformEvaluator``, ``RolloutEvaluator``);
* ``evaluate_states(states[L, S], legal[L, A])``: evaluators that need positions, not planes
  (``RolloutEvaluator`` outside the search, ``agents.minimax.ExactEvaluator``).

``CachedEvaluator`` wraps any of them with a fixed-size table keyed by ``state_hash`` that the compiled search
reads and fills itself (hits cost no evaluator call).
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from ._core import EVAL_ROLLOUT, EVAL_UNIFORM, rollout_states, splitmix64
from .tree import allocate_cache


class Evaluator(Protocol):
    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """planes float32[L, C, H, W], legal bool[L, A] -> logits float32[L, A], value float32[L]."""
        ...


class UniformEvaluator:
    """Uniform prior, value 0: search cost alone (benchmarks), and breadth-first-like search.

    ``compiled=True`` lets the search evaluate inside its compiled step (same results, no round trips);
    ``compiled=False`` goes through the Python call like a network would.
    """

    def __init__(self, compiled: bool = True):
        self.builtin = (EVAL_UNIFORM, 0) if compiled else None

    def __call__(self, planes, legal):
        n = legal.shape[0]
        return np.zeros((n, legal.shape[1]), np.float32), np.zeros(n, np.float32)


class RolloutEvaluator:
    """Pure MCTS: uniform prior and the mean result of ``rollouts`` uniformly random playouts from the leaf.

    In a search the rollouts run inside the compiled step, drawing from each tree's own random stream;
    ``evaluate_states`` evaluates positions directly (seeded by ``seed``).
    """

    def __init__(self, game, rollouts: int = 1, seed: int = 0):
        if rollouts < 1:
            raise ValueError(f"rollouts must be >= 1, got {rollouts}")
        self.game = game
        self.rollouts = int(rollouts)
        self.builtin = (EVAL_ROLLOUT, self.rollouts)
        self._rng = np.array([splitmix64(np.uint64(seed % 2**64))], np.uint64)

    def evaluate_states(self, states, legal):
        states = np.ascontiguousarray(states)
        values = np.zeros(states.shape[0], np.float32)
        scratch = np.empty(states.shape[1], states.dtype)
        mask = np.empty(self.game.num_actions, np.bool_)
        rollout_states(self.game.rules, self.game.params, states, scratch, mask, self._rng, self.rollouts,
                       self.game.max_game_length, values)
        return np.zeros(legal.shape, np.float32), values


class CachedEvaluator:
    """An evaluation cache in front of ``inner``: a direct-mapped table of ``size`` entries (a power of two)
    keyed by ``state_hash``. Inside a search the compiled step looks leaves up and stores new evaluations
    itself; the table lives as long as this object (across moves and games), so transpositions and repeated
    positions cost one evaluation. ``hits`` and ``misses`` count the lookups.

    Called directly (outside a search) it keys entries by a hash of the planes, which determine a network's
    output exactly.

    A ``state_hash`` key is exact when the network input is a function of the hashed position. Where the planes
    also carry the history (Go's and chess's last positions), equal positions reached by different histories
    share an entry, as in engines that cache by position.
    """

    def __init__(self, inner, size: int = 1 << 16, num_actions: int | None = None):
        if size < 1 or size & (size - 1):
            raise ValueError(f"cache size must be a power of two, got {size}")
        self.inner = inner
        self.size = int(size)
        self.table = None
        if num_actions is not None:
            self.table_for(num_actions)

    def table_for(self, num_actions: int):
        """The table, allocated on first use."""
        if self.table is None:
            self.table = allocate_cache(self.size, num_actions)
        elif self.table.logits.shape[1] != num_actions:
            raise ValueError(f"this cache holds {self.table.logits.shape[1]} actions per entry, not {num_actions}")
        return self.table

    @property
    def hits(self) -> int:
        return 0 if self.table is None else int(self.table.stats[0])

    @property
    def misses(self) -> int:
        return 0 if self.table is None else int(self.table.stats[1])

    def clear(self) -> None:
        if self.table is not None:
            self.table.filled[:] = False
            self.table.stats[:] = 0

    def __call__(self, planes, legal):
        table = self.table_for(legal.shape[1])
        n = planes.shape[0]
        keys = np.array([hash(planes[i].tobytes() + legal[i].tobytes()) for i in range(n)], np.int64)
        slots = ((keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)).astype(np.int64)
        slots &= self.size - 1
        hit = table.filled[slots] & (table.keys[slots] == keys)
        logits = np.empty((n, legal.shape[1]), np.float32)
        values = np.empty(n, np.float32)
        logits[hit] = table.logits[slots[hit]]
        values[hit] = table.value[slots[hit]]
        miss = np.flatnonzero(~hit)
        table.stats[0] += n - miss.size
        table.stats[1] += miss.size
        if miss.size:
            new_logits, new_values = self.inner(planes[miss], legal[miss])
            logits[miss] = new_logits
            values[miss] = np.asarray(new_values).reshape(-1)
            table.keys[slots[miss]] = keys[miss]
            table.filled[slots[miss]] = True
            table.logits[slots[miss]] = logits[miss]
            table.value[slots[miss]] = values[miss]
        return logits, values


class TimedEvaluator:
    """Wraps an evaluator; adds up the seconds and positions spent in it (the network's share of time)."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0
        self.positions = 0

    def __call__(self, planes, legal):
        t0 = time.perf_counter()
        out = self.inner(planes, legal)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.positions += len(planes)
        return out
