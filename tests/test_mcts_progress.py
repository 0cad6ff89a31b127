"""The pure-MCTS player's progress reports and time limit (``agents.mcts.MCTSAgent``): a search cut into
chunks for progress reports is the same search, move for move, as one uninterrupted run."""

from __future__ import annotations

import time

import pytest

import agents
import games


@pytest.mark.parametrize("name", ["connect4", "chess"])
def test_chunked_search_is_the_same_search(name):
    g = games.make(name)
    quiet, reporting = agents.make("mcts:300", g, seed=3), agents.make("mcts:300", g, seed=3)
    state = g.initial_state()
    for _ in range(3):
        reports = []
        a, b = quiet.choose(state), reporting.choose(state, progress=reports.append)
        assert a.action == b.action and abs(a.value - b.value) < 1e-6
        assert [(m.action, m.visits) for m in a.top] == [(m.action, m.visits) for m in b.top]
        assert reports and reports[-1]["simulations"] == 300 and reports[-1]["total"] == 300
        sims = [r["simulations"] for r in reports]
        assert sims == sorted(sims) and all(g.legal_mask(state)[r["best"]] for r in reports)
        assert all(0.0 <= r["win_probability"] <= 1.0 for r in reports)
        for agent in (quiet, reporting):
            agent.observe(state, a.action)
        state = g.apply(state, a.action)


def test_time_limit_bounds_the_search():
    g = games.make("connect4")
    agent = agents.make("mcts", g, seed=0, time_limit=0.3)
    assert agent.name == "mcts:0.3s"
    agent.choose(g.initial_state())  # warm up
    reports = []
    t0 = time.perf_counter()
    d = agent.choose(g.apply(g.initial_state(), 3), progress=reports.append)
    elapsed = time.perf_counter() - t0
    assert 0.3 <= elapsed < 1.5 and d.info["simulations"] > 100
    assert len(reports) >= 2 and reports[-1]["total"] is None and reports[-1]["simulations"] == d.info["simulations"]
    with pytest.raises(ValueError, match="time_limit"):
        agents.make("mcts", g, time_limit=0)


def test_pure_mcts_passes_to_win_at_go():
    """Black passed in a won position for White: passing ends the game and wins (Tromp-Taylor plus komi).
    Every root move is tried before any twice, so the search finds the pass (the last action)."""
    g = games.make("go", size=9)
    state = g.play_moves("E5 B9 pass")
    d = agents.make("mcts:400", g, seed=1).choose(state)
    assert d.action == g.pass_action and d.top[0].value == 1.0
