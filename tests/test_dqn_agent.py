"""DQN learning targets on hand-made transitions: Q-learning and Double-DQN targets, n-step returns through the
replay, the C51 projection, epsilon-greedy acting and configuration checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config import ConfigError, load_config
from engine.dqn.agent import DQNAgent, categorical_projection, linear_schedule, network_config, q_learning_targets
from engine.dqn.config import DQNConfig
from engine.dqn.replay import ReplayBuffer

from .conftest import ROOT


def test_dqn_and_double_dqn_targets_on_hand_made_values():
    returns = torch.tensor([1.0, 2.0, -1.0])
    discounts = torch.tensor([0.9, 0.5, 0.0])  # the third transition ended in a terminal state
    next_q_target = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0], [7.0, 8.0, 9.0]])
    next_q_online = torch.tensor([[9.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    dqn = q_learning_targets(returns, discounts, next_q_target)
    double = q_learning_targets(returns, discounts, next_q_target, next_q_online)
    # DQN: max of the target network. Double DQN: the online network picks, the target network rates.
    assert dqn.tolist() == pytest.approx([1 + 0.9 * 5, 2 + 0.5 * 4, -1.0])
    assert double.tolist() == pytest.approx([1 + 0.9 * 1, 2 + 0.5 * 3, -1.0])


def test_n_step_targets_from_the_replay():
    gamma = 0.9
    replay = ReplayBuffer(32, (1,), frame_dtype=np.float32, stack=1, n_step=3, gamma=gamma, seed=0)
    # frame value = state id; rewards 1, 0, 2, 5 then the episode terminates.
    for state, reward, terminal, first, last in [(0, 1.0, False, True, False), (1, 0.0, False, False, False),
                                                 (2, 2.0, False, False, False), (3, 5.0, True, False, False),
                                                 (4, 0.0, False, False, True)]:
        replay.add([[state]], [0], [reward], [terminal], [first], [last])
    batch = replay.sample(200)
    value = torch.tensor([[10.0], [20.0], [30.0], [40.0], [50.0]])  # a one-action "target network": V(s) per state
    next_states = torch.as_tensor(batch.next_obs[:, 0, 0]).long()
    y = q_learning_targets(torch.as_tensor(batch.returns), torch.as_tensor(batch.discounts), value[next_states])
    expected = {0: 1 + 0 + gamma**2 * 2 + gamma**3 * 40, 1: 0 + gamma * 2 + gamma**2 * 5, 2: 2 + gamma * 5, 3: 5.0}
    for b in range(200):
        assert y[b].item() == pytest.approx(expected[int(batch.obs[b, 0, 0])], rel=1e-5)


def test_categorical_projection_on_hand_made_cases():
    support = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    one_hot = torch.eye(5)
    probs = torch.stack([one_hot[3], one_hot[1], one_hot[2], one_hot[2], torch.full((5,), 0.2)])
    returns = torch.tensor([0.5, -0.25, 5.0, 1.0, 0.0])
    discounts = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.5])
    m = categorical_projection(probs, returns, discounts, support)
    # 1 + 0.5 = 1.5: halfway between atoms 1 and 2.
    assert m[0].tolist() == pytest.approx([0, 0, 0, 0.5, 0.5])
    # Terminal: every atom collapses to the return -0.25, a quarter of the way from -1 to 0... closer to 0.
    assert m[1].tolist() == pytest.approx([0, 0.25, 0.75, 0, 0])
    # Beyond v_max: clipped onto the last atom.
    assert m[2].tolist() == pytest.approx([0, 0, 0, 0, 1])
    # Landing exactly on a support point keeps all the mass there.
    assert m[3].tolist() == pytest.approx([0, 0, 0, 1, 0])
    # Uniform over the support, halved: atoms at -1, -0.5, 0, 0.5, 1.
    assert m[4].tolist() == pytest.approx([0, 0.3, 0.4, 0.3, 0])
    random = torch.rand(64, 5).softmax(-1)
    out = categorical_projection(random, torch.randn(64) * 3, torch.rand(64), support)
    assert torch.allclose(out.sum(-1), torch.ones(64)) and (out >= 0).all()
    # The projection keeps the mean when nothing is clipped.
    small = categorical_projection(random, torch.zeros(64), torch.full((64,), 0.5), support)
    assert torch.allclose((small * support).sum(-1), 0.5 * (random * support).sum(-1), atol=1e-6)


def _cartpole_agent(*overrides):
    cfg = load_config(DQNConfig, None, ["net.mlp_widths=[32, 32]", "train.batch_size=16", "train.optimizer=adam",
                                        "train.lr=0.01", *overrides])
    torch.manual_seed(0)
    return DQNAgent(cfg, (4,), 2, "cpu")


def _fixed_batch(replay_kwargs: dict | None = None):
    replay = ReplayBuffer(64, (4,), frame_dtype=np.float32, stack=1, n_step=1, gamma=0.9, seed=0,
                          **(replay_kwargs or {}))
    rng = np.random.default_rng(0)
    for t in range(40):
        replay.add(rng.normal(size=(1, 4)), [t % 2], [1.0], [t % 10 == 9], [t % 10 == 0], [False])
    return replay.sample(16)


@pytest.mark.parametrize("overrides", [[], ["train.double=true"], ["net.dueling=true"],
                                       ["net.distributional=true", "net.v_min=-5", "net.v_max=15"]])
def test_learning_steps_fit_a_fixed_batch(overrides):
    agent = _cartpole_agent(*overrides)
    batch = _fixed_batch()
    first, _ = agent.learn(batch)
    for _ in range(150):
        stats, priorities = agent.learn(batch)
    assert stats["loss"] < first["loss"]
    assert priorities.shape == (16,) and (priorities >= 0).all()


def test_target_network_sync_hard_and_soft():
    agent = _cartpole_agent()
    agent.learn(_fixed_batch())
    online = [p.detach().clone() for p in agent.online.parameters()]
    before = [p.detach().clone() for p in agent.target.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(online, before, strict=True))
    agent.sync_target(0.25)
    for t, o, b in zip(agent.target.parameters(), online, before, strict=True):
        assert torch.allclose(t, b + 0.25 * (o - b))
    agent.sync_target(1.0)
    assert all(torch.equal(t, o) for t, o in zip(agent.target.parameters(), online, strict=True))


def test_epsilon_greedy_acting():
    agent = _cartpole_agent()
    obs = np.random.default_rng(1).normal(size=(500, 4)).astype(np.float32)
    greedy = agent.greedy_q(obs).argmax(1)
    rng = np.random.default_rng(0)
    assert np.array_equal(agent.act(obs, 0.0, rng), greedy)
    random_actions = agent.act(obs, 1.0, rng)
    assert 0.4 < random_actions.mean() < 0.6
    mixed = agent.act(obs, 0.2, rng)
    assert 0.05 < np.mean(mixed != greedy) < 0.2  # half of the random actions agree with the greedy one
    assert linear_schedule(1.0, 0.1, 100, 50) == pytest.approx(0.55)
    assert linear_schedule(1.0, 0.1, 100, 500) == pytest.approx(0.1)


def test_network_configs_follow_the_papers():
    cfg = load_config(DQNConfig, None, ["net.dueling=true", "net.distributional=true"])
    rainbow = network_config(cfg, (4, 84, 84), 6)
    assert rainbow["backbone"] == {"name": "nature_cnn", "in_shape": [4, 84, 84], "hidden": 0}
    assert rainbow["head"]["name"] == "c51" and rainbow["head"]["dueling"] and rainbow["head"]["hidden"] == 512
    nature = network_config(load_config(DQNConfig), (4, 84, 84), 6)
    assert nature["backbone"]["hidden"] == 512 and nature["head"] == {"name": "q", "num_actions": 6}
    cartpole = network_config(load_config(DQNConfig), (4,), 2)
    assert cartpole["backbone"]["name"] == "mlp"


@pytest.mark.parametrize("override, message", [
    (["net.recurrent=true", "train.prioritized=true"], "DRQN"),
    (["train.gamma=1.5"], "train.gamma"),
    (["train.n_step=0"], "train.n_step must be >= 1"),
    (["env.preset=atari2600"], "env.preset must be one of"),
    (["train.optimiser=adam"], "unknown config key 'train.optimiser'"),
    (["train.optimizer=sgd"], "train.optimizer must be one of"),
])
def test_bad_configs_are_clear_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(DQNConfig, None, override)


def test_drqn_learns_on_sequences_and_carries_its_state():
    agent = _cartpole_agent("net.recurrent=true", "net.lstm_hidden=16", "train.sequence_length=4")
    replay = ReplayBuffer(64, (4,), frame_dtype=np.float32, stack=1, n_step=1, gamma=0.9, seed=0)
    rng = np.random.default_rng(0)
    for t in range(40):
        replay.add(rng.normal(size=(1, 4)), [t % 2], [1.0], [t % 10 == 9], [t % 10 == 0], [False])
    batch = replay.sample_sequences(8, 4)
    first, _ = agent.learn(batch)
    for _ in range(100):
        stats, priorities = agent.learn(batch)
    assert stats["loss"] < first["loss"] and priorities.shape == (8,)
    obs = rng.normal(size=(3, 4)).astype(np.float32)
    agent.state = None
    q1 = agent.greedy_q(obs)
    q2 = agent.greedy_q(obs)  # same observation, but the LSTM now remembers the first step
    assert not np.allclose(q1, q2)
    agent.reset_state(np.array([True, False, True]))
    h = agent.state[0]
    assert torch.all(h[:, 0] == 0) and torch.any(h[:, 1] != 0) and torch.all(h[:, 2] == 0)


def test_drqn_trains_end_to_end(tmp_path):
    from engine.dqn.trainer import Trainer

    cfg = load_config(DQNConfig, ROOT / "engine" / "configs" / "dqn_cartpole.yaml", [
        "net.recurrent=true", "net.lstm_hidden=32", "train.n_step=1", "train.total_steps=300",
        "train.learning_starts=100", "train.train_every=10", "train.gradient_steps=2", "train.sequence_length=5",
        "eval.every=0", "eval.episodes=2", "run.save_every=0", "run.tensorboard=false"])
    summary = Trainer(cfg, tmp_path / "drqn", seed=0, progress=False, echo=lambda text: None).run()
    assert summary["steps"] == 300 and summary["updates"] > 0 and summary["final_eval_return"] >= 8


@pytest.mark.parametrize("name", ["dqn_cartpole", "dqn_atari", "rainbow_atari", "drqn_atari"])
def test_shipped_configs_load(name):
    cfg = load_config(DQNConfig, ROOT / "engine" / "configs" / f"{name}.yaml")
    if name == "rainbow_atari":
        assert cfg.train.double and cfg.train.prioritized and cfg.train.n_step == 3
        assert cfg.net.dueling and cfg.net.distributional and cfg.net.atoms == 51
    if name == "dqn_atari":
        assert (cfg.train.lr, cfg.train.target_update, cfg.train.buffer_size) == (2.5e-4, 10_000, 1_000_000)
    if name == "drqn_atari":
        assert cfg.net.recurrent and cfg.env.frame_stack == 1
    if name == "dqn_cartpole":  # zoo's settings with Double DQN, 3-step returns and a falling learning rate
        assert cfg.train.double and cfg.train.n_step == 3 and cfg.train.lr_final == 0.1


def test_learning_rate_falls_linearly_to_lr_final_and_resumes_on_schedule(tmp_path):
    from engine.dqn.trainer import Trainer

    cfg = load_config(DQNConfig, ROOT / "engine" / "configs" / "dqn_cartpole.yaml", [
        "train.total_steps=400", "train.learning_starts=100", "train.train_every=4", "train.gradient_steps=1",
        "train.lr=0.01", "train.lr_final=0.1", "eval.every=0", "run.save_every=0", "run.tensorboard=false"])
    trainer = Trainer(cfg, tmp_path / "lr", seed=0, progress=False, echo=lambda text: None)
    assert [trainer.learning_rate(s) for s in (0, 200, 400, 800)] == pytest.approx([0.01, 0.0055, 0.001, 0.001])
    trainer.run()
    assert trainer.agent.optimizer.param_groups[0]["lr"] == pytest.approx(0.001, rel=0.03)  # the last update
    with pytest.raises(ConfigError, match="train.lr_final must be in"):
        load_config(DQNConfig, ROOT / "engine" / "configs" / "dqn_cartpole.yaml", ["train.lr_final=2"])


def test_rainbow_combination_trains_end_to_end(tmp_path):
    from engine.dqn.trainer import Trainer

    cfg = load_config(DQNConfig, ROOT / "engine" / "configs" / "dqn_cartpole.yaml", [
        "net.dueling=true", "net.distributional=true", "net.v_min=0", "net.v_max=100", "train.double=true",
        "train.prioritized=true", "train.n_step=3", "train.total_steps=400", "train.learning_starts=100",
        "train.train_every=4", "train.gradient_steps=1", "eval.every=0", "eval.episodes=2", "run.save_every=0",
        "run.tensorboard=false"])
    trainer = Trainer(cfg, tmp_path / "rainbow", seed=0, progress=False, echo=lambda text: None)
    summary = trainer.run()
    assert summary["steps"] == 400 and summary["updates"] == 76
    priorities = trainer.replay.priorities()
    assert (priorities > 0).sum() > 300 and len(set(np.round(priorities[priorities > 0], 6))) > 50  # updated
