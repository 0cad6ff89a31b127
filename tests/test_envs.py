"""The game API as a gymnasium environment and a PettingZoo AEC environment."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from games.envs import BoardGameEnv

GAMES = ["tictactoe", "connect4"]


@pytest.mark.parametrize("name", GAMES)
@pytest.mark.parametrize("player", [0, 1])
def test_gymnasium_env_checker(name, player):
    check_env(BoardGameEnv(name, agent_player=player), skip_render_check=True)


def test_gymnasium_episode_and_illegal_move():
    env = BoardGameEnv("tictactoe")
    obs, info = env.reset(seed=3)
    assert obs.shape == (3, 3, 3) and info["action_mask"].sum() == 9
    total = 0.0
    for _ in range(9):
        a = int(np.flatnonzero(info["action_mask"])[0])
        obs, r, done, trunc, info = env.step(a)
        total += r
        if done:
            break
    assert done and total in (-1.0, 0.0, 1.0)
    env.reset(seed=4)
    env.step(4)
    occupied = int(np.flatnonzero(env.game.legal_mask(env.state) == 0)[0])
    _, r, done, _, info = env.step(occupied)
    assert done and r == -1.0 and info["illegal_action"]


@pytest.mark.parametrize("name", GAMES)
def test_pettingzoo_api(name):
    pettingzoo_test = pytest.importorskip("pettingzoo.test")
    from games.envs import BoardGameAEC

    pettingzoo_test.api_test(BoardGameAEC(name), num_cycles=100, verbose_progress=False)


def test_pettingzoo_illegal_move_loses():
    pytest.importorskip("pettingzoo")
    from games.envs import BoardGameAEC

    env = BoardGameAEC("connect4")
    env.reset()
    for _ in range(6):
        env.step(0)
    assert env.agent_selection == "player_0"
    env.step(0)  # column 1 is full
    assert env.terminations["player_0"] and env.rewards == {"player_0": -1.0, "player_1": 1.0}
