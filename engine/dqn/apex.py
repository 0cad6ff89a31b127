"""Ape-X DQN on Ray (Horgan et al. 2018, "Distributed Prioritized Experience Replay").

Actors run the environments with their own exploration rates ``eps_i = 0.4 ** (1 + 7 i / (N - 1))`` (one per
environment over all actors, as the paper's actors each own one environment), compute the initial priority of
every transition they complete from their local copy of the networks, and send blocks of experience: the newest
*frame* of each observation with action, reward and episode flags (never stacks: the replay builds stacks and
n-step returns when it samples), plus the priorities. The learner samples with prioritized replay, learns and
updates priorities; every ``ray.broadcast_every`` updates it puts its weights in the object store, and actors
load the newest version at their next rollout.

Where the paper has a replay server, here the replay lives in the learner (the driver): it receives every
block through Ray's object store, so the data path is the same minus one hop, and the PER sum tree (a Numba
kernel) is updated in the process that samples. Each actor owns its own streams of the replay
(``engine.dqn.replay``), so episodes of different environments never interleave.

The learner keeps the configuration's replay ratio: ``train.gradient_steps`` updates per ``train.train_every``
environment steps after ``train.learning_starts``, whatever the number of actors (more actors: more updates per
second, until the learner is the bottleneck). Target copies, evaluations, logs and checkpoints are the
single-process ``Trainer``'s (``ApexTrainer`` subclasses it), so ``--resume`` works after the driver is killed;
actors restart their episodes, the replay is restored when ``run.save_replay`` is on. The run is not
bit-for-bit reproducible: blocks arrive in the order the actors finish them.

A dead actor (its process killed, its node lost) is restarted by Ray (``ray.max_restarts``); its unfinished
rollout is dropped (none of it was counted) and it starts fresh episodes in its own streams.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import torch

from ..config import from_dict, to_dict
from ..core import ConfigError, UserError
from ..distributed.cluster import actor_options, await_restart, connect, setup_actor_process
from .agent import DQNAgent
from .config import DQNConfig
from .replay import ReplayBuffer
from .trainer import ProgressBar, Trainer, build_env, env_preset

__all__ = ["ApexActor", "ApexTrainer", "actor_epsilons"]


def actor_epsilons(count: int, base: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    """Ape-X's exploration rates ``base ** (1 + alpha * i / (count - 1))`` for i = 0..count-1."""
    if count == 1:
        return np.array([base])
    return base ** (1.0 + alpha * np.arange(count) / (count - 1))


