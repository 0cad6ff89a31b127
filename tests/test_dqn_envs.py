"""Atari protocol presets: the documented settings reach ale-py's vector env and gymnasium's wrappers."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ale_py")

from engine.dqn.envs import PRESETS, atari_game, make_env, single_env, vector_env_kwargs  # noqa: E402

DOCUMENTED = {
    "nature": dict(repeat_action_probability=0.0, noop_max=30, max_episode_frames=108_000, terminal_on_life_loss=True,
                   eval_epsilon=0.05, eval_max_episode_frames=18_000),
    "machado": dict(repeat_action_probability=0.25, noop_max=0, max_episode_frames=108_000,
                    terminal_on_life_loss=False, eval_epsilon=0.001, eval_max_episode_frames=108_000),
}
COMMON = dict(frame_skip=4, max_pool=True, screen_size=84, grayscale=True, frame_stack=4, full_action_space=False,
              fire_reset=False)


@pytest.mark.parametrize("name", ["nature", "machado"])
def test_presets_hold_the_documented_settings(name):
    preset = PRESETS[name]
    for key, value in {**DOCUMENTED[name], **COMMON}.items():
        assert getattr(preset, key) == value, key
    assert f"repeat_action_probability={DOCUMENTED[name]['repeat_action_probability']}" in preset.describe()


@pytest.mark.parametrize("name", ["nature", "machado"])
def test_vector_env_options_are_all_explicit(name):
    import inspect

    from ale_py import AtariVectorEnv

    doc = DOCUMENTED[name]
    train, evaluation = vector_env_kwargs(PRESETS[name]), vector_env_kwargs(PRESETS[name], evaluation=True)
    assert train == dict(frameskip=4, maxpool=True, img_height=84, img_width=84, grayscale=True, stack_num=4,
                         noop_max=doc["noop_max"], repeat_action_probability=doc["repeat_action_probability"],
                         max_num_frames_per_episode=108_000, full_action_space=False, use_fire_reset=False,
                         episodic_life=False, life_loss_info=False, reward_clipping=False, continuous=False,
                         autoreset_mode="NextStep", batch_size=0)
    assert evaluation["max_num_frames_per_episode"] == doc["eval_max_episode_frames"]
    # Every option of the C++ env that changes the game is set, so none of its (non-v5) defaults leak in.
    options = set(inspect.signature(AtariVectorEnv.__init__).parameters) - {
        "self", "game", "num_envs", "num_threads", "thread_affinity_offset", "continuous_action_threshold"}
    assert options <= set(train)


@pytest.mark.parametrize("name", ["nature", "machado"])
def test_single_env_wrappers_follow_the_preset(name):
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    doc = DOCUMENTED[name]
    for evaluation in (False, True):
        env = single_env("ALE/Pong-v5", PRESETS[name], evaluation=evaluation)
        assert isinstance(env, FrameStackObservation) and env.stack_size == 4
        prep = env.env
        assert isinstance(prep, AtariPreprocessing)
        assert (prep.noop_max, prep.frame_skip, prep.screen_size, prep.terminal_on_life_loss, prep.grayscale_obs,
                prep.scale_obs) == (doc["noop_max"], 4, (84, 84), False, True, False)
        ale = env.unwrapped.ale
        assert ale.getFloat("repeat_action_probability") == pytest.approx(doc["repeat_action_probability"])
        frames = doc["eval_max_episode_frames"] if evaluation else doc["max_episode_frames"]
        assert ale.getInt("max_num_frames_per_episode") == frames
        assert env.unwrapped._frameskip == 1  # AtariPreprocessing skips (and max-pools) frames itself
        obs, _ = env.reset(seed=0)
        assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
        assert not obs[:3].any() and obs[3].any()  # zeros before the episode's first frame
        env.close()


@pytest.mark.parametrize("backend", ["vector", "gymnasium"])
def test_both_backends_give_stacked_byte_frames(backend):
    env = make_env("ALE/Pong-v5", 2, preset="nature", backend=backend)
    obs = env.reset(seed=3)
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8 and env.num_actions == 6
    assert not obs[:, :3].any() and obs[:, 3].any()
    for _ in range(5):
        obs, rewards, terminated, truncated, _ = env.step(np.array([0, 1]))
    assert obs[:, 3].any() and env.newest_frames(obs).shape == (2, 84, 84)
    env.close()


def test_environment_ids():
    assert atari_game("ALE/MsPacman-v5") == "ms_pacman"
    assert atari_game("PongNoFrameskip-v4") == "pong"
    assert atari_game("breakout") == "breakout"
    assert atari_game("CartPole-v1") is None
    with pytest.raises(ValueError, match="unknown Atari game 'ALE/Pongg-v5'"):
        atari_game("ALE/Pongg-v5")
    with pytest.raises(ValueError, match="unknown environment 'NoSuchEnv-v0'"):
        make_env("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="discrete actions"):
        make_env("Pendulum-v1")


@pytest.mark.parametrize("name", ["nature", "machado"])
def test_life_loss_is_a_learning_terminal_only_under_nature(name):
    """Breakout under random play loses lives: ``nature`` marks them terminal for learning, ``machado`` does not;
    training scores still add up whole games."""
    from engine.config import load_config
    from engine.dqn.config import DQNConfig
    from engine.dqn.trainer import Trainer

    cfg = load_config(DQNConfig, None, [
        "env.id=ALE/Breakout-v5", f"env.preset={name}", "train.total_steps=100000", "train.buffer_size=1000",
        "train.learning_starts=10000", "eval.every=0", "run.save_every=0", "run.tensorboard=false"])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp, seed=0, progress=False, echo=lambda text: None)
        trainer.run(stop_after=600)
        replay = trainer.replay
        n = len(replay)
        terminal, last = replay.terminal[:n], replay.last[:n]
        game_overs = int(np.sum(last[1:] & terminal[:-1]))
        if name == "nature":
            assert terminal.sum() > game_overs  # lives lost inside games
        else:
            assert terminal.sum() == game_overs
