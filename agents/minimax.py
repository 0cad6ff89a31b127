"""Exact game values by negamax with a transposition table, for games small enough to solve (tic-tac-toe,
tiny Connect Four boards, short endgames). Values are from the view of the player to move: +1 win, 0 draw,
-1 loss; the tests use it as the exhaustive solver that the trained agents are checked against.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.typed import Dict

from games.base import ONGOING


# Not cached on disk: a signature holding the game's kernels (``rules``) is never found again by a new process
# and grows the cache index until re-saving it fails (see engine/perft.py).
@njit
def _negamax(rules, params, state, num_actions, table, alpha, beta):
    out = rules.outcome(params, state)
    if out != ONGOING:
        # outcome is from the first player's view; to_play is the player who would move now
        return out if rules.to_play(params, state) == 0 else -out
    key = rules.state_hash(params, state)
    if key in table:
        return table[key]
    mask = np.zeros(num_actions, dtype=np.bool_)
    rules.legal_mask(params, state, mask)
    best = -2
    child = np.empty_like(state)
    a0, b0 = alpha, beta
    for a in range(num_actions):
        if not mask[a]:
            continue
        child[:] = state
        rules.apply(params, child, a)
        v = -_negamax(rules, params, child, num_actions, table, -beta, -alpha)
        if v > best:
            best = v
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break
    if a0 < best < b0:  # exact value: cache it (bounds from cut-offs are not stored)
        table[key] = best
    elif a0 == -1 and b0 == 1:
        table[key] = best
    return best


def _new_table():
    return Dict.empty(key_type=types.int64, value_type=types.int64)


class Solver:
    """Exact values of a small game's positions (memoised across calls)."""

    def __init__(self, game):
        self.game = game
        self.table = _new_table()

    def value(self, state: np.ndarray) -> int:
        """Game-theoretic value for the player to move: +1, 0 or -1."""
        return int(_negamax(self.game.rules, self.game.params, state, self.game.num_actions, self.table, -1, 1))

    def action_values(self, state: np.ndarray) -> np.ndarray:
        """Value of each action for the player to move (illegal actions: -2)."""
        values = np.full(self.game.num_actions, -2, dtype=np.int64)
        for a in self.game.legal_actions(state):
            values[a] = -self.value(self.game.apply(state, a))
        return values

    def optimal_actions(self, state: np.ndarray) -> list[int]:
        values = self.action_values(state)
        return [int(a) for a in np.flatnonzero(values == values.max())]


class ExactEvaluator:
    """A search evaluator (``engine.mcts``) of game-theoretic values from ``Solver`` (small games: tests and
    exact references).

    ``policy="uniform"`` gives a flat prior; ``"optimal"`` puts the prior on the optimal moves.
    """

    def __init__(self, game, policy: str = "uniform"):
        if policy not in ("uniform", "optimal"):
            raise ValueError(f"policy must be 'uniform' or 'optimal', got {policy!r}")
        self.game = game
        self.policy = policy
        self.solver = Solver(game)

    def evaluate_states(self, states, legal):
        n = states.shape[0]
        values = np.zeros(n, np.float32)
        logits = np.zeros(legal.shape, np.float32)
        for i in range(n):
            values[i] = self.solver.value(states[i])
            if self.policy == "optimal":
                av = self.solver.action_values(states[i])
                logits[i] = np.where(av == av.max(), 0.0, -10.0)
        return logits, values
