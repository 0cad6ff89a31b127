"""``python -m engine.match``: every game of a match at once, the players named by spec."""

from __future__ import annotations

import json

import pytest

from engine.cli import UserError
from engine.match import main


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
