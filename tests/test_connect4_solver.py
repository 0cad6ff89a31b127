"""The Connect Four solver: Pons' benchmark scores, agreement with exhaustive search, move scores, the agent."""

from __future__ import annotations

import json

import numpy as np
import pytest

import agents
import games
from agents.connect4_solver import ILLEGAL, Connect4Solver
from agents.minimax import Solver as Minimax
from engine.matches import play_game

from .conftest import shared_file


@pytest.fixture(scope="module")
def c4():
    return games.make("connect4")


@pytest.fixture(scope="module")
def solver(c4):
    return Connect4Solver(c4, table_bits=20)


def read_set(name):
    lines = shared_file("connect4", name).read_text().split("\n")
    return [(m, int(s)) for m, s in (line.split() for line in lines if line.strip())]


def pons_score(game, state, memo=None):
    """Pons' score by plain exhaustive negamax over the game API (no pruning): an independent reference."""
    memo = {} if memo is None else memo
    key = state.tobytes()
    if key not in memo:
        cells, moves = game.width * game.height, game.moves_played(state)
        best = -cells
        for a in game.legal_actions(state):
            child = game.apply(state, a)
            if game.is_terminal(child):
                v = (cells + 1 - moves) // 2 if game.result(child) != 0 else 0
            else:
                v = -pons_score(game, child, memo)
            best = max(best, v)
        memo[key] = best
    return memo[key]


