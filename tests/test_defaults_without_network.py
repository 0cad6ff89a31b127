"""Without a network, every command plays the best player the package has for the game and says which: chess the
material search (as engine.uci), Go pure MCTS on a time budget, and engine.analyze falls back like engine.play."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import agents
import games
from engine.play import LEVEL_SECONDS_GO, agent_factory, build_parser

from .conftest import ROOT


class Screen:
    live = False

    def __init__(self):
        self.lines = []

    def say(self, text, style=None):
        self.lines.append(text)


def test_the_best_available_player_of_each_game():
    assert agents.best_available(games.make("connect4"))[0] == "alphazero"  # a network is shipped
    assert agents.best_available(games.make("tictactoe"))[0] == "alphazero"
    spec, what = agents.best_available(games.make("chess"))
    assert spec == "mcts-material" and "material" in what
    assert agents.best_available(games.make("go", size=9))[0] == "mcts"


def opponent(*argv):
    args = build_parser().parse_args([*argv, "--plain"])
    screen = Screen()
    game = games.make(args.game) if args.game != "go" else games.make("go", size=args.size or 9)
    return agent_factory(args, screen)(game), screen.lines


def test_play_chess_without_a_network_uses_the_material_search_and_says_so():
    agent, lines = opponent("chess")
    assert agent.name.startswith("mcts-material")
    assert any("playing MCTS over the material and quiescence evaluator" in line for line in lines), lines


def test_play_go_without_a_network_searches_for_a_time_by_level():
    agent, lines = opponent("go", "--size", "9")
    assert agent.time_limit == LEVEL_SECONDS_GO["medium"] and f"{LEVEL_SECONDS_GO['medium']:g} s a move" in lines[-1]
    agent, _ = opponent("go", "--size", "9", "--level", "hard")
    assert agent.time_limit == LEVEL_SECONDS_GO["hard"]
    agent, _ = opponent("go", "--size", "9", "--simulations", "300")  # an explicit budget stays a count
    assert agent.time_limit is None and agent.simulations == 300


def test_analyze_without_a_checkpoint_falls_back_like_play():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "engine.analyze", "chess", "", "--simulations", "40", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "analysing with MCTS over the material and quiescence evaluator (agents/material.py) (mcts-material)" \
        in proc.stderr
    record, summary = (json.loads(line) for line in proc.stdout.strip().splitlines()[-2:])
    assert record["simulations"] == 40 and record["best_move"] and record["top"]
    assert summary["player"] == "mcts-material" and summary["checkpoint"] is None