class ApexActor:
    """The body of a Ray Ape-X actor: ``cfg.env.num_envs`` environments, a copy of the Q-networks, and a small
    local replay (the same class as the learner's) that completes n-step transitions to prioritise them."""

    def __init__(self, cfg_dict: dict, actor_id: int, epsilons, seed: int, num_cpus: float = 1.0):
        device = setup_actor_process(num_cpus)
        cfg = from_dict(DQNConfig, cfg_dict)
        self.cfg, self.actor_id = cfg, int(actor_id)
        self.epsilons = np.asarray(epsilons, np.float64)
        self.env = build_env(cfg, cfg.env.num_envs, seed)
        self.preset = env_preset(cfg)
        self.agent = DQNAgent(cfg, self.env.obs_shape, self.env.num_actions, device)
        self.rng = np.random.default_rng(seed)
        t, n = cfg.train, cfg.env.num_envs
        self.streams = n
        # holds the block being written and what precedes it (stacks and n-step walks reach back into it)
        per_stream = 2 * (cfg.ray.rollout_steps + self.env.frame_stack + t.n_step + 2)
        self.local = ReplayBuffer(per_stream * n, self.env.frame_shape, frame_dtype=self.env.obs_dtype,
                                  num_streams=n, stack=self.env.frame_stack, n_step=t.n_step, gamma=t.gamma,
                                  reward_clip=t.reward_clip, seed=None)
        self.written = np.zeros(n, np.int64)      # slots written per stream
        self.undecided = np.zeros(n, np.int64)    # first slot whose priority is not decided yet
        self.obs = self.env.reset(seed=seed)
        self.first = np.ones(n, bool)
        self.last = np.zeros(n, bool)
        self.lives = self.env.last_lives
        self.running = np.zeros(n)
        self.lengths = np.zeros(n, np.int64)
        self.version = None

    def pid(self) -> int:
        return os.getpid()

    def _load(self, version, weights) -> None:
        if version == self.version:
            return
        online, target = weights
        self.agent.online.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in online.items()})
        self.agent.target.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in target.items()})
        self.version = version

    def rollout(self, version, weights, steps: int) -> dict:
        """Act ``steps`` times in every environment; returns the block of slots (time-major) and the priorities
        of the transitions it completed, addressed as (stream, slots back from the stream's newest)."""
        self._load(version, weights)
        env, agent = self.env, self.agent
        blocks = {k: [] for k in ("frames", "actions", "rewards", "terminals", "firsts", "lasts")}
        episodes: list[tuple[float, int]] = []
        counted = 0
        t0 = time.perf_counter()
        for _ in range(steps):
            actions = agent.act(self.obs, self.epsilons, self.rng)
            next_obs, rewards, terminated, truncated, lives = env.step(actions)
            life_lost = np.zeros_like(terminated)
            if self.preset is not None and self.preset.terminal_on_life_loss and lives is not None:
                life_lost = (lives < self.lives) & ~self.last & ~terminated
            frames = env.newest_frames(self.obs)
            terminals = terminated | life_lost
            self.local.add(frames, actions, rewards, terminals, self.first, self.last)
            for key, value in (("frames", frames), ("actions", actions), ("rewards", rewards),
                               ("terminals", terminals), ("firsts", self.first), ("lasts", self.last)):
                blocks[key].append(np.asarray(value).copy())
            active = ~self.last
            counted += int(active.sum())
            self.running += rewards * active
            self.lengths += active
            ended = (terminated | truncated) & active
            for i in np.flatnonzero(ended):
                episodes.append((float(self.running[i]), int(self.lengths[i])))
                self.running[i], self.lengths[i] = 0.0, 0
            self.first, self.last, self.lives = self.last, ended, lives
            self.obs = next_obs
        self.written += steps
        streams, back, local_idx = self._completed()
        priorities = agent.priorities(self.local.transitions(local_idx)) if len(local_idx) else np.zeros(0)
        out = {key: np.stack(value) for key, value in blocks.items()}
        out.update(actor=self.actor_id, steps=counted, episodes=episodes, ready_streams=streams, ready_back=back,
                   priorities=np.asarray(priorities, np.float64), seconds=time.perf_counter() - t0,
                   version=self.version)
        return out

    def _completed(self):
        """Slots whose transition is now complete (a valid start), once each: (stream, back, local index)."""
        streams, back, local_idx = [], [], []
        n_step = self.cfg.train.n_step
        for s in range(self.streams):
            q = int(self.undecided[s])
            newest = int(self.written[s]) - 1
            while q <= newest:
                g = self.local.newest_slot(s, newest - q)
                if self.local.valid_start(g):
                    streams.append(s)
                    back.append(newest - q)
                    local_idx.append(g)
                elif q + n_step <= newest:
                    pass  # every successor is here and it is still not a start (an episode's last slot)
                else:
                    break  # its n-step walk needs slots of the next block
                q += 1
            self.undecided[s] = q
        return np.asarray(streams, np.int64), np.asarray(back, np.int64), np.asarray(local_idx, np.int64)


