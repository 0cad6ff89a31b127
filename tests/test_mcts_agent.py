"""The pure-MCTS player (``agents.make("mcts:N", game)``) on top of the batched search."""

from __future__ import annotations

import numpy as np
import pytest

import agents
import games
from engine.arena import play_game


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
