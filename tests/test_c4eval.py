"""engine.c4eval: optimal-move shares on Pons' sets for the random player, the solver and batched players."""

from __future__ import annotations

import json

import numpy as np
import pytest

import agents
import games
from agents.base import Agent, Decision
from agents.connect4_solver import Connect4Solver
from engine import c4eval
from engine.cli import UserError

from .conftest import shared_file


@pytest.fixture(scope="module")
def c4():
    return games.make("connect4")


@pytest.fixture(scope="module")
def solver(c4):
    return Connect4Solver(c4, table_bits=20)


def load(name, limit):
    return c4eval.load_set(shared_file("connect4", name), limit)


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_solver_is_optimal_and_random_is_not(c4, solver, name):
    test_set = load(name, 300)
    perfect = c4eval.evaluate(agents.make("c4solver:20", c4), test_set, c4, solver)
    assert perfect["optimal"] == perfect["keeps_result"] == 1.0 and perfect["positions"] == 300
    assert sum(r["positions"] for r in perfect["by_class"].values()) == 300
    rnd = c4eval.evaluate(agents.make("random", c4, seed=0), test_set, c4, solver)
    assert rnd["optimal"] < 0.7 and rnd["keeps_result"] < 0.85  # measured: 0.51 / 0.67 (L3), 0.24 / 0.71 (L2)
    assert rnd["by_class"]["loss"]["keeps_result"] in (1.0, None)  # nothing loses a lost position further


class FirstLegal(Agent):
    """Plays the leftmost legal column; counts the positions it was given per batch."""

    name = "first-legal"

    def __init__(self, game, batched):
        super().__init__(game)
        self.batches = []
        self.resets = 0
        self.batched = batched

    def reset(self, games=1):
        self.resets += 1

    def choose_batch(self, states, games=None):
        self.batches.append(len(states))
        return super().choose_batch(states, games)

    def choose(self, state, progress=None):
        return Decision(int(np.flatnonzero(self.game.legal_mask(state))[0]))


@pytest.mark.parametrize("batched", [False, True])
def test_shares_follow_the_solver_scores(c4, solver, batched):
    test_set = load("Test_L2_R1", 100)
    states = c4eval.positions(c4, test_set)
    scores = c4eval.solve_moves(solver, states)
    agent = FirstLegal(c4, batched)
    result = c4eval.evaluate(agent, test_set, c4, move_scores=scores, batch=32)
    # a batched agent gets 32 positions a call; one that holds one game gets each position as a new game
    assert agent.batches == ([32, 32, 32, 4] if batched else [1] * 100)
    assert agent.resets == (0 if batched else 100)
    first = np.array([np.flatnonzero(c4.legal_mask(s))[0] for s in states])
    chosen = scores[np.arange(100), first]
    assert result["actions"] == first.tolist()
    assert result["optimal_count"] == int((chosen == test_set.scores).sum())
    assert result["keeps_count"] == int((np.sign(chosen) == np.sign(test_set.scores)).sum())
    win = test_set.scores > 0
    assert result["by_class"]["win"]["positions"] == int(win.sum())
    assert result["by_class"]["win"]["optimal"] == round(float((chosen == test_set.scores)[win].mean()), 4)


def test_a_full_column_is_an_error(c4, solver):
    test_set = load("Test_L3_R1", 20)
    scores = c4eval.solve_moves(solver, c4eval.positions(c4, test_set))
    full = np.argmax(scores == -1000, axis=1)
    row = int(np.flatnonzero((scores == -1000).any(axis=1))[0])
    actions = np.zeros(20, dtype=np.int64)
    actions[row] = full[row]
    with pytest.raises(UserError, match=f"full column .* position {row + 1}"):
        c4eval.summarize(actions, scores, test_set.scores)


def test_sets_are_found_and_checked(tmp_path, c4, solver):
    with pytest.raises(UserError, match="not found.*Test_L3_R1"):
        c4eval.load_set(tmp_path / "nope")
    bad = tmp_path / "bad"
    bad.write_text("4453 1\n44x 2\n")
    with pytest.raises(UserError, match=r"bad:2: expected 'moves score'"):
        c4eval.load_set(bad)
    wrong = tmp_path / "wrong"
    wrong.write_text("# a comment line\n\n2252576253462244111563365343671351441 1\n")  # the true score is -1
    test_set = c4eval.load_set(wrong)
    assert test_set.moves == ["2252576253462244111563365343671351441"]
    with pytest.raises(UserError, match="solver scores position 1 .* -1, the file 1"):
        c4eval.evaluate(agents.make("random", c4), test_set, c4, solver)


def test_command_json(capsys):
    path = shared_file("connect4", "Test_L3_R1")
    c4eval.main(["--agent", "c4solver", "--set", str(path), "--limit", "40", "--json"])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["set"] == "Test_L3_R1" and result["positions"] == 40 and result["optimal"] == 1.0
    assert set(result["by_class"]) == {"win", "draw", "loss"}
    c4eval.main(["--agent", "random", "--set", str(path), "--limit", "40"])
    text = capsys.readouterr().out
    assert "random on Test_L3_R1: 40 positions" in text and "keeps result" in text
    with pytest.raises(UserError, match="unknown player"):
        c4eval.main(["--agent", "nobody", "--set", str(path)])
