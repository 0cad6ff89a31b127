"""The agent interface and the simple players: random plays legal moves, minimax never loses."""

from __future__ import annotations

import pytest

import agents
import games


def play(game, first, second, state=None):
    state = game.initial_state() if state is None else state
    players = [first, second]
    for p in players:
        p.reset()
    while not game.is_terminal(state):
        d = players[game.to_play(state)].choose(state)
        for p in players:
            p.observe(state, d.action)
        state = game.apply(state, d.action)
    return game.result(state)


def test_minimax_never_loses_to_random_in_tictactoe():
    g = games.make("tictactoe")
    for seed in range(10):
        assert play(g, agents.make("minimax", g, seed=seed), agents.make("random", g, seed=seed)) >= 0
        assert play(g, agents.make("random", g, seed=seed), agents.make("minimax", g, seed=seed)) <= 0
    assert play(g, agents.make("minimax", g), agents.make("minimax", g, seed=1)) == 0


def test_random_agent_is_seeded_and_legal():
    g = games.make("connect4")
    a, b = agents.make("random", g, seed=5), agents.make("random", g, seed=5)
    s = g.initial_state()
    for _ in range(10):
        da, db = a.choose(s), b.choose(s)
        assert da.action == db.action and g.legal_mask(s)[da.action]
        s = g.apply(s, da.action)


def test_unknown_agent_lists_kinds():
    with pytest.raises(ValueError, match="known kinds: .*minimax.*random"):
        agents.make("stockfish9000", games.make("tictactoe"))
