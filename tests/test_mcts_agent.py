"""The pure-MCTS player (``agents.make("mcts:N", game)``) on top of the batched search."""

from __future__ import annotations

import numpy as np
import pytest

import agents
import games
from engine.matches import play_game


def test_pure_mcts_never_loses_tic_tac_toe_to_random():
    g = games.make("tictactoe")
    for seed in range(3):
        mcts, rnd = agents.make("mcts:300", g, seed=seed), agents.make("random", g, seed=seed)
        assert play_game(g, [mcts, rnd]).result >= 0
        assert play_game(g, [rnd, mcts]).result <= 0


def test_pure_mcts_draws_perfect_play():
    g = games.make("tictactoe")
    rec = play_game(g, [agents.make("mcts:2000", g), agents.make("minimax", g)])
    assert rec.result == 0


def test_pure_mcts_reuses_its_subtree_and_reports_its_search():
    g = games.make("connect4")
    agent = agents.make("mcts:200", g, seed=1)
    state = g.initial_state()
    decision = agent.choose(state)
    assert decision.top and decision.top[0].action == decision.action and -1 <= decision.value <= 1
    agent.observe(state, decision.action)
    state = g.apply(state, decision.action)
    kept = agent.search.tree_size(0)
    assert kept > 1  # the chosen child's subtree became the tree
    reply = int(np.argmax(agent.search.result().visits[0]))
    agent.observe(state, reply)
    agent.choose(g.apply(state, reply))
    assert agent.search.edges(0).visits.sum() >= 200
    # a position the agent did not follow starts a fresh tree
    agent.reset()
    fresh = g.parse_position("4444")
    assert agent.choose(fresh).info["simulations"] == 200
    np.testing.assert_array_equal(agent.search.root_state(0), fresh)


def test_bad_spec():
    g = games.make("tictactoe")
    with pytest.raises(ValueError, match="number of simulations"):
        agents.make("mcts:lots", g)


def test_progress_reports_search_in_chunks_without_changing_it():
    """With a progress callback the search runs in chunks and reports; the result is the one-call search's."""
    g = games.make("connect4")
    state = g.parse_position("44")
    plain = agents.make("mcts:300", g, seed=4).choose(state)
    reports = []
    chunked = agents.make("mcts:300", g, seed=4)
    decision = chunked.choose(state, progress=reports.append)
    assert decision.action == plain.action and decision.value == pytest.approx(plain.value)
    assert [(m.action, m.visits) for m in decision.top] == [(m.action, m.visits) for m in plain.top]
    sims = [r["simulations"] for r in reports]
    assert len(reports) > 1 and sims == sorted(sims) and sims[-1] == 300
    last = reports[-1]
    assert last["pvs"][0][0] == last["top"][0].action and last["tree_nodes"] == chunked.search.tree_size(0)
    s = state
    for a in decision.info["pv"]:  # the principal variation is a legal line from the root
        assert g.legal_mask(s)[a]
        s = g.apply(s, a)
    assert decision.info["pv"][0] == decision.action and last["max_depth"] >= len(decision.info["pv"])


def test_progress_returning_true_stops_the_search():
    g = games.make("connect4")
    agent = agents.make("mcts:100000", g, seed=1)
    decision = agent.choose(g.initial_state(), progress=lambda r: r["simulations"] >= 50)
    assert 50 <= decision.info["simulations"] < 1000 and g.legal_mask(g.initial_state())[decision.action]
    agent.reset()
    agent.max_tree_nodes = 80  # the tree cap ends a search too
    reports = []
    agent.choose(g.initial_state(), progress=reports.append)
    assert agent.search.tree_size(0) <= 80 and reports[-1]["tree_full"]
    agent.simulations = 25
    agent.max_tree_nodes = None
    agent.reset()
    assert agent.choose(g.initial_state(), progress=lambda r: None).info["simulations"] == 25
    with pytest.raises(ValueError, match=">= 1"):
        agent.simulations = 0
