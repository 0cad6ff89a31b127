"""Atari 100k: the preset as the environment sees it, DrQ's random shift, 10-step targets across episode ends, the
IQM and stratified bootstrap on hand-computed examples, the shipped published scores, and a smoke run of
``python -m engine.bench atari --suite atari100k`` on two games."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from engine.dqn.agent import augment_images, random_shift, shift_images
from engine.dqn.atari100k import (
    ATARI_100K_GAMES,
    SCORES_CSV,
    aggregate,
    bootstrap_interval,
    iqm,
    published_means,
    published_runs,
    summarize,
)
from engine.dqn.replay import ReplayBuffer

# -- the preset ------------------------------------------------------------------------------------------------------


def test_atari100k_preset_reaches_the_environment():
    """Dopamine's atari_100k settings, read back from constructed environments (both backends)."""
    pytest.importorskip("ale_py")
    from gymnasium.wrappers import AtariPreprocessing

    from engine.dqn.envs import PRESETS, make_env, single_env, vector_env_kwargs

    preset = PRESETS["atari100k"]
    assert (preset.repeat_action_probability, preset.noop_max, preset.terminal_on_life_loss, preset.frame_skip,
            preset.eval_epsilon, preset.frame_stack, preset.screen_size) == (0.0, 0, True, 4, 0.001, 4, 84)
    for evaluation in (False, True):
        env = single_env("ALE/Boxing-v5", preset, evaluation=evaluation)
        prep = env.env
        assert isinstance(prep, AtariPreprocessing) and (prep.noop_max, prep.frame_skip) == (0, 4)
        ale = env.unwrapped.ale
        assert ale.getFloat("repeat_action_probability") == 0.0
        assert ale.getInt("max_num_frames_per_episode") == 108_000  # 27,000 agent steps, training and evaluation
        env.close()
        kwargs = vector_env_kwargs(preset, evaluation)
        assert (kwargs["noop_max"], kwargs["repeat_action_probability"], kwargs["max_num_frames_per_episode"],
                kwargs["frameskip"], kwargs["use_fire_reset"]) == (0, 0.0, 108_000, 4, False)
    vec = make_env("ALE/Boxing-v5", 2, preset="atari100k")
    assert vec.preset is preset and vec.obs_shape == (4, 84, 84) and vec.num_actions == 18
    vec.close()


def test_the_26_games_exist_and_have_reference_scores():
    pytest.importorskip("ale_py")
    from engine.dqn.envs import atari_game
    from engine.dqn.scores import load_scores

    assert len(ATARI_100K_GAMES) == 26 == len(set(ATARI_100K_GAMES))
    table = load_scores()
    for game in ATARI_100K_GAMES:
        assert atari_game(game) == game
        assert table[game]["random"] is not None and table[game]["human"] is not None


def test_drq_eps_config_and_its_epsilon_schedule():
    pytest.importorskip("ale_py")
    from engine.config import load_config
    from engine.dqn.config import DQNConfig
    from engine.dqn.trainer import Trainer

    cfg = load_config(DQNConfig, "configs/drq_eps.yaml", ["run.tensorboard=false", "train.buffer_size=1000"])
    t = cfg.train
    assert (cfg.env.preset, t.n_step, t.train_every, t.target_update, t.learning_starts, t.augment_pad,
            t.double, cfg.net.dueling, cfg.net.distributional, t.prioritized) == \
        ("atari100k", 10, 1, 1, 1600, 4, True, True, False, False)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, tmp, seed=0, progress=False, echo=lambda text: None)
        # Dopamine's linearly_decaying_epsilon: 1 through the 1,600 warm-up steps, then to 0.01 over 5,000.
        assert trainer.epsilon(0) == trainer.epsilon(1600) == 1.0
        assert trainer.epsilon(1600 + 2500) == pytest.approx(1.0 - 0.99 / 2)
        assert trainer.epsilon(6600) == trainer.epsilon(50_000) == pytest.approx(0.01)
        assert trainer.eval_epsilon() == 0.001
        trainer.env.close()


# -- DrQ's augmentation ----------------------------------------------------------------------------------------------


def test_shift_is_the_identity_at_zero_shift():
    x = torch.randint(0, 256, (3, 4, 84, 84), dtype=torch.uint8).float()
    assert torch.equal(shift_images(x, torch.full((3, 2), 4), pad=4), x)  # offset = pad: no move
    assert torch.equal(random_shift(x, 0), x)


def test_shift_moves_every_channel_by_the_same_bounded_offset():
    x = torch.rand(2, 4, 12, 10)
    offsets = torch.tensor([[0, 8], [6, 3]])  # image 0 moves down 4 and left 4; image 1 up 2 and right 1
    out = shift_images(x, offsets, pad=4)
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (4, 4), (4, 4)), mode="edge")
    for b, (r, c) in enumerate(offsets.tolist()):
        np.testing.assert_array_equal(out[b].numpy(), padded[b, :, r:r + 12, c:c + 10])
    assert torch.equal(out[0, :, 4:, :6], x[0, :, :8, 4:])  # content moved by (+4, -4) pixels, all 4 frames alike


