"""``python -m engine.match``: every game of a match at once, the players named by spec."""

from __future__ import annotations

import json

import pytest

import agents
import games
from engine.cli import UserError
from engine.match import _player_from_spec, main


def test_batched_match_of_the_shipped_network_against_random(capsys):
    main(["tictactoe", "alphazero", "random", "--games", "8", "--simulations", "200", "--opening-moves", "1",
          "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["games"] == 8 and out["wins_a"] + out["draws"] + out["losses_a"] == 8
    assert out["losses_a"] == 0 and out["score_a"] > 0.5  # perfect play never loses after one random ply


def test_bad_players_and_counts_are_one_line_errors():
    with pytest.raises(UserError, match="unknown player 'bogus'"):
        main(["tictactoe", "bogus", "random"])
    with pytest.raises(UserError, match="mcts:x: the argument is the number of simulations"):
        main(["tictactoe", "mcts:x", "random"])
    with pytest.raises(UserError, match="--games must be at least 2"):
        main(["tictactoe", "random", "random", "--games", "1"])


def test_match_players_search_like_the_agents_of_the_same_spec():
    """``mcts:N`` and ``alphazero`` are the players of ``agents.make`` (and of ``engine.arena``): pure MCTS with
    UCB1's rule at the root (``MCTSConfig.pure``), the AlphaZero search of ``agents.alphazero.play_config``."""
    game = games.make("connect4")
    for spec in ("mcts:1000", "alphazero"):
        batched = _player_from_spec(game, spec, games=2, simulations=800, seed=0)
        assert batched.config == agents.make(spec, game).config, spec
    assert _player_from_spec(game, "alphazero", 2, 800, 0).config.decisive_moves  # Connect Four asks for them
    assert _player_from_spec(game, "mcts:1000", 2, 800, 0).config.fpu_reduction_root < -1
