"""Environments for DQN: the Atari protocols as named presets, ale-py's C++ vector env, gymnasium for the rest.

Three Atari evaluation protocols are used here and give different scores, so each run names and logs its preset:

- ``nature`` (Mnih et al. 2015, the ``NoFrameskip-v4`` setting): deterministic emulator (no sticky actions),
  up to 30 no-op actions at the start of every episode, a life loss ends the episode *for learning* (the game
  goes on; scores still count whole games), evaluation at epsilon 0.05 on episodes of at most 18,000 frames
  (5 minutes).
- ``machado`` (Machado et al. 2018, the ALE ``v5`` setting): sticky actions with probability 0.25, no no-ops,
  no life-loss signal, episodes capped at 108,000 frames (30 minutes), evaluation at epsilon 0.001.
- ``atari100k`` (Kaiser et al. 2019 as run by Dopamine's ``labs/atari_100k``, the setting of DER, DrQ(eps), SPR
  and BBF): no sticky actions (``sticky_actions = False``), no no-ops (Dopamine's ``AtariPreprocessing`` has
  none), a life loss ends the episode for learning (``terminal_on_life_loss = True``), episodes capped at
  27,000 agent steps = 108,000 frames (``max_steps_per_episode = 27000``) in training and evaluation, evaluation
  at epsilon 0.001 (``epsilon_eval``). ``ATARI_100K_GAMES`` lists its 26 games.

Both: frame skip 4 with the max over the last two frames, 84x84 grayscale, a stack of the 4 newest frames
(zeros before the episode's first frame), the minimal action set, no FIRE-on-reset, raw (unclipped) rewards
from the environment; the learner clips rewards itself so that scores are always raw, over whole games.

``AtariVectorEnv`` (ale-py's C++ vector environment) runs many games in one call; its defaults differ from
``v5`` (no sticky actions, 30 no-ops, reward clipping and FIRE-on-reset on), so every option is set explicitly
from the preset. The single-environment path is gymnasium's ``AtariPreprocessing`` + ``FrameStackObservation``
over ``ALE/<Game>-v5`` with the same settings. Any other gymnasium id with discrete actions (``CartPole-v1``)
runs through ``gymnasium.vector.SyncVectorEnv``. All of them reset finished environments on the *next* step
(gymnasium's ``NEXT_STEP`` mode), so the final observation of an episode is seen and stored.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import gymnasium
import numpy as np

from engine.cli import UserError, missing_extra

__all__ = ["ATARI_100K_GAMES", "AtariPreset", "PRESETS", "VecEnv", "atari_game", "is_atari", "make_env",
           "vector_env_kwargs", "single_env", "list_presets"]


@dataclass(frozen=True)
class AtariPreset:
    """One Atari protocol; every field is logged with the run."""

    name: str
    repeat_action_probability: float  # sticky actions: the previous action is repeated with this probability
    noop_max: int  # up to this many no-op actions after each reset (uniformly drawn)
    max_episode_frames: int  # emulator frames before an episode is truncated (training)
    terminal_on_life_loss: bool  # a lost life ends the episode for the learner's targets (not the game)
    eval_epsilon: float
    eval_max_episode_frames: int
    frame_skip: int = 4
    max_pool: bool = True  # max over the last two of the skipped frames (removes Atari sprite flicker)
    screen_size: int = 84
    grayscale: bool = True
    frame_stack: int = 4
    full_action_space: bool = False
    fire_reset: bool = False

    def describe(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self))


PRESETS: dict[str, AtariPreset] = {
    "nature": AtariPreset("nature", repeat_action_probability=0.0, noop_max=30, max_episode_frames=108_000,
                          terminal_on_life_loss=True, eval_epsilon=0.05, eval_max_episode_frames=18_000),
    "machado": AtariPreset("machado", repeat_action_probability=0.25, noop_max=0, max_episode_frames=108_000,
                           terminal_on_life_loss=False, eval_epsilon=0.001, eval_max_episode_frames=108_000),
    # Dopamine labs/atari_100k/configs/{DER,DrQ_eps}.gin + discrete_domains/atari_lib.py (see docs/atari100k.md).
    "atari100k": AtariPreset("atari100k", repeat_action_probability=0.0, noop_max=0, max_episode_frames=108_000,
                             terminal_on_life_loss=True, eval_epsilon=0.001, eval_max_episode_frames=108_000),
}

# The 26 games of Atari 100k (Kaiser et al. 2019, Table 1), as ale-py ROM names.
ATARI_100K_GAMES: tuple[str, ...] = (
    "alien", "amidar", "assault", "asterix", "bank_heist", "battle_zone", "boxing", "breakout", "chopper_command",
    "crazy_climber", "demon_attack", "freeway", "frostbite", "gopher", "hero", "jamesbond", "kangaroo", "krull",
    "kung_fu_master", "ms_pacman", "pong", "private_eye", "qbert", "road_runner", "seaquest", "up_n_down",
)


def list_presets() -> list[str]:
    return sorted(PRESETS)


def get_preset(name: str) -> AtariPreset:
    if name not in PRESETS:
        raise ValueError(f"unknown Atari preset {name!r}; presets: {', '.join(list_presets())}")
    return PRESETS[name]


_ATARI_ID = re.compile(r"^(?:ALE/)?(?P<game>[A-Za-z0-9_]+?)(?:NoFrameskip|Deterministic)?-v\d+$")


def atari_game(env_id: str) -> str | None:
    """The ale-py ROM name of an Atari id (``ALE/MsPacman-v5``, ``PongNoFrameskip-v4``, ``pong``), else None.
    Without ale-py (the ``atari`` extra), a gymnasium id such as ``CartPole-v1`` is None and an id that can only
    be Atari is a ``UserError`` naming the extra to install."""
    match = _ATARI_ID.match(env_id)
    name = match.group("game") if match else env_id
    try:
        from ale_py import roms
    except ImportError:
        if env_id in gymnasium.registry and not env_id.startswith("ALE/"):
            return None
        raise missing_extra("ale_py", f"{env_id!r} (not a gymnasium environment here, so an Atari game)") from None
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    known = roms.get_all_rom_ids()
    if snake in known:
        return snake
    if env_id.startswith("ALE/"):
        raise ValueError(f"unknown Atari game {env_id!r}; ale-py has {len(known)} games, e.g. "
                         f"ALE/Pong-v5, ALE/Breakout-v5, ALE/MsPacman-v5")
    return None


def is_atari(env_id: str) -> bool:
    try:
        return atari_game(env_id) is not None
    except UserError:  # ale-py (an optional dependency) is missing
        return False


def vector_env_kwargs(preset: AtariPreset, evaluation: bool = False) -> dict:
    """Every ``AtariVectorEnv`` option, set explicitly from the preset (its defaults are not v5's)."""
    return dict(
        frameskip=preset.frame_skip, maxpool=preset.max_pool, img_height=preset.screen_size,
        img_width=preset.screen_size, grayscale=preset.grayscale, stack_num=preset.frame_stack,
        noop_max=preset.noop_max, repeat_action_probability=preset.repeat_action_probability,
        max_num_frames_per_episode=preset.eval_max_episode_frames if evaluation else preset.max_episode_frames,
        full_action_space=preset.full_action_space, use_fire_reset=preset.fire_reset,
        # Life loss is read from info["lives"] by the trainer: the C++ episodic_life option resets the game.
        episodic_life=False, life_loss_info=False,
        reward_clipping=False,  # scores stay raw; the learner clips
        continuous=False, autoreset_mode="NextStep", batch_size=0,
    )


def single_env(env_id: str, preset: AtariPreset, evaluation: bool = False, render_mode: str | None = None):
    """One gymnasium Atari env with the preset's wrappers: AtariPreprocessing, then a zero-padded frame stack."""
    import ale_py
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    gymnasium.register_envs(ale_py)
    game = atari_game(env_id)
    camel = "".join(part.capitalize() for part in game.split("_"))
    env = gymnasium.make(
        f"ALE/{camel}-v5", frameskip=1, repeat_action_probability=preset.repeat_action_probability,
        full_action_space=preset.full_action_space, render_mode=render_mode,
        max_num_frames_per_episode=preset.eval_max_episode_frames if evaluation else preset.max_episode_frames)
    if preset.fire_reset:
        raise ValueError("fire_reset is only available on the vector backend")
    env = AtariPreprocessing(env, noop_max=preset.noop_max, frame_skip=preset.frame_skip,
                             screen_size=preset.screen_size, terminal_on_life_loss=False,
                             grayscale_obs=preset.grayscale, scale_obs=False)
    if not preset.max_pool:
        raise ValueError("AtariPreprocessing always max-pools the last two frames")
    return FrameStackObservation(env, preset.frame_stack, padding_type="zero")


class VecEnv:
    """N environments stepped together; observations ``[N, *obs_shape]``; auto-reset on the next step.

    ``step`` returns ``(obs, rewards, terminated, truncated, lives)``, where ``lives`` is ``None`` for games
    without lives. ``frame_stack`` > 1 means observations are stacks and ``newest_frames`` gives what the replay
    stores.
    """

    def __init__(self, env, *, frame_stack: int, preset: AtariPreset | None, backend: str):
        self.env = env
        self.num_envs = env.num_envs
        self.frame_stack = frame_stack
        self.preset = preset
        self.backend = backend
        space = env.single_action_space
        if not isinstance(space, gymnasium.spaces.Discrete):
            raise ValueError(f"DQN needs discrete actions; this environment's action space is {space}")
        self.num_actions = int(space.n)
        self.obs_shape = tuple(env.single_observation_space.shape)
        self.obs_dtype = env.single_observation_space.dtype
        self.frame_shape = self.obs_shape[1:] if frame_stack > 1 else self.obs_shape

    def reset(self, seed: int | None = None) -> np.ndarray:
        obs, info = self.env.reset(seed=seed)
        self.last_lives = self._lives(info)
        return obs

    def step(self, actions: np.ndarray):
        obs, rewards, terminated, truncated, info = self.env.step(np.asarray(actions, dtype=np.int64))
        lives = self._lives(info)
        return obs, np.asarray(rewards, dtype=np.float64), np.asarray(terminated, bool), \
            np.asarray(truncated, bool), lives

    def newest_frames(self, obs: np.ndarray) -> np.ndarray:
        return obs[:, -1] if self.frame_stack > 1 else obs

    @staticmethod
    def _lives(info) -> np.ndarray | None:
        lives = info.get("lives") if isinstance(info, dict) else None
        return None if lives is None else np.asarray(lives, dtype=np.int64)

    def close(self) -> None:
        self.env.close()


def make_env(env_id: str, num_envs: int = 1, *, seed: int = 0, preset: str | AtariPreset = "nature",
             backend: str = "vector", evaluation: bool = False, num_threads: int = 1) -> VecEnv:
    """Build N environments for ``env_id``: Atari with the preset (C++ ``vector`` or ``gymnasium`` backend),
    anything else through gymnasium. Errors (unknown id, continuous actions) are ``ValueError``."""
    game = atari_game(env_id)
    if game is not None:
        preset = get_preset(preset) if isinstance(preset, str) else preset
        if backend == "vector":
            from ale_py import AtariVectorEnv

            env = AtariVectorEnv(game, num_envs, num_threads=num_threads, thread_affinity_offset=-1,
                                 **vector_env_kwargs(preset, evaluation))
        elif backend == "gymnasium":
            from gymnasium.vector import AutoresetMode, SyncVectorEnv

            env = SyncVectorEnv([lambda: single_env(env_id, preset, evaluation) for _ in range(num_envs)],
                                autoreset_mode=AutoresetMode.NEXT_STEP)
        else:
            raise ValueError(f"unknown env backend {backend!r}; backends: vector, gymnasium")
        vec = VecEnv(env, frame_stack=preset.frame_stack, preset=preset, backend=backend)
    else:
        from gymnasium.vector import AutoresetMode, SyncVectorEnv

        try:
            gymnasium.make(env_id).close()
        except gymnasium.error.Error as err:
            raise ValueError(f"unknown environment {env_id!r}: {err}") from None
        env = SyncVectorEnv([lambda: gymnasium.make(env_id) for _ in range(num_envs)],
                            autoreset_mode=AutoresetMode.NEXT_STEP)
        vec = VecEnv(env, frame_stack=1, preset=None, backend="gymnasium")
    vec.env_id = env_id
    vec.seed = seed
    env.action_space.seed(seed)
    return vec