def test_random_shift_stays_within_pad_and_reaches_both_ends():
    pad = 4
    x = torch.zeros(4000, 1, 21, 21)
    x[:, 0, 10, 10] = 1.0  # one lit pixel in the middle
    out = random_shift(x, pad, torch.Generator().manual_seed(0))
    where = out[:, 0].flatten(1).argmax(1)
    dy, dx = where // 21 - 10, where % 21 - 10
    assert dy.abs().max() == pad and dx.abs().max() == pad  # +-4 pixels, never more
    assert set(dy.tolist()) == set(range(-pad, pad + 1)) == set(dx.tolist())
    assert torch.allclose(out.sum((1, 2, 3)), torch.ones(4000))  # the pixel is never pushed out of the image


def test_augment_images_scales_to_unit_range_and_bounds_the_intensity():
    x = torch.full((500, 4, 8, 8), 255, dtype=torch.uint8)
    plain = augment_images(x, pad=0, intensity=0.0)
    assert plain.dtype == torch.float32 and torch.equal(plain, torch.ones_like(plain))
    scaled = augment_images(x, pad=2, intensity=0.05, generator=torch.Generator().manual_seed(1))
    per_image = scaled.flatten(1)
    assert torch.equal(per_image.min(1).values, per_image.max(1).values)  # one factor per image
    assert per_image.min() >= 0.9 - 1e-6 and per_image.max() <= 1.1 + 1e-6 and per_image.std() > 0.01


# -- n-step targets --------------------------------------------------------------------------------------------------


def test_ten_step_returns_stop_at_terminals_and_episode_ends_inside_the_window():
    gamma = 0.9
    replay = ReplayBuffer(128, (1,), stack=1, n_step=10, gamma=gamma, seed=0)
    # Episode A: 12 steps of reward 1, a life lost (terminal for learning) after step 3, game over after step 12.
    # Episode B: 4 steps of reward 2, truncated (no terminal): the return bootstraps from the final observation.
    steps = []
    for t in range(12):
        steps.append((t + 1, 1.0, t in (2, 11), t == 0, False))
    steps.append((13, 0.0, False, False, True))
    for t in range(4):
        steps.append((21 + t, 2.0, False, t == 0, False))
    steps.append((25, 0.0, False, False, True))
    steps.append((31, 0.0, False, True, False))  # the next episode's first observation
    for frame, reward, terminal, first, last in steps:
        replay.add([[frame]], [0], [reward], [terminal], [first], [last])

    def geometric(m):
        return sum(gamma ** k for k in range(m))

    expected = {0: (geometric(3), 0.0, 4), 1: (geometric(2), 0.0, 4), 2: (1.0, 0.0, 4)}  # cut at the life loss
    for i in range(3, 12):
        expected[i] = (geometric(12 - i), 0.0, 13)  # within 10 steps of the game's end: no bootstrap
    for i in range(13, 17):
        m = 17 - i
        expected[i] = (2.0 * geometric(m), gamma ** m, 25)  # truncated: bootstrap from the final observation
    assert replay.num_valid() == len(expected)
    batch = replay.sample(2000)
    seen = set()
    for b in range(2000):
        g = int(batch.indices[b])
        ret, disc, nxt = expected[g]
        assert batch.returns[b] == pytest.approx(ret) and batch.discounts[b] == pytest.approx(disc), g
        assert batch.next_obs[b, 0, 0] == nxt
        seen.add(g)
    assert seen == set(expected)


def test_ten_step_return_is_full_length_away_from_episode_ends():
    gamma = 0.5
    replay = ReplayBuffer(64, (1,), stack=1, n_step=10, gamma=gamma, seed=0)
    for t in range(30):
        replay.add([[t + 1]], [0], [float(t)], [False], [t == 0], [False])
    batch = replay.sample(500)
    for b in range(500):
        i = int(batch.indices[b])
        assert batch.returns[b] == pytest.approx(sum(gamma ** k * (i + k) for k in range(10)))
        assert batch.discounts[b] == pytest.approx(gamma ** 10) and batch.next_obs[b, 0, 0] == i + 11


# -- IQM and the stratified bootstrap --------------------------------------------------------------------------------


def test_iqm_median_and_mean_on_a_hand_computed_example():
    assert iqm([8, 1, 7, 2, 6, 3, 5, 4]) == pytest.approx((3 + 4 + 5 + 6) / 4)  # cut 2 from each end of 8
    assert iqm([1.0, 100.0, 2.0]) == pytest.approx(103 / 3)  # int(0.75) = 0: nothing cut below 4 values
    runs = {"a": [0.0, 1.0], "b": [2.0, 2.0], "c": [10.0, 30.0], "d": [-1.0, 1.0]}
    # all 8 values sorted: -1, 0, 1, 1, 2, 2, 10, 30 -> middle four 1, 1, 2, 2
    assert aggregate(runs, "iqm") == pytest.approx(1.5)
    assert aggregate(runs, "median") == pytest.approx((0.5 + 2.0) / 2)  # per-game means 0.5, 2, 20, 0
    assert aggregate(runs, "mean") == pytest.approx((0.5 + 2 + 20 + 0) / 4)


