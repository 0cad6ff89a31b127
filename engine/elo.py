"""Elo ratings from game results: a Bradley-Terry fit with confidence intervals.

The logistic Elo model ``P(a scores against b) = 1 / (1 + 10 ** ((R_b - R_a) / 400))`` is fitted to all games
played (win 1, draw 1/2, loss 0) by Newton's method on the penalised log-likelihood. One player is the anchor
(its rating is fixed, e.g. the random player at 0). A weak prior, as in BayesElo, adds ``prior_draws`` virtual
draws between every pair of players who met, which keeps ratings finite after perfect scores. Intervals come
from the inverse of the Hessian (the observed Fisher information) with the anchor held fixed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

ELO_SCALE = 400.0 / math.log(10.0)  # logistic slope: Elo points per natural-log unit of strength


@dataclass
class Rating:
    elo: float
    ci95: float  # half-width of the 95% interval (inf when the player is not connected to the anchor)
    games: int
    score: float  # points scored (wins + draws / 2)

    def __str__(self) -> str:
        return f"{self.elo:.0f} ± {self.ci95:.0f}"


def fit_elo(results: Iterable[tuple[str, str, float]], anchor: str | None = None, anchor_elo: float = 0.0,
            prior_draws: float = 1.0, iterations: int = 100) -> dict[str, Rating]:
    """Ratings of every player from ``(player_a, player_b, score_of_a)`` records (score 1, 0.5 or 0).

    ``anchor`` (default: the first player seen) keeps ``anchor_elo``.
    """
    games_ab: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])  # (a, b) with a < b
    players: list[str] = []
    counts: dict[str, int] = defaultdict(int)
    points: dict[str, float] = defaultdict(float)
    for a, b, s in results:
        if a == b:
            raise ValueError(f"a player cannot play itself: {a!r}")
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {s!r} for {a} vs {b}")
        for p in (a, b):
            if p not in counts:
                players.append(p)
            counts[p] += 1
        points[a] += s
        points[b] += 1.0 - s
        key, sa = ((a, b), s) if a < b else ((b, a), 1.0 - s)
        games_ab[key][0] += sa  # points of key[0]
        games_ab[key][1] += 1.0  # games
    if not players:
        return {}
    anchor = players[0] if anchor is None else anchor
    if anchor not in counts:
        raise ValueError(f"anchor {anchor!r} played no game; players: {', '.join(players)}")
    index = {p: i for i, p in enumerate(players)}
    n = len(players)
    pairs = [(index[a], index[b], pts + prior_draws / 2.0, g + prior_draws) for (a, b), (pts, g) in games_ab.items()]
    free = [i for i in range(n) if players[i] != anchor]
    theta = np.zeros(n)  # natural-log strengths; the anchor stays at 0
    hess = np.zeros((n, n))
    for _ in range(iterations):
        grad = np.zeros(n)
        hess[:] = 0.0
        for i, j, s_ij, g_ij in pairs:
            p = 1.0 / (1.0 + math.exp(theta[j] - theta[i]))
            grad[i] += s_ij - g_ij * p
            grad[j] -= s_ij - g_ij * p
            w = g_ij * p * (1.0 - p)
            hess[i, i] += w
            hess[j, j] += w
            hess[i, j] -= w
            hess[j, i] -= w
        h = hess[np.ix_(free, free)]
        step = np.linalg.lstsq(h, grad[free], rcond=None)[0]
        theta[free] += np.clip(step, -2.0, 2.0)
        if np.max(np.abs(step), initial=0.0) < 1e-9:
            break
    h = hess[np.ix_(free, free)]
    connected = _connected_to(anchor, players, games_ab)
    try:
        cov = np.linalg.inv(h) if free else np.zeros((0, 0))
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(h)
    out = {}
    for i, p in enumerate(players):
        if p == anchor:
            ci = 0.0
        elif p not in connected:
            ci = math.inf
        else:
            k = free.index(i)
            ci = 1.96 * math.sqrt(max(cov[k, k], 0.0)) * ELO_SCALE
        out[p] = Rating(anchor_elo + theta[i] * ELO_SCALE, ci, counts[p], points[p])
    return out


def _connected_to(anchor, players, games_ab) -> set[str]:
    adj = defaultdict(set)
    for a, b in games_ab:
        adj[a].add(b)
        adj[b].add(a)
    seen, todo = {anchor}, [anchor]
    while todo:
        for q in adj[todo.pop()]:
            if q not in seen:
                seen.add(q)
                todo.append(q)
    return seen


def expected_score(elo_a: float, elo_b: float) -> float:
    return 1.0 / (1.0 + 10.0 ** ((elo_b - elo_a) / 400.0))


def elo_difference(score: float) -> float:
    """Elo difference implied by a score fraction (clipped away from 0 and 1)."""
    score = min(max(score, 1e-4), 1 - 1e-4)
    return -400.0 * math.log10(1.0 / score - 1.0)
