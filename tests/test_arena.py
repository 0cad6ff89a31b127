"""Arena: games between agents, records, score tables and the command line."""

from __future__ import annotations

import numpy as np

import agents
import games
from agents.mcts import MCTSAgent
from engine.matches import MatchResult, play_game, play_games, random_openings, run_match
from engine.mcts import MCTSConfig, UniformEvaluator

from .test_cli import last_json, run_cli


def test_play_game_alternates_and_records():
    g = games.make("tictactoe")
    rec = play_game(g, [agents.make("minimax", g), agents.make("random", g, seed=1)])
    assert rec.result in (0, 1) and rec.reason == "end"
    state = g.initial_state()
    for a in rec.actions:
        state = g.apply(state, a)
    assert g.is_terminal(state) and g.result(state) == rec.result


def test_max_moves_adjudicates_a_draw():
    g = games.make("connect4")
    rec = play_game(g, [agents.make("random", g), agents.make("random", g, seed=2)], max_moves=5)
    assert rec.reason == "max_moves" and rec.result == 0 and len(rec.actions) == 5


def test_match_table_counts(tmp_path):
    g = games.make("tictactoe")
    players = {"minimax": agents.make("minimax", g), "random": agents.make("random", g, seed=3)}
    result = run_match(g, players, 6, save_dir=tmp_path, progress=False)
    rows = {r["player"]: r for r in result.table(anchor="random")}
    assert rows["minimax"]["losses"] == 0 and rows["minimax"]["games"] == 6
    assert rows["minimax"]["wins"] + rows["minimax"]["draws"] == 6
    assert rows["minimax"]["elo"] > rows["random"]["elo"] == 0
    assert len(list(tmp_path.glob("*.txt"))) == 6
    firsts = [a for a, _, _ in result.records]
    assert firsts.count("minimax") == 3  # colours alternate


def test_match_result_scores():
    m = MatchResult()
    m.add("a", "b", 1)
    m.add("b", "a", 0)
    m.add("a", "b", 0)
    assert m.records == [("a", "b", 1.0), ("b", "a", 0.5), ("a", "b", 0.5)]


def test_arena_cli():
    out = last_json(run_cli("engine.arena", "tictactoe", "minimax", "random", "--games", "4", "--json"))
    rows = {r["player"]: r for r in out["table"]}
    assert rows["minimax"]["losses"] == 0 and out["anchor"] == "random" and len(out["games"]) == 4
    proc = run_cli("engine.arena", "tictactoe", "minimax", "nobody", check=False)
    assert proc.returncode == 2 and "unknown player 'nobody'" in proc.stderr


class CountingUniform(UniformEvaluator):
    """A uniform evaluator through the Python call, counting the calls and the leaves of each."""

    def __init__(self):
        super().__init__(compiled=False)
        self.calls: list[int] = []

    def __call__(self, planes, legal):
        self.calls.append(len(legal))
        return super().__call__(planes, legal)


def test_games_side_by_side_share_each_search_step_and_keep_their_subtrees():
    """Eight games between two search agents: each agent's turn is one search over every game where it is to move
    (one evaluator call per step for all of them), every tree advances with the moves played (subtree reuse), and
    every record replays to its result."""
    g = games.make("tictactoe")
    ev_a, ev_b = CountingUniform(), CountingUniform()
    a = MCTSAgent(g, ev_a, MCTSConfig(simulations=16), name="a", top=9)
    b = MCTSAgent(g, ev_b, MCTSConfig(simulations=16), name="b", top=9)
    starts = random_openings(g, 4, 1, np.random.default_rng(0))
    starts = [starts[i // 2] for i in range(8)]
    recs = play_games(g, a, b, starts, [i % 2 == 0 for i in range(8)])
    assert len(recs) == 8
    for start, rec in zip(starts, recs, strict=True):
        state = start.copy()
        for action in rec.actions:
            state = g.apply(state, action)
        assert g.is_terminal(state) and rec.result == g.result(state)
    # a's first turn covers the four games where it moves first: 16 steps of 4 leaves, not 64 calls of one
    assert ev_a.calls[0] == 4 and max(ev_a.calls) <= 8
    assert len(ev_a.calls) < sum(len(r.actions) for r in recs) * 16 / 2
    # reuse: a game's tree keeps the searches of earlier moves, so a later root has more visits than one search
    assert all(sum(m.visits for m in rec.decisions[0].top) <= 16 for rec in recs)
    assert any(sum(m.visits for m in d.top) > 16 for rec in recs for d in rec.decisions[2:])


def test_batched_match_alternates_colours_and_mcts_beats_random():
    game = games.make("tictactoe")
    mcts, rnd = agents.make("mcts:200", game, seed=0), agents.make("random", game, seed=1)
    assert mcts.batched and rnd.batched
    result = run_match(game, {"mcts:200": mcts, "random": rnd}, 8, progress=False)
    assert len(result.records) == 8
    assert sum(1 for a, _, _ in result.records if a == "mcts:200") == 4
    assert result.score("mcts:200") >= 0.75 and result.score("random") == 1 - result.score("mcts:200")


def test_external_programs_play_one_game_at_a_time():
    game = games.make("tictactoe")

    class OneGame(agents.base.RandomAgent):
        batched = False

        def reset(self, games=1):
            assert games == 1, "a one-game agent was asked to play games side by side"

    result = run_match(game, {"one": OneGame(game), "random": agents.make("random", game)}, 4, progress=False)
    assert len(result.records) == 4


def test_arena_opening_moves_vary_the_games_and_are_seeded():
    args = ("engine.arena", "connect4", "mcts:30", "mcts:60", "--games", "4", "--opening-moves", "3", "--json")
    one = last_json(run_cli(*args, "--seed", "5"))
    two = last_json(run_cli(*args, "--seed", "5"))
    assert one["games"] == two["games"] and len(one["games"]) == 4
    proc = run_cli("engine.arena", "connect4", "random", "random", "--opening-moves", "-1", check=False)
    assert proc.returncode == 2 and "--opening-moves must be >= 0" in proc.stderr
