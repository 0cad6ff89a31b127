"""Environments over the game API: a gymnasium ``Env`` (play against a fixed opponent) and a PettingZoo AEC
environment (two agents taking turns).

Observations are the network planes ``[C, H, W]`` from the view of the player to move, plus the legal
action mask (``info["action_mask"]`` for gymnasium, the ``action_mask`` entry of the observation for
PettingZoo). An illegal action ends the game as a loss for the player who made it.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium
import numpy as np
from gymnasium import spaces

from .base import Game


def _as_game(game: Game | str, **kwargs) -> Game:
    if isinstance(game, Game):
        return game
    from . import make

    return make(game, **kwargs)


class BoardGameEnv(gymnasium.Env):
    """Single-agent view of a two-player game: the agent plays ``agent_player``; ``opponent`` answers.

    ``opponent`` is ``"random"`` (uniform over legal moves, seeded by ``reset``) or a callable
    ``(game, state, rng) -> action``. Rewards are +1 / 0 / -1 at the end of the game from the agent's view.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, game: Game | str = "tictactoe", opponent: str | Callable = "random",
                 agent_player: int = 0, render_mode: str | None = None, **game_kwargs):
        self.game = _as_game(game, **game_kwargs)
        if agent_player not in (0, 1):
            raise ValueError(f"agent_player must be 0 or 1, got {agent_player!r}")
        if not (opponent == "random" or callable(opponent)):
            raise ValueError(f"opponent must be 'random' or a callable, got {opponent!r}")
        self.opponent = opponent
        self.agent_player = agent_player
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, shape=self.game.plane_shape, dtype=np.float32)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self.state = self.game.initial_state()

    def _opponent_move(self) -> None:
        if self.opponent == "random":
            action = int(self.np_random.choice(self.game.legal_actions(self.state)))
        else:
            action = int(self.opponent(self.game, self.state, self.np_random))
        self.state = self.game.apply(self.state, action)

    def _info(self) -> dict:
        mask = self.game.legal_mask(self.state).astype(np.int8)
        return {"action_mask": mask, "to_play": self.game.to_play(self.state)}

    def _reward(self) -> float:
        r = self.game.result(self.state)
        return float(r if self.agent_player == 0 else -r)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = self.game.initial_state()
        if self.agent_player == 1:
            self._opponent_move()
        return self.game.encode(self.state), self._info()

    def step(self, action):
        if self.game.is_terminal(self.state):
            raise RuntimeError("step() called after the game ended; call reset()")
        action = int(action)
        if not (0 <= action < self.game.num_actions) or not self.game.legal_mask(self.state)[action]:
            info = self._info()
            info["illegal_action"] = True
            return self.game.encode(self.state), -1.0, True, False, info
        self.state = self.game.apply(self.state, action)
        if not self.game.is_terminal(self.state):
            self._opponent_move()
        done = self.game.is_terminal(self.state)
        reward = self._reward() if done else 0.0
        return self.game.encode(self.state), reward, done, False, self._info()

    def render(self):
        return self.game.render(self.state)


try:  # PettingZoo is a dev extra: the AEC environment exists when it is installed
    from pettingzoo import AECEnv
    from pettingzoo.utils import AgentSelector
except ImportError:  # pragma: no cover
    AECEnv = None


if AECEnv is not None:

    class BoardGameAEC(AECEnv):
        """PettingZoo AEC environment: agents ``player_0`` (moves first) and ``player_1``."""

        metadata = {"render_modes": ["ansi"], "name": "board_game_v0", "is_parallelizable": False}

        def __init__(self, game: Game | str = "tictactoe", render_mode: str | None = None, **game_kwargs):
            super().__init__()
            self.game = _as_game(game, **game_kwargs)
            self.metadata = {**self.metadata, "name": f"{self.game.name}_v0"}
            self.possible_agents = ["player_0", "player_1"]
            self.render_mode = render_mode
            obs = spaces.Box(0.0, 1.0, shape=self.game.plane_shape, dtype=np.float32)
            mask = spaces.Box(0, 1, shape=(self.game.num_actions,), dtype=np.int8)
            self.observation_spaces = {a: spaces.Dict({"observation": obs, "action_mask": mask})
                                       for a in self.possible_agents}
            self.action_spaces = {a: spaces.Discrete(self.game.num_actions) for a in self.possible_agents}
            self.state = self.game.initial_state()

        def observation_space(self, agent):
            return self.observation_spaces[agent]

        def action_space(self, agent):
            return self.action_spaces[agent]

        def observe(self, agent):
            # Planes from this agent's view: encode() is from the mover's view, so the other agent sees the
            # two stone planes swapped.
            planes = self.game.encode(self.state)
            mover = self.game.to_play(self.state)
            me = self.possible_agents.index(agent)
            if me != mover and planes.shape[0] >= 2:
                planes[[0, 1]] = planes[[1, 0]]
            legal = self.game.legal_mask(self.state) if me == mover else np.zeros(self.game.num_actions, bool)
            return {"observation": planes, "action_mask": legal.astype(np.int8)}

        def reset(self, seed=None, options=None):
            self.state = self.game.initial_state()
            self.agents = self.possible_agents[:]
            self.rewards = {a: 0.0 for a in self.agents}
            self._cumulative_rewards = {a: 0.0 for a in self.agents}
            self.terminations = {a: False for a in self.agents}
            self.truncations = {a: False for a in self.agents}
            self.infos = {a: {} for a in self.agents}
            self._selector = AgentSelector(self.agents)
            self.agent_selection = self._selector.reset()

        def _finish(self, first_player_result: float) -> None:
            self.rewards = {"player_0": float(first_player_result), "player_1": float(-first_player_result)}
            self.terminations = {a: True for a in self.agents}

        def step(self, action):
            agent = self.agent_selection
            if self.terminations[agent] or self.truncations[agent]:
                self._was_dead_step(action)
                return
            self._cumulative_rewards[agent] = 0.0
            self.rewards = {a: 0.0 for a in self.agents}
            me = self.possible_agents.index(agent)
            if action is None or not self.game.legal_mask(self.state)[int(action)]:
                self._finish(-1.0 if me == 0 else 1.0)  # an illegal move loses
                self.infos[agent] = {"illegal_action": True}
            else:
                self.state = self.game.apply(self.state, int(action))
                if self.game.is_terminal(self.state):
                    self._finish(self.game.result(self.state))
            self.agent_selection = self._selector.next()
            self._accumulate_rewards()

        def render(self):
            return self.game.render(self.state)

        def close(self):
            pass