def test_stratified_bootstrap_on_hand_computed_examples():
    # One game, runs 0 and 1: a replicate's mean is 0, 0.5 or 1 with probability 1/4, 1/2, 1/4, so the 2.5th and
    # 97.5th percentiles are 0 and 1.
    assert bootstrap_interval({"g": [0.0, 1.0]}, "mean", reps=4000, seed=3) == (0.0, 1.0)
    # Runs are redrawn only within their game: two games of identical runs give a zero-width interval, whatever
    # the games' values (an unstratified bootstrap would mix 0 and 10 and widen it).
    assert bootstrap_interval({"a": [0.0, 0.0, 0.0], "b": [10.0, 10.0]}, "mean", reps=500) == (5.0, 5.0)
    # One run per game: every replicate is the sample itself (rliable's behaviour).
    assert bootstrap_interval({"a": [0.2], "b": [0.9], "c": [0.4]}, "iqm", reps=200) == pytest.approx((0.5, 0.5))


def test_summarize_normalizes_by_random_and_human():
    # Pong: random -20.7, human 14.6 -> HNS 0 and 1; IQM of two values = their mean.
    s = summarize({"pong": [-20.7, 14.6]}, reps=500)
    assert (s["games"], s["runs"]) == (1, 2)
    assert s["iqm"] == pytest.approx(0.5) and s["median"] == pytest.approx(0.5)
    assert s["iqm_low"] == pytest.approx(0.0) and s["iqm_high"] == pytest.approx(1.0)


# -- the shipped published scores ------------------------------------------------------------------------------------


def test_published_scores_cover_the_26_games_and_agree_with_their_runs():
    means, runs = published_means(), published_runs()
    assert sorted(means) == sorted(ATARI_100K_GAMES)
    with open(SCORES_CSV, newline="") as f:
        header = next(csv.reader(f))
    assert header[:5] == ["game", "der", "drq_eps", "spr", "bbf"]
    for agent in ("drq_eps", "spr"):
        assert sorted(runs[agent]) == sorted(ATARI_100K_GAMES)
        for game, values in runs[agent].items():
            assert len(values) == 100
            assert means[game][agent] == pytest.approx(np.mean(values), abs=0.051)
    assert means["boxing"]["drq_eps"] == pytest.approx(9.0) and means["kangaroo"]["spr"] == pytest.approx(3617.4)


def test_published_drq_eps_iqm_matches_agarwal_et_al():
    """Agarwal et al. 2021 report DrQ(eps) IQM 0.28 and SPR 0.337 on these runs (Fig. 4 / rliable)."""
    drq = summarize(published_runs()["drq_eps"], reps=300, seed=0)
    spr = summarize(published_runs()["spr"], reps=300, seed=0)
    assert drq["iqm"] == pytest.approx(0.280, abs=0.005) and drq["iqm_low"] < drq["iqm"] < drq["iqm_high"]
    assert spr["iqm"] == pytest.approx(0.337, abs=0.005)
    assert drq["iqm_high"] < spr["iqm_low"]  # the two intervals do not overlap


# -- the suite command -----------------------------------------------------------------------------------------------


def test_suite_smoke_on_two_games_then_report(tmp_path, capsys):
    pytest.importorskip("ale_py")
    from engine.benchmarks import atari

    common = ["--suite", "atari100k", "--agent", "drq_eps", "--games", "pong,boxing", "--seeds", "0",
              "--results-dir", str(tmp_path / "results"), "--plots-dir", str(tmp_path / "plots"), "--reps", "200",
              "--json", "--out", str(tmp_path / "out.json")]
    atari.main(common + ["--steps", "200", "--workers", "1", "--runs-dir", str(tmp_path / "runs"),
                         "train.learning_starts=150", "train.buffer_size=1000", "eval.episodes=2",
                         "eval.max_steps=150", "eval.num_envs=2", "run.save_every=0"])
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(g["game"], g["seed"]) for g in first["games"]] == [("boxing", 0), ("pong", 0)]
    for g in first["games"]:
        assert np.isfinite(g["score"]) and np.isfinite(g["hns"])
        saved = json.loads((tmp_path / "results" / "drq_eps" / f"{g['game']}__seed0.json").read_text())
        # one update per step from step 150 through step 200
        assert saved["steps"] == 200 and saved["eval_episodes"] == 2 and saved["updates"] == 51
        assert max(saved["eval_returns"]) <= 21 and saved["score"] == g["score"]
    assert first["iqm_low"] <= first["iqm"] <= first["iqm_high"]
    assert first["published"]["drq_eps"]["games"] == 26
    for plot in first["plots"]:
        assert (tmp_path / "plots" / plot.split("/")[-1]).stat().st_size > 1000
    # --report trains nothing (no runs folder is needed) and reads the same results back.
    atari.main(common + ["--report", "--runs-dir", str(tmp_path / "elsewhere")])
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["games"] == first["games"] and again["iqm"] == first["iqm"]
    assert not (tmp_path / "elsewhere").exists()
