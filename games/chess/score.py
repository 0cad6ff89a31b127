"""The centipawn scale of values: how a value in [-1, 1] (the expected result for the side to move) maps to the
``score cp`` of chess engines, and back.

Centipawns are a material unit, not a probability; engines relate them to results with a logistic model. This
module uses Lichess's win-rate model (fitted to rated games; lichess.org's accuracy documentation):
the expected score of a side ``s = 1 / (1 + exp(-K * cp))`` with ``K = 0.00368208`` per centipawn. With
``value = 2 s - 1`` (a win is +1, a draw 0) that is

    value = tanh(K * cp / 2),        cp = 2 * atanh(value) / K  (about 543 * atanh(value)),

monotone in both directions: 0 -> 0 cp, 0.18 -> 99 cp (about a pawn), 0.5 -> 298 cp, 0.9 -> 800 cp,
0.99 -> 1,438 cp; the score is clipped at +-``MAX_CP``.
"""

from __future__ import annotations

import math

WIN_RATE_K = 0.00368208
"""Lichess's logistic slope per centipawn."""
CP_PER_ATANH = 2.0 / WIN_RATE_K
"""cp = CP_PER_ATANH * atanh(value)."""
MAX_CP = 12800
"""The largest score reported (a value within 1e-10 of +-1)."""


def value_to_cp(value: float) -> int:
    """Centipawns for a value in [-1, 1] (monotone; 0 -> 0)."""
    v = max(-1.0, min(1.0, float(value)))
    if abs(v) >= 1.0 - 1e-10:
        return MAX_CP if v > 0 else -MAX_CP
    return int(round(max(-MAX_CP, min(MAX_CP, CP_PER_ATANH * math.atanh(v)))))


def cp_to_value(cp: float) -> float:
    """The value in (-1, 1) of a score in centipawns (the inverse of ``value_to_cp``)."""
    return math.tanh(float(cp) / CP_PER_ATANH)