class ApexTrainer(Trainer):
    """The DQN ``Trainer`` with acting moved to Ray actors (see the module docstring)."""

    def __init__(self, cfg, run_dir, *, seed: int = 0, resume: bool = False, progress: bool = True, echo=None):
        if cfg.net.recurrent:
            raise ConfigError("Ape-X prioritises single transitions: net.recurrent (DRQN) is not supported "
                              "with --ray")
        if not cfg.train.prioritized:  # Ape-X is prioritized replay by definition
            cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, prioritized=True))
        super().__init__(cfg, run_dir, seed=seed, resume=resume, progress=progress, echo=echo)
        self.section = cfg.ray
        self.epsilons = actor_epsilons(cfg.ray.actors * cfg.env.num_envs)
        self.resubmitted = 0
        self.blocks = 0
        self.on_block = None  # on_block(actor_index, block) after each block is in the replay (tests, monitors)

    def _replay_streams(self) -> int:
        return self.cfg.ray.actors * self.cfg.env.num_envs

    def _start_actors(self):
        import ray

        connect(self.section)
        remote = ray.remote(ApexActor).options(**actor_options(self.section))
        n = self.cfg.env.num_envs
        cfg_dict = to_dict(self.cfg)
        # seeds differ per actor and per session (restarts), so a resumed run does not replay old episodes
        base = self.seed + 100_003 * (self.restarts + 1)
        self.restarts += 1
        self.actors = [remote.remote(cfg_dict, i, self.epsilons[i * n:(i + 1) * n], base + 7919 * i,
                                     self.section.num_cpus) for i in range(self.section.actors)]

    def _broadcast(self):
        import ray

        online = {k: v.detach().cpu().numpy() for k, v in self.agent.online.state_dict().items()}
        target = {k: v.detach().cpu().numpy() for k, v in self.agent.target.state_dict().items()}
        self.version = self.agent.updates
        self.weights_ref = ray.put((online, target))

    def _ingest(self, block: dict) -> None:
        n = self.cfg.env.num_envs
        steps = block["frames"].shape[0]
        own = block["actor"] * n + np.arange(n)
        streams = np.tile(own, steps)  # time-major: step 0 of every env, then step 1 ...
        self.replay.add_streams(streams, block["frames"].reshape(steps * n, -1), block["actions"].reshape(-1),
                                block["rewards"].reshape(-1), block["terminals"].reshape(-1),
                                block["firsts"].reshape(-1), block["lasts"].reshape(-1))
        if len(block["priorities"]):
            idx = np.array([self.replay.newest_slot(int(own[s]), int(b))
                            for s, b in zip(block["ready_streams"], block["ready_back"], strict=True)])
            self.replay.update_priorities(idx, block["priorities"])
        self.step += int(block["steps"])
        self.blocks += 1
        for ret, length in block["episodes"]:
            self.episodes += 1
            self.recent_returns = (self.recent_returns + [ret])[-100:]
            self.logs.row("episodes", [self.step, ret, length])

    def run(self, stop_after: int | None = None) -> dict:
        import ray
        from ray.exceptions import RayActorError

        t, sec = self.cfg.train, self.section
        self._t0 = time.perf_counter()
        start_step = self.step
        self._updates0 = self.agent.updates
        learning_starts = t.learning_starts + (0 if self.replay_loaded else self.step)
        # updates owed: gradient_steps per train_every steps past learning_starts (the config's replay ratio)
        updates_base = self.agent.updates - max(0, self.step - learning_starts) * t.gradient_steps // t.train_every
        due = self._schedule()
        end = t.total_steps if stop_after is None else min(t.total_steps, stop_after)
        self._start_actors()
        self._broadcast()
        inflight = {a.rollout.remote(self.version, self.weights_ref, sec.rollout_steps): i
                    for i, a in enumerate(self.actors)}
        failures = [0] * len(self.actors)
        since_broadcast = 0
        interrupted = False
        progress = ProgressBar(self.progress, end, self.step)
        try:
            with progress:
                while self.step < end and not self._out_of_time():
                    owed = updates_base + max(0, self.step - learning_starts) * t.gradient_steps // t.train_every
                    behind = owed - self.agent.updates
                    ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0 if behind > 0 else None)
                    for ref in ready:
                        i = inflight.pop(ref)
                        try:
                            block = ray.get(ref)
                        except RayActorError as err:
                            failures[i] += 1  # in a row
                            self.resubmitted += 1
                            if failures[i] > sec.max_chunk_retries:
                                raise UserError(f"ray: Ape-X actor {i} lost {failures[i]} rollouts in a row "
                                                f"({type(err).__name__})") from None
                            self.echo(f"ray: actor {i} died; its rollout is dropped and Ray restarts it")
                            await_restart(self.actors[i])
                        else:
                            failures[i] = 0
                            self._ingest(block)
                            if self.on_block is not None:
                                self.on_block(i, block)
                        inflight[self.actors[i].rollout.remote(self.version, self.weights_ref,
                                                               sec.rollout_steps)] = i
                    t_learn = time.perf_counter()
                    # learn in short bursts so that finished blocks are picked up promptly
                    for _ in range(min(max(behind, 0), sec.broadcast_every)):
                        due.add(self._learn_once())
                        since_broadcast += 1
                        if not t.target_update:
                            self.agent.sync_target(t.tau)
                    self.learn_time += time.perf_counter() - t_learn
                    if since_broadcast >= sec.broadcast_every:
                        self._broadcast()
                        since_broadcast = 0
                    self._periodic(due, progress, end)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            for actor in self.actors:
                ray.kill(actor)
            self.actors = []
        self.act_time = self._session_wall()  # acting runs beside learning, on the actors
        return self._finish(start_step, interrupted, actors=sec.actors,
                            epsilons=[round(float(e), 5) for e in self.epsilons], blocks=self.blocks,
                            lost_rollouts=self.resubmitted)
