"""Arena: games between agents, records, score tables and the command line."""

from __future__ import annotations

import agents
import games
from engine.arena import MatchResult, play_game, run_match

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
