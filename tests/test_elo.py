"""Bradley-Terry Elo: recovers known ratings, intervals shrink with games, perfect scores stay finite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.elo import elo_difference, expected_score, fit_elo


def simulate(true_elo: dict[str, float], games_per_pair: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    names = list(true_elo)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p = expected_score(true_elo[a], true_elo[b])
            for g in range(games_per_pair):
                s = float(rng.random() < p)
                out.append((a, b, s) if g % 2 == 0 else (b, a, 1.0 - s))
    return out


def test_recovers_true_ratings_within_interval():
    true = {"random": 0.0, "mcts": 400.0, "net1": 650.0, "net2": 800.0}
    ratings = fit_elo(simulate(true, 400), anchor="random", prior_draws=0.0)
    assert ratings["random"].elo == 0.0 and ratings["random"].ci95 == 0.0
    for name, elo in true.items():
        r = ratings[name]
        assert abs(r.elo - elo) <= max(r.ci95, 1.0), (name, r, elo)
        assert r.games == 1200


def test_intervals_shrink_with_more_games():
    true = {"a": 0.0, "b": 200.0}
    small = fit_elo(simulate(true, 40), anchor="a")["b"].ci95
    large = fit_elo(simulate(true, 1000), anchor="a")["b"].ci95
    assert large < small / 3


def test_perfect_score_stays_finite_and_ordered():
    results = [("new", "old", 1.0)] * 20
    r = fit_elo(results, anchor="old")
    assert math.isfinite(r["new"].elo) and r["new"].elo > 300


def test_single_pair_matches_score_formula():
    results = [("a", "b", 1.0)] * 75 + [("a", "b", 0.0)] * 25
    r = fit_elo(results, anchor="b", prior_draws=0.0)
    assert r["a"].elo == pytest.approx(elo_difference(0.75), abs=0.5)


def test_disconnected_players_have_infinite_interval_and_bad_input_raises():
    r = fit_elo([("a", "b", 0.5), ("c", "d", 1.0)], anchor="a")
    assert math.isinf(r["c"].ci95)
    with pytest.raises(ValueError, match="score must be in"):
        fit_elo([("a", "b", 2.0)])
    with pytest.raises(ValueError, match="anchor 'z' played no game"):
        fit_elo([("a", "b", 1.0)], anchor="z")
