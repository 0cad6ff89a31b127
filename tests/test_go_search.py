"""Go under the search: the compiled MCTS on Go rules, Go's playout evaluator, and the search agent's chunked
thinking (progress, stop, time budget, principal variations) that the GTP engine relies on."""

from __future__ import annotations

import time

import numpy as np
import pytest

import agents
import games
from engine.matches import play_game
from engine.mcts import BatchedMCTS, MCTSConfig, UniformEvaluator
from games.go.playout import PlayoutEvaluator


def test_mcts_compiles_and_searches_go():
    g = games.make("go", size=9)
    search = BatchedMCTS(g, 2, MCTSConfig(simulations=64), seed=0)
    search.set_roots([g.initial_state(), g.play_moves("E5 C3")])
    result = search.run(UniformEvaluator())
    assert (result.visits.sum(axis=1) == 64).all()
    # a game that ends inside the tree is scored by the rules the search was compiled against
    after_pass = g.play_moves("pass")  # White passing too ends the game on an empty board: White wins by komi
    search.set_roots([after_pass, after_pass])
    result = search.run(UniformEvaluator(), simulations=200)
    assert result.visits[0, g.pass_action] > 0 and result.q[0, g.pass_action] == pytest.approx(1.0)


def test_playout_values_see_who_is_ahead():
    g = games.make("go", size=5, komi=0.5)
    ev = PlayoutEvaluator(g, playouts=64, seed=1)
    legal = np.ones((2, g.num_actions), bool)
    white_behind = g.state_from_board(["..XO.", "..XO.", "..XO.", "..XO.", "..XO."], to_play="W")  # 15 to 10
    white_ahead = g.state_from_board([".XO..", ".XO..", ".XO..", ".XO..", ".XO.."], to_play="W")  # 10 to 15
    _, values = ev.evaluate_states(np.stack([white_behind, white_ahead]), legal)
    assert values[0] < 0 < values[1] and values[1] - values[0] > 0.8  # for White, the player to move


def test_pure_mcts_captures_the_cutting_stone():
    """The white stone cutting Black's wall is in atari: taking it (D4) keeps Black's side; otherwise White
    connects it and Black's area reaches White too (the only winning move)."""
    g = games.make("go", size=7, komi=0.5)
    state = g.state_from_board(["..X.O..",
                                "..X.O..",
                                "..X.O..",
                                "..O.O..",
                                "..X.O..",
                                "..X.O..",
                                "..X.O.."], to_play="B")
    agent = agents.make("mcts:3000", g, seed=0)
    assert g.format_move(state, agent.choose(state).action) == "D4"


def test_chunked_search_reports_stops_and_keeps_time():
    g = games.make("go", size=9)
    agent = agents.make("mcts:100000", g, seed=3)
    state = g.play_moves("E5 C3")
    reports = []

    def progress(info):
        reports.append(info)
        return len(reports) >= 3

    decision = agent.choose(state, progress)
    assert len(reports) == 3 and decision.info["simulations"] == reports[-1]["simulations"] < 100000
    top = reports[-1]["top"]
    assert top and top[0].visits >= top[-1].visits and top[0].pv[0] == top[0].action
    for stat in top:  # every principal variation is a legal line
        s = state
        for a in stat.pv:
            assert g.legal_mask(s)[a]
            s = g.apply(s, a)
    # a search on the same position goes on in the same tree
    visits = decision.info["visits"]
    again = agent.choose(state, simulations=50)
    assert again.info["visits"] == visits + 50
    started = time.perf_counter()
    timed = agent.choose(state, seconds=0.3, simulations=10**9)
    assert 0.2 < time.perf_counter() - started < 2.0 and timed.info["simulations"] > 0
    with pytest.raises(ValueError, match="simulations must be >= 1"):
        agent.choose(state, simulations=0)


def test_pure_mcts_beats_random_on_9x9():
    g = games.make("go", size=9, komi=7.5)
    for first in (0, 1):
        players = [agents.make("mcts:100", g, seed=first), agents.make("random", g, seed=first)]
        if first:
            players.reverse()
        rec = play_game(g, players)
        assert rec.result == (1 if first == 0 else -1)
