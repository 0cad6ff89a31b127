"""The DQN training loop: acting in N environments, replay, learning phases, evaluation, logs and checkpoints.

A run lives in ``runs/{env}__{exp_name}__{seed}__{time}/``:

    config.yaml        the resolved configuration (what ``--resume`` reads back)
    preset.txt         the Atari protocol (every setting), for Atari runs
    metrics.csv        step, wall time, tag, value (training statistics and evaluations)
    episodes.csv       every finished training game: step, raw return, length
    evals.csv          every evaluation: step, mean, std, min, max of the raw returns, episodes
    events.*           TensorBoard (charts/..., losses/..., eval/...)
    checkpoint.pt      model, target network, optimizer, step, RNG states, counters (``nets`` checkpoint format)
    replay.npz         the replay, when ``run.save_replay``
    summary.json       the final summary (also printed with ``--json``)

Checkpoints are written every ``run.save_every`` steps, at the end and on Ctrl-C, atomically. At each periodic
checkpoint the environments restart (the unfinished episodes are cut, not counted as games), so a run resumed
from it continues exactly as the uninterrupted run does: same weights, same replay, same random numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..config import save_config, to_dict
from ..core import atomic_write, atomic_write_text
from .agent import DQNAgent, linear_schedule
from .config import DQNConfig
from .envs import PRESETS, VecEnv, atari_game, make_env
from .replay import ReplayBuffer

__all__ = ["Trainer", "evaluate", "run_name", "CHECKPOINT", "REPLAY"]

CHECKPOINT = "checkpoint.pt"
REPLAY = "replay.npz"


def run_name(env_id: str, exp_name: str, seed: int) -> str:
    """``{env}__{exp}__{seed}__{time}`` (CleanRL's convention), safe as a folder name."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{env_id.replace('/', '_')}__{exp_name}__{seed}__{stamp}"


def env_preset(cfg: DQNConfig):
    """The Atari preset with the config's frame stack, or None for other environments."""
    if atari_game(cfg.env.id) is None:
        return None
    preset = PRESETS[cfg.env.preset]
    if cfg.env.frame_stack:
        preset = dataclasses.replace(preset, frame_stack=cfg.env.frame_stack)
    return preset


def build_env(cfg: DQNConfig, num_envs: int, seed: int, evaluation: bool = False) -> VecEnv:
    preset = env_preset(cfg)
    if evaluation and preset is not None and cfg.eval.max_steps:  # an Atari evaluation episode's cap, in agent steps
        preset = dataclasses.replace(preset, eval_max_episode_frames=cfg.eval.max_steps * preset.frame_skip)
    return make_env(cfg.env.id, num_envs, seed=seed, preset=preset or "nature", backend=cfg.env.backend,
                    evaluation=evaluation, num_threads=cfg.env.threads)


def evaluate(agent: DQNAgent, env: VecEnv, episodes: int, epsilon: float, seed: int) -> dict:
    """Play ``episodes`` whole games (raw scores) with epsilon-greedy actions; episodes are spread evenly over the
    environments so that short games do not crowd out long ones."""
    rng = np.random.default_rng(seed)
    n = env.num_envs
    quota = np.array([episodes // n + (i < episodes % n) for i in range(n)])
    done = np.zeros(n, dtype=int)
    running = np.zeros(n)
    lengths = np.zeros(n, dtype=int)
    returns, episode_lengths = [], []
    obs = env.reset(seed=seed)
    agent.state = None
    last = np.zeros(n, dtype=bool)
    while (done < quota).any():
        agent.reset_state(last)
        actions = agent.act(obs, epsilon, rng)
        obs, rewards, terminated, truncated, _ = env.step(actions)
        active = ~last
        running += rewards * active
        lengths += active
        ended = (terminated | truncated) & active
        for i in np.flatnonzero(ended):
            if done[i] < quota[i]:
                returns.append(float(running[i]))
                episode_lengths.append(int(lengths[i]))
                done[i] += 1
            running[i] = 0.0
            lengths[i] = 0
        last = ended
    agent.state = None
    arr = np.asarray(returns)
    return {"mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "max": float(arr.max()),
            "episodes": len(returns), "returns": returns, "mean_length": float(np.mean(episode_lengths))}


class _Logs:
    """CSV files (always) and TensorBoard (when asked and installed) in the run folder."""

    def __init__(self, run_dir: Path, tensorboard: bool, resume: bool):
        self.run_dir = run_dir
        mode = "a" if resume else "w"
        self._files = {}
        self._writers = {}
        for name, header in (("metrics", ["step", "wall_s", "tag", "value"]),
                             ("episodes", ["step", "return", "length"]),
                             ("evals", ["step", "mean", "std", "min", "max", "episodes"])):
            path = run_dir / f"{name}.csv"
            fresh = mode == "w" or not path.exists()
            f = open(path, "w" if fresh else "a", newline="")
            self._files[name] = f
            self._writers[name] = csv.writer(f)
            if fresh:
                self._writers[name].writerow(header)
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(run_dir))
            except ImportError:  # pragma: no cover - tensorboard is a dependency, but stay usable without it
                self.tb = None

    def scalar(self, tag: str, value: float, step: int, wall: float) -> None:
        self._writers["metrics"].writerow([step, f"{wall:.2f}", tag, f"{value:.6g}"])
        if self.tb is not None:
            self.tb.add_scalar(tag, value, step)

    def row(self, name: str, values: list) -> None:
        self._writers[name].writerow(values)

    def flush(self) -> None:
        for f in self._files.values():
            f.flush()
        if self.tb is not None:
            self.tb.flush()

    def close(self) -> None:
        self.flush()
        for f in self._files.values():
            f.close()
        if self.tb is not None:
            self.tb.close()



@dataclasses.dataclass
class _Schedule:
    """What a training loop does every so many steps, and the loss statistics it averages for the logs: the
    step at which each periodic task is next due (None: never). ``Trainer.run`` and the Ape-X learner share it."""

    target: int | None
    log: int
    eval: int | None
    save: int | None
    stats_sum: dict = dataclasses.field(default_factory=dict)
    stats_n: int = 0

    def add(self, stats: dict) -> None:
        for k, v in stats.items():
            if not math.isnan(v):
                self.stats_sum[k] = self.stats_sum.get(k, 0.0) + v
        self.stats_n += 1


class Trainer:
    """Train ``cfg`` into ``run_dir``; ``resume=True`` continues from the checkpoint there."""

    def __init__(self, cfg: DQNConfig, run_dir: Path, *, seed: int = 0, resume: bool = False,
                 progress: bool = True, echo=None):
        import nets

        self.cfg, self.run_dir, self.seed = cfg, Path(run_dir), int(seed)
        self.progress, self.echo = progress, echo or (lambda text: print(text, file=sys.stderr, flush=True))
        torch.manual_seed(self.seed)
        np.random.seed(self.seed % 2**32)
        self.device = nets.pick_device(cfg.run.device)
        self.preset = env_preset(cfg)
        self.env = build_env(cfg, cfg.env.num_envs, self.seed)
        self.eval_env = None
        t = cfg.train
        self.replay = ReplayBuffer(t.buffer_size, self.env.frame_shape, frame_dtype=self.env.obs_dtype,
                                   num_streams=self._replay_streams(), stack=self.env.frame_stack, n_step=t.n_step,
                                   gamma=t.gamma, prioritized=t.prioritized, alpha=t.alpha,
                                   priority_eps=t.priority_eps, reward_clip=t.reward_clip, seed=self.seed + 1)
        self.agent = DQNAgent(cfg, self.env.obs_shape, self.env.num_actions, self.device)
        self.act_rng = np.random.default_rng(self.seed + 2)
        self.step = 0
        self.episodes = 0
        self.restarts = 0
        self.best_eval: float | None = None
        self.last_eval: float | None = None
        self.evals: list[dict] = []
        self.recent_returns: list[float] = []
        self.wall_before = 0.0  # wall time of earlier sessions of this run
        self.act_time = self.learn_time = 0.0
        self.replay_loaded = True
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            self._load()
        else:
            save_config(cfg, self.run_dir / "config.yaml")
            if self.preset is not None:
                atomic_write_text(self.run_dir / "preset.txt", f"{self.preset.name}: {self.preset.describe()}\n")
        self.logs = _Logs(self.run_dir, cfg.run.tensorboard, resume)

    def _replay_streams(self) -> int:
        """Streams of the replay: one per environment that writes to it."""
        return self.cfg.env.num_envs

    # -- schedules --------------------------------------------------------------------------------------------------

    def epsilon(self, step: int) -> float:
        t = self.cfg.train
        return linear_schedule(t.eps_start, t.eps_end, t.eps_decay_steps, max(0, step - t.eps_decay_start))

    def beta(self, step: int) -> float:
        t = self.cfg.train
        return linear_schedule(t.beta_start, 1.0, t.beta_steps or t.total_steps, step)

    def eval_epsilon(self) -> float:
        if self.cfg.eval.epsilon is not None:
            return self.cfg.eval.epsilon
        return self.preset.eval_epsilon if self.preset is not None else 0.0

    # -- checkpoints ------------------------------------------------------------------------------------------------

    def _counters(self) -> dict:
        return {"step": self.step, "updates": self.agent.updates, "episodes": self.episodes,
                "restarts": self.restarts, "best_eval": self.best_eval, "last_eval": self.last_eval,
                "evals": [{k: v for k, v in e.items() if k != "returns"} for e in self.evals],
                "recent_returns": self.recent_returns[-100:], "wall_s": self.wall_before + self._session_wall(),
                "epsilon": self.epsilon(self.step), "replay_saved": self.cfg.run.save_replay}

    def _session_wall(self) -> float:
        return time.perf_counter() - self._t0 if hasattr(self, "_t0") else 0.0

    def save(self) -> Path:
        import nets

        if self.cfg.run.save_replay:
            state = self.replay.state_dict()

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as f:
                    np.savez(f, **state)

            atomic_write(self.run_dir / REPLAY, write)
        counters = self._counters()
        path = nets.save_checkpoint(
            self.run_dir / CHECKPOINT, self.agent.online, self.agent.optimizer, step=self.step,
            generators={"act": self.act_rng, "replay": self.replay.rng},
            metadata={"env": self.cfg.env.id, "preset": self.preset.name if self.preset else None,
                      "algorithm": "dqn", "seed": self.seed},
            extra={"target": self.agent.target.state_dict(), "counters": counters, "config": to_dict(self.cfg)})
        return path

    def _load(self) -> None:
        import nets

        path = self.run_dir / CHECKPOINT
        ckpt = nets.load_checkpoint(path, self.agent.online, self.agent.optimizer, restore_rng_state=True,
                                    generators={"act": self.act_rng, "replay": self.replay.rng})
        self.agent.target.load_state_dict(ckpt.extra["target"])
        c = ckpt.extra["counters"]
        self.step, self.agent.updates, self.episodes = int(c["step"]), int(c["updates"]), int(c["episodes"])
        self.restarts, self.best_eval, self.last_eval = int(c["restarts"]), c["best_eval"], c["last_eval"]
        self.evals, self.recent_returns = list(c["evals"]), list(c["recent_returns"])
        self.wall_before = float(c["wall_s"])
        replay_path = self.run_dir / REPLAY
        if c.get("replay_saved") and replay_path.exists():
            rng_state = self.replay.rng.bit_generator.state  # the checkpoint's generator state wins
            with np.load(replay_path, allow_pickle=False) as data:
                self.replay.load_state_dict({k: data[k] for k in data.files})
            self.replay.rng.bit_generator.state = rng_state
        else:
            self.replay_loaded = False

    # -- the loop ---------------------------------------------------------------------------------------------------

    def _restart_envs(self):
        self.restarts += 1
        obs = self.env.reset(seed=self.seed + 7919 * self.restarts)
        self.agent.state = None
        n = self.env.num_envs
        self.first = np.ones(n, dtype=bool)
        self.last = np.zeros(n, dtype=bool)
        self.running = np.zeros(n)
        self.lengths = np.zeros(n, dtype=int)
        self.lives = self.env.last_lives
        return obs

    def _evaluate(self) -> dict:
        if self.eval_env is None:
            self.eval_env = build_env(self.cfg, self.cfg.eval.num_envs, self.seed + 10**6, evaluation=True)
        actor_state = self.agent.state  # DRQN: the training actors' memory survives the evaluation
        result = evaluate(self.agent, self.eval_env, self.cfg.eval.episodes, self.eval_epsilon(),
                          seed=self.seed + 10**6 + len(self.evals) * 1009)
        self.agent.state = actor_state
        result["step"] = self.step
        self.evals.append(result)
        self.last_eval = result["mean"]
        self.best_eval = result["mean"] if self.best_eval is None else max(self.best_eval, result["mean"])
        wall = self.wall_before + self._session_wall()
        self.logs.row("evals", [self.step, f"{result['mean']:.3f}", f"{result['std']:.3f}", result["min"],
                                result["max"], result["episodes"]])
        self.logs.scalar("eval/mean_return", result["mean"], self.step, wall)
        self.logs.flush()
        return result

    def run(self, stop_after: int | None = None) -> dict:
        """Train until ``train.total_steps`` (or ``stop_after`` steps, for tests); returns the summary."""
        t = self.cfg.train
        self._t0 = time.perf_counter()
        start_step = self.step
        learning_starts = t.learning_starts + (0 if self.replay_loaded else self.step)
        first_train = max(t.train_every, learning_starts)
        next_train = first_train if self.step < first_train else \
            first_train + ((self.step - first_train) // t.train_every + 1) * t.train_every
        self._updates0 = self.agent.updates
        due = self._schedule()
        end = t.total_steps if stop_after is None else min(t.total_steps, stop_after)
        obs = self._restart_envs()
        interrupted = False
        progress = ProgressBar(self.progress, end, self.step)
        try:
            with progress:
                while self.step < end and not self._out_of_time():
                    t_act = time.perf_counter()
                    self.agent.reset_state(self.first)
                    actions = self.agent.act(obs, self.epsilon(self.step), self.act_rng)
                    next_obs, rewards, terminated, truncated, lives = self.env.step(actions)
                    life_lost = np.zeros_like(terminated)
                    if self.preset is not None and self.preset.terminal_on_life_loss and lives is not None:
                        life_lost = (lives < self.lives) & ~self.last & ~terminated
                    self.replay.add(self.env.newest_frames(obs), actions, rewards, terminated | life_lost,
                                    self.first, self.last)
                    active = ~self.last
                    self.step += int(active.sum())
                    self.running += rewards * active
                    self.lengths += active
                    ended = (terminated | truncated) & active
                    for i in np.flatnonzero(ended):
                        self.episodes += 1
                        self.recent_returns = (self.recent_returns + [float(self.running[i])])[-100:]
                        self.logs.row("episodes", [self.step, float(self.running[i]), int(self.lengths[i])])
                        self.running[i], self.lengths[i] = 0.0, 0
                    self.first, self.last, self.lives = self.last, ended, lives
                    obs = next_obs
                    self.act_time += time.perf_counter() - t_act

                    if self.step >= next_train:
                        t_learn = time.perf_counter()
                        while self.step >= next_train:
                            for _ in range(t.gradient_steps):
                                due.add(self._learn_once())
                                if not t.target_update:
                                    self.agent.sync_target(t.tau)
                            next_train += t.train_every
                        self.learn_time += time.perf_counter() - t_learn
                    if self._periodic(due, progress, end):
                        obs = self._restart_envs()
        except KeyboardInterrupt:
            interrupted = True
        return self._finish(start_step, interrupted)

    def _out_of_time(self) -> bool:
        """``run.time_limit`` reached (the run's whole training wall time, across resumes)."""
        limit = self.cfg.run.time_limit
        return bool(limit) and self.wall_before + self._session_wall() >= limit

    def _finish(self, start_step: int, interrupted: bool, **extra) -> dict:
        """The end of a run: the final evaluation (when it ran to ``total_steps`` or its ``run.time_limit``), the
        checkpoint and ``summary.json`` (with ``extra``), logs and environments closed; re-raises an interruption."""
        if not interrupted and (self.step >= self.cfg.train.total_steps or self._out_of_time()):
            result = self._evaluate()
            self.echo(f"step {self.step:,}: final evaluation {result['mean']:.2f} +- {result['std']:.2f} "
                      f"over {result['episodes']} games")
        checkpoint = self.save()
        summary = self._summary(self.step - start_step, interrupted, checkpoint)
        summary.update(extra)
        atomic_write_text(self.run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
        self.logs.close()
        self.env.close()
        if self.eval_env is not None:
            self.eval_env.close()
        if interrupted:
            raise KeyboardInterrupt
        return summary

    def _schedule(self) -> _Schedule:
        """The periodic tasks of a run (re)starting at ``self.step``: each next due at its next multiple."""
        cfg, t = self.cfg, self.cfg.train

        def next_multiple(every):
            return (self.step // every + 1) * every if every else None

        return _Schedule(target=next_multiple(t.target_update), log=next_multiple(cfg.run.log_every),
                         eval=next_multiple(cfg.eval.every), save=next_multiple(cfg.run.save_every))

    def _periodic(self, due: _Schedule, progress, end: int) -> bool:
        """The tasks due at this step: target-network sync, logs, progress, evaluation, checkpoint (the last
        two not at the final step, which the end of ``run`` handles). True when a checkpoint was written."""
        cfg, t = self.cfg, self.cfg.train
        if due.target is not None and self.step >= due.target:
            self.agent.sync_target(t.tau)
            due.target = (self.step // t.target_update + 1) * t.target_update
        if self.step >= due.log:
            self._log(due.stats_sum, due.stats_n)
            due.stats_sum, due.stats_n = {}, 0
            due.log = (self.step // cfg.run.log_every + 1) * cfg.run.log_every
        progress.update(self.step, self._describe())
        if due.eval is not None and self.step >= due.eval and self.step < end:
            result = self._evaluate()
            self.echo(f"step {self.step:,}: evaluation {result['mean']:.2f} +- {result['std']:.2f} "
                      f"over {result['episodes']} games")
            due.eval = (self.step // cfg.eval.every + 1) * cfg.eval.every
        if due.save is not None and self.step >= due.save and self.step < end:
            self.save()
            due.save = (self.step // cfg.run.save_every + 1) * cfg.run.save_every
            return True
        return False

    def learning_rate(self, step: int) -> float:
        """``train.lr`` falling linearly to ``lr * lr_final`` at ``total_steps``."""
        t = self.cfg.train
        return t.lr * linear_schedule(1.0, t.lr_final, t.total_steps, step)

    def _learn_once(self) -> dict:
        t = self.cfg.train
        if t.lr_final != 1.0:
            lr = self.learning_rate(self.step)
            for group in self.agent.optimizer.param_groups:
                group["lr"] = lr
        beta = self.beta(self.step)
        if self.agent.recurrent:
            batch = self.replay.sample_sequences(t.batch_size, t.sequence_length, beta)
        else:
            batch = self.replay.sample(t.batch_size, beta)
        stats, priorities = self.agent.learn(batch)
        self.replay.update_priorities(batch.indices, priorities)
        return stats

    def _log(self, stats_sum: dict, stats_n: int) -> None:
        wall = self.wall_before + self._session_wall()
        log = self.logs.scalar
        for k, v in stats_sum.items():
            log(f"losses/{k}", v / max(1, stats_n), self.step, wall)
        log("charts/epsilon", self.epsilon(self.step), self.step, wall)
        log("charts/steps_per_second", self.step / max(1e-9, wall), self.step, wall)
        if self.recent_returns:
            log("charts/episodic_return", float(np.mean(self.recent_returns[-10:])), self.step, wall)
        self.logs.flush()

    def _describe(self) -> str:
        recent = f"{np.mean(self.recent_returns[-10:]):.1f}" if self.recent_returns else "-"
        last = f"{self.last_eval:.1f}" if self.last_eval is not None else "-"
        return f"eps {self.epsilon(self.step):.2f}  return {recent}  eval {last}"

    def _summary(self, session_steps: int, interrupted: bool, checkpoint: Path) -> dict:
        session_wall = self._session_wall()
        return {
            "env": self.cfg.env.id, "preset": self.preset.name if self.preset else None, "seed": self.seed,
            "steps": self.step, "updates": self.agent.updates, "episodes": self.episodes,
            "final_eval_return": self.last_eval, "best_eval_return": self.best_eval,
            "evaluations": [[e["step"], round(e["mean"], 3)] for e in self.evals],
            "wall_time_s": round(self.wall_before + session_wall, 2),
            "steps_per_second": round(session_steps / max(1e-9, session_wall), 2),
            "acting_steps_per_second": round(session_steps / max(1e-9, self.act_time), 2),
            "updates_per_second": round(self._session_updates() / max(1e-9, self.learn_time), 2),
            "device": str(self.device), "interrupted": interrupted, "out_of_time": self._out_of_time(),
            "run_dir": str(self.run_dir), "checkpoint": str(checkpoint),
        }

    def _session_updates(self) -> int:
        return self.agent.updates - getattr(self, "_updates0", 0)


class ProgressBar:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""

    def __init__(self, enabled: bool, total: int, done: int):
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("[bold]dqn"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                TextColumn("{task.description}"),
                                console=Console(stderr=True), refresh_per_second=4)
            self.task = self.bar.add_task("", total=total, completed=done)
        self._last = 0.0

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False

    def update(self, done: int, description: str) -> None:
        if self.bar is None:
            return
        now = time.perf_counter()
        if now - self._last > 0.25:
            speed = self.bar.tasks[0].speed
            rate = f"{speed:,.0f} steps/s  " if speed else ""
            self.bar.update(self.task, completed=done, description=rate + description)
            self._last = now
