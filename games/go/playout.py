"""Pure Monte-Carlo evaluation for Go: random playouts that never fill their own eyes.

The generic ``engine.mcts.RolloutEvaluator`` draws uniformly over every legal move, passes and eye-filling
moves included: on a Go board such games fill their own eyes, rarely end by two passes and run to the
maximum length (half a millisecond a playout on 9x9, through the full legal mask at every move), and their
results say little about the position. The playouts of Brügmann (1993) and MoGo (Gelly et al. 2006) leave
one's own eyes alone and pass when nothing else is left, so games end when the board is settled and are
scored by Tromp-Taylor (``games.go.rules.play_random``, ten times faster). ``agents.make("mcts:N", go)``
uses this evaluator.
"""

from __future__ import annotations

import numpy as np

from . import rules


class PlayoutEvaluator:
    """``evaluate_states(states, legal) -> (logits, values)``: uniform logits, and the mean result of
    ``playouts`` random playouts per state for the player to move (the search's evaluator interface).
    Playouts draw from Numba's generator (seeded once by ``seed`` here and by ``engine.cli.seed_everything``)."""

    def __init__(self, game, playouts: int = 1, seed: int | None = 0):
        if playouts < 1:
            raise ValueError(f"playouts must be >= 1, got {playouts}")
        self.game = game
        self.playouts = int(playouts)
        if seed is not None:
            rules.seed_playouts(int(seed) % 2**32)

    def evaluate_states(self, states, legal):
        states = np.ascontiguousarray(states)
        values = np.zeros(states.shape[0], np.float32)
        out = np.zeros(states.shape[0], np.float32)
        for _ in range(self.playouts):
            rules.playout_values(self.game.params, states, out)
            values += out
        return np.zeros(legal.shape, np.float32), values / self.playouts