def random_position(game, rng, plies):
    """A position after ``plies`` random moves whose game is not over (None if the game ended first)."""
    state = game.initial_state()
    for _ in range(plies):
        state = game.apply(state, int(rng.choice(game.legal_actions(state))))
        if game.is_terminal(state):
            return None
    return state


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_reproduces_pons_scores_on_a_sample(c4, solver, name):
    sample = read_set(name)[::5]  # 200 lines
    assert len(sample) == 200
    for moves, score in sample:
        assert solver.score(moves) == score, moves
    for moves, score in sample[:50]:  # the game API's states give the same scores
        assert solver.score(c4.parse_position(moves)) == score, moves


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_reproduces_every_pons_score(c4, name):
    solver = Connect4Solver(c4)
    for moves, score in read_set(name):
        assert solver.score(moves) == score, moves
        scores = solver.move_scores(moves)
        assert scores.max() == score, moves
        best, optimal = solver.solve_with_optimal(moves)
        assert best == score and np.array_equal(optimal, scores == score), moves


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_move_scores_are_consistent(c4, solver, name):
    for moves, score in read_set(name)[1::20]:
        state = c4.parse_position(moves)
        scores = solver.move_scores(state)
        legal = c4.legal_mask(state)
        assert np.array_equal(scores == ILLEGAL, ~legal)
        assert scores.max() == score
        for a in np.flatnonzero(legal):  # a move's score is minus the child's, or the win it makes
            child = c4.apply(state, a)
            if c4.is_terminal(child):
                assert scores[a] == (0 if c4.result(child) == 0 else 22 - (c4.moves_played(state) // 2 + 1))
            else:
                assert scores[a] == -solver.score(child)
        assert solver.optimal_moves(state) == [int(a) for a in np.flatnonzero(scores == score)]


def test_exact_scores_match_exhaustive_search_near_the_end(c4, solver):
    rng = np.random.default_rng(1)
    checked = 0
    while checked < 12:
        state = random_position(c4, rng, 34)  # 8 empty cells: the reference walks every line of play
        if state is None:
            continue
        assert solver.score(state) == pons_score(c4, state)
        checked += 1


@pytest.mark.parametrize("width, height, plies", [(4, 4, 0), (4, 4, 3), (5, 4, 5), (4, 5, 4), (5, 4, 8)])
def test_small_boards_agree_with_minimax(width, height, plies):
    game = games.make("connect4", width=width, height=height)
    solver, minimax = Connect4Solver(game, table_bits=16), Minimax(game)
    rng = np.random.default_rng(width * 100 + height * 10 + plies)
    positions = [s for s in (random_position(game, rng, plies) for _ in range(6 if plies else 1)) if s is not None]
    assert positions
    for state in positions:
        scores = solver.move_scores(state)
        values = minimax.action_values(state)  # +1 / 0 / -1, illegal -2
        legal = game.legal_mask(state)
        assert np.array_equal(np.sign(scores[legal]), values[legal])
        assert np.sign(solver.score(state)) == minimax.value(state)


def test_exact_scores_on_a_small_board(width=4, height=4):
    game = games.make("connect4", width=width, height=height)
    solver, memo = Connect4Solver(game, table_bits=12), {}  # a tiny table: collisions must not matter
    rng = np.random.default_rng(3)
    for plies in (6, 7, 8, 9, 10):
        state = random_position(game, rng, plies)
        if state is not None:
            assert solver.score(state) == pons_score(game, state, memo)


def test_random_near_end_positions_agree_with_minimax(c4, solver):
    minimax = Minimax(c4)
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 15:
        state = random_position(c4, rng, int(rng.integers(28, 33)))
        if state is None:
            continue
        values = minimax.action_values(state)
        legal = c4.legal_mask(state)
        assert np.array_equal(np.sign(solver.move_scores(state)[legal]), values[legal])
        checked += 1


def test_known_positions(c4, solver):
    assert solver.score("4455") == 18  # an open three on the bottom row: the 4th stone wins
    assert solver.score("121212") == 18  # either player can complete a column: the mover wins now, 4th stone
    assert solver.score("1212123") == 18  # the second player, to move, completes column 2 with its 4th stone


def test_bad_positions(c4, solver):
    with pytest.raises(ValueError, match="game is over"):
        solver.score("1212121")
    with pytest.raises(games.IllegalMove):
        solver.score("4444444")
    with pytest.raises(ValueError, match=r"width \* \(height \+ 1\) <= 63"):
        Connect4Solver(games.make("connect4", width=9, height=7))


def test_agent_plays_perfectly_and_wins_as_fast_as_the_score_says(c4):
    """Solver against solver from benchmark positions: the result and the winner's stone count follow the score."""
    first, second = agents.make("c4solver:20", c4, seed=1), agents.make("c4solver:20", c4, seed=2)
    for moves, score in read_set("Test_L2_R1")[:40:4]:
        start = c4.parse_position(moves)
        rec = play_game(c4, [first, second], start=start)
        mover = c4.to_play(start)
        result = rec.result if mover == 0 else -rec.result  # from the mover's view
        assert result == int(np.sign(score)), moves
        if score:
            final = start
            for a in rec.actions:
                final = c4.apply(final, a)
            winner_stones = (c4.moves_played(final) + 1) // 2  # the winner placed the last stone
            assert 22 - winner_stones == abs(score), moves


def test_agent_picks_optimal_moves_and_is_seeded(c4, solver):
    a1, a2 = agents.make("c4solver:20", c4, seed=5), agents.make("c4solver:20", c4, seed=5)
    for moves, score in read_set("Test_L3_R1")[:30]:
        state = c4.parse_position(moves)
        d1, d2 = a1.choose(state), a2.choose(state)
        assert d1.action == d2.action and d1.info["score"] == score
        assert solver.move_scores(state)[d1.action] == score
        assert d1.value == np.sign(score)
    with pytest.raises(ValueError, match="Connect Four only"):
        agents.make("c4solver", games.make("tictactoe"))
    with pytest.raises(ValueError, match="table size in bits"):
        agents.make("c4solver:big", c4)


def test_agent_never_loses_a_won_position_against_random(c4):
    solver_agent, random_agent = agents.make("c4solver:20", c4), agents.make("random", c4, seed=3)
    for moves, score in read_set("Test_L2_R1")[:60]:
        if score <= 0:
            continue
        start = c4.parse_position(moves)
        players = [solver_agent, random_agent] if c4.to_play(start) == 0 else [random_agent, solver_agent]
        rec = play_game(c4, players, start=start)
        assert rec.result == (1 if c4.to_play(start) == 0 else -1), moves


def test_arena_starts_games_from_set_positions(capsys):
    from engine import arena

    # first player to move and winning in both: c4solver wins every game it starts, whatever random does
    starts = ["662222576343651642712157", "4661237137541742643224"]
    arena.main(["connect4", "c4solver", "random", "--games", "4", "--json"] + [f"--start={s}" for s in starts])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [g["first"] for g in out["games"]] == ["c4solver", "random"] * 2
    assert all(g["score_first"] == 1.0 for g in out["games"] if g["first"] == "c4solver")
    with pytest.raises(games.IllegalMove):
        arena.main(["connect4", "c4solver", "random", "--start", "4444444"])
