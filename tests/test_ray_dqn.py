"""Ape-X DQN on a local Ray (2 CPUs, shared by the module): actors' blocks land in the learner's prioritized
replay with the actors' own priorities, a killed actor is restarted, the run resumes, and CartPole is learnt."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from engine.config import load_config, to_dict
from engine.dqn.apex import ApexActor, actor_epsilons
from engine.dqn.config import DQNConfig
from engine.dqn.replay import ReplayBuffer

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    yield
    if started:
        ray.shutdown()


def _cartpole(*extra):
    # short runs: a hard target copy every 500 steps and zoo's learning rate (the config's soft target and lower
    # rate are tuned for the stability of 50k-step runs, and learn later)
    return load_config(DQNConfig, "configs/dqn_cartpole.yaml", [
        "train.total_steps=6000", "train.learning_starts=1000", "train.target_update=500", "train.tau=1.0",
        "train.lr=0.0023",
        "eval.every=2000", "eval.episodes=5", "run.save_every=3000", "run.tensorboard=false", "run.log_every=1000",
        "ray.actors=2", "ray.rollout_steps=32", "ray.broadcast_every=32", *extra])


def test_apex_epsilons_follow_the_paper():
    eps = actor_epsilons(8)
    assert eps[0] == pytest.approx(0.4) and eps[-1] == pytest.approx(0.4 ** 8)
    assert np.all(np.diff(eps) < 0)
    assert actor_epsilons(1) == pytest.approx([0.4])


def test_actor_blocks_fill_the_replay_with_actor_priorities():
    """Run an actor in this process: every transition the central replay can sample got its priority from the
    actor (none left at the default maximum), once, and the block holds single frames, not stacks."""
    cfg = _cartpole("train.n_step=3", "env.num_envs=2")
    actor = ApexActor(to_dict(cfg), actor_id=1, epsilons=[0.5, 0.1], seed=4)
    weights = ({k: v.numpy() for k, v in actor.agent.online.state_dict().items()},
               {k: v.numpy() for k, v in actor.agent.target.state_dict().items()})
    replay = ReplayBuffer(4000, (4,), frame_dtype=np.float32, num_streams=4, n_step=3, gamma=cfg.train.gamma,
                          prioritized=True, alpha=0.5, priority_eps=1e-6)
    seen = set()
    for _ in range(5):
        block = actor.rollout(0, weights, 30)
        assert block["frames"].shape == (30, 2, 4)  # [steps, envs, frame]: frames, not stacks
        replay.max_priority = 1e9  # a slot the actor did not prioritise would keep this
        own = 2 + np.arange(2)
        replay.add_streams(np.tile(own, 30), block["frames"].reshape(60, -1), block["actions"].reshape(-1),
                           block["rewards"].reshape(-1), block["terminals"].reshape(-1),
                           block["firsts"].reshape(-1), block["lasts"].reshape(-1))
        pairs = zip(block["ready_streams"], block["ready_back"], strict=True)
        idx = [replay.newest_slot(int(own[s]), int(b)) for s, b in pairs]
        assert not seen.intersection(idx)  # each transition is prioritised once
        seen.update(idx)
        replay.update_priorities(idx, block["priorities"])
        valid = [g for g in range(replay.capacity) if replay.valid_start(g)]
        assert set(valid) <= seen
        pri = replay.priorities()[valid]
        assert np.all(pri < 1e9) and np.all(pri > 0)
    # the actor's priorities are |TD errors| of its own networks
    batch = replay.transitions(idx)
    expected = (np.abs(actor.agent.priorities(batch)) + 1e-6) ** 0.5
    assert np.allclose(replay.priorities()[idx], expected, rtol=1e-5)


def test_apex_cartpole_learns_survives_a_killed_actor_and_resumes(local_ray, tmp_path):
    from engine.dqn.apex import ApexTrainer

    cfg = _cartpole("train.total_steps=8000")  # four evaluations: asynchronous actors make some runs slow starters
    trainer = ApexTrainer(cfg, tmp_path / "run", seed=1, progress=False, echo=lambda text: None)
    killed = []

    def kill_actor(index, block):
        if trainer.blocks == 20 and not killed:
            pid = ray.get(trainer.actors[1].pid.remote())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    trainer.on_block = kill_actor
    first = trainer.run(stop_after=3000)
    assert killed and first["steps"] >= 3000 and not first["interrupted"]
    assert first["lost_rollouts"] >= 1              # the killed actor's rollout was dropped ...
    assert first["blocks"] > 20                     # ... and the run went on
    assert cfg.train.prioritized is False and trainer.cfg.train.prioritized is True

    resumed = ApexTrainer(load_config(DQNConfig, tmp_path / "run" / "config.yaml"), tmp_path / "run", seed=1,
                          resume=True, progress=False, echo=lambda text: None)
    assert resumed.step == first["steps"] and resumed.agent.updates == first["updates"]
    summary = resumed.run()
    assert summary["steps"] >= 8000
    # uniformly random play averages about 22 on CartPole; learnt play holds the pole far longer
    assert summary["best_eval_return"] >= 100, summary["evaluations"]


def test_atari_actor_sends_single_frames_and_prioritises_stacked_transitions():
    """Atari (Pong, Nature preset): blocks carry 84x84 frames, the learner's replay rebuilds 4-frame stacks."""
    pytest.importorskip("ale_py")
    cfg = load_config(DQNConfig, "configs/dqn_atari.yaml", ["env.id=ALE/Pong-v5", "env.num_envs=2", "train.n_step=3",
                                                             "ray.actors=2"])
    actor = ApexActor(to_dict(cfg), actor_id=0, epsilons=[0.4, 0.1], seed=2)
    weights = ({k: v.numpy() for k, v in actor.agent.online.state_dict().items()},
               {k: v.numpy() for k, v in actor.agent.target.state_dict().items()})
    block = actor.rollout(0, weights, 12)
    assert block["frames"].shape == (12, 2, 84, 84) and block["frames"].dtype == np.uint8
    assert len(block["priorities"]) == 2 * (12 - 3)  # every step whose 3-step walk is complete, per env
    replay = ReplayBuffer(4000, (84, 84), num_streams=4, stack=4, n_step=3, prioritized=True)
    replay.add_streams(np.tile([0, 1], 12), block["frames"].reshape(24, -1), block["actions"].reshape(-1),
                       block["rewards"].reshape(-1), block["terminals"].reshape(-1), block["firsts"].reshape(-1),
                       block["lasts"].reshape(-1))
    idx = [replay.newest_slot(int(s), int(b)) for s, b in zip(block["ready_streams"], block["ready_back"],
                                                              strict=True)]
    batch = replay.transitions(idx)
    assert batch.obs.shape == (18, 4, 84, 84)
    assert np.allclose(actor.agent.priorities(batch), block["priorities"], rtol=1e-4, atol=1e-6)
