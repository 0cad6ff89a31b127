"""DQN speed on Atari Pong with the Nature CNN: acting-only and learning steps per second (batch 32, one gradient
step every 4 agent steps), on one thread; ``--sb3`` measures Stable-Baselines3's DQN at the same settings in a
separate process on the same machine (``pip install stable-baselines3``; it is not a project dependency).

Both sides: Pong with frame skip 4, 84x84 grey frames, 4-frame stacks, epsilon 0.01 (so nearly every step runs
the network), replay of 10,000 transitions filled with 1,000 random steps first, Adam (SB3's default; ours is
fused), Huber loss, target copied every 10,000 steps, torch and OpenMP pinned to one thread. "acting" is
environment + network + replay writes; "learning" adds a replay sample and a gradient step every 4 steps. The
best of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import multiprocessing as mp
import time

from ..cli import UserError
from ._common import finish, parser, setup

# SB3's DQN defaults to Adam at 1e-4 (Nature used RMSProp): the comparison runs both sides with Adam.
SB3_SETTINGS = ("train.optimizer=adam", "train.lr=0.0001")


def _ours(env_id: str, steps: int, num_envs: int, threads: int, seed: int, config: str | None,
          overrides: list[str]) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from engine.config import load_config
    from engine.dqn.agent import DQNAgent
    from engine.dqn.config import DQNConfig
    from engine.dqn.envs import make_env
    from engine.dqn.replay import ReplayBuffer

    cfg = load_config(DQNConfig, config, ["run.device=cpu", *overrides])
    env = make_env(env_id, num_envs, seed=seed, preset=cfg.env.preset, backend="vector", num_threads=1)
    t = cfg.train
    replay = ReplayBuffer(10_000, env.frame_shape, num_streams=num_envs, stack=env.frame_stack, n_step=t.n_step,
                          gamma=t.gamma, prioritized=t.prioritized, reward_clip=1.0, seed=seed)
    torch.manual_seed(seed)
    agent = DQNAgent(cfg, env.obs_shape, env.num_actions, "cpu")
    rng = np.random.default_rng(seed)
    obs = env.reset(seed=seed)
    first = np.ones(num_envs, bool)
    last = np.zeros(num_envs, bool)
    state = {"obs": obs, "first": first, "last": last}

    def play(n: int, epsilon: float, learn: bool) -> tuple[float, float, int, float]:
        done = 0
        updates = 0
        learn_time = 0.0
        next_train = 4
        start, cpu = time.perf_counter(), time.process_time()
        while done < n:
            obs = state["obs"]
            actions = agent.act(obs, epsilon, rng)
            next_obs, rewards, terminated, truncated, _ = env.step(actions)
            replay.add(env.newest_frames(obs), actions, rewards, terminated, state["first"], state["last"])
            done += int((~state["last"]).sum())
            state["first"], state["last"] = state["last"], terminated | truncated
            state["obs"] = next_obs
            while learn and done >= next_train:
                t0 = time.process_time()
                batch = replay.sample(t.batch_size)
                _, priorities = agent.learn(batch)
                replay.update_priorities(batch.indices, priorities)
                learn_time += time.process_time() - t0
                updates += 1
                next_train += 4
        return time.perf_counter() - start, time.process_time() - cpu, updates, learn_time

    play(1000, 1.0, False)  # fill the replay with random play
    play(200, 0.01, True)  # warm up (allocator, first calls)
    act_s, act_cpu, _, _ = play(steps, 0.01, False)
    learn_s, learn_cpu, updates, update_cpu = play(steps, 0.01, True)
    env.close()
    return _rates(steps, act_s, act_cpu, learn_s, learn_cpu) | {
        "cpu_ms_per_update": 1000 * update_cpu / max(1, updates), "updates": updates}


def _rates(steps: int, act_s: float, act_cpu: float, learn_s: float, learn_cpu: float) -> dict:
    """Steps per wall-clock second and per second of this process's CPU time (steadier on a shared machine)."""
    return {"acting_steps_per_second": steps / act_s, "learning_steps_per_second": steps / learn_s,
            "acting_steps_per_cpu_second": steps / act_cpu, "learning_steps_per_cpu_second": steps / learn_cpu}


def _sb3(env_id: str, steps: int, threads: int, seed: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    import ale_py
    import gymnasium
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    from engine.dqn.envs import atari_game

    gymnasium.register_envs(ale_py)
    camel = "".join(p.capitalize() for p in atari_game(env_id).split("_"))
    env = VecFrameStack(make_atari_env(f"{camel}NoFrameskip-v4", n_envs=1, seed=seed), n_stack=4)

    def model(learning_starts: int, gradient_steps: int):
        return DQN("CnnPolicy", env, buffer_size=10_000, learning_starts=learning_starts, batch_size=32,
                   train_freq=4, gradient_steps=gradient_steps, target_update_interval=10_000,
                   exploration_initial_eps=0.01, exploration_final_eps=0.01, optimize_memory_usage=False,
                   device="cpu", seed=seed, verbose=0)

    # Acting only: past learning_starts (so SB3 runs its network, it samples at random before) but with no
    # gradient steps.
    acting = model(0, 0)
    acting.learn(200)
    start, cpu = time.perf_counter(), time.process_time()
    acting.learn(steps, reset_num_timesteps=False)
    act_s, act_cpu = time.perf_counter() - start, time.process_time() - cpu
    learner = model(1000, 1)
    learner.learn(1200)  # 1,000 random steps fill the replay, then warm up
    start, cpu = time.perf_counter(), time.process_time()
    learner.learn(steps, reset_num_timesteps=False)
    learn_s, learn_cpu = time.perf_counter() - start, time.process_time() - cpu
    env.close()
    return _rates(steps, act_s, act_cpu, learn_s, learn_cpu) | {"version": __import__("stable_baselines3").__version__}


def _worker(job):
    kind, args = job
    return _ours(*args) if kind == "ours" else _sb3(*args)


def main(argv=None):
    p = parser("dqn", __doc__)
    p.add_argument("--env", default="ALE/Pong-v5")
    p.add_argument("--steps", type=int, default=2000, help="agent steps per timed phase")
    p.add_argument("--repeat", type=int, default=3, help="runs of each side (interleaved); the best is reported")
    p.add_argument("--num-envs", type=int, default=1, help="our environments per step (SB3 runs 1)")
    p.add_argument("--config", default="dqn_atari", help="a YAML file or a shipped config name")
    p.add_argument("--sb3", action="store_true", help="also measure Stable-Baselines3's DQN (must be installed)")
    p.add_argument("overrides", nargs="*", metavar="key=value", default=list(SB3_SETTINGS),
                   help=f"config overrides for our side (default: {' '.join(SB3_SETTINGS)}, SB3's optimizer)")
    args = p.parse_args(argv)
    setup(args)
    if args.steps < 100:
        raise UserError("--steps must be >= 100")
    if args.sb3:
        try:
            import stable_baselines3  # noqa: F401
        except ImportError:
            raise UserError("--sb3 needs stable-baselines3: pip install stable-baselines3 (not a project "
                            "dependency)") from None
    ctx = mp.get_context("spawn")
    ours, sb3 = [], []
    for _ in range(max(1, args.repeat)):  # interleaved, each in a fresh process, so both see the same machine load
        with ctx.Pool(1) as pool:
            ours.append(pool.map(_worker, [("ours", (args.env, args.steps, args.num_envs, args.threads, args.seed,
                                                     args.config, list(args.overrides)))])[0])
        if args.sb3:
            with ctx.Pool(1) as pool:
                sb3.append(pool.map(_worker, [("sb3", (args.env, args.steps, args.threads, args.seed))])[0])

    keys = ("acting_steps_per_second", "learning_steps_per_second", "acting_steps_per_cpu_second",
            "learning_steps_per_cpu_second")

    def best(runs):
        return {k: round(max(r[k] for r in runs), 1) for k in keys}

    result = {"env": args.env, "steps": args.steps, "batch_size": 32, "train_every": 4, "threads": args.threads,
              "num_envs": args.num_envs, "repeat": args.repeat, "config": args.config,
              "overrides": list(args.overrides),
              "ours": {**best(ours), "cpu_ms_per_update": round(min(r["cpu_ms_per_update"] for r in ours), 2),
                       "runs": ours}}

    def describe(name, r):
        return (f"  {name}: acting {r['acting_steps_per_second']:.0f} steps/s "
                f"({r['acting_steps_per_cpu_second']:.0f} per CPU-second), learning "
                f"{r['learning_steps_per_second']:.0f} steps/s ({r['learning_steps_per_cpu_second']:.0f} per "
                f"CPU-second)")

    lines = [f"DQN on {args.env}, Nature CNN, batch 32, train every 4 steps, {args.threads} thread(s), best of "
             f"{args.repeat}:", describe(f"rlengine ({args.num_envs} env)", result["ours"])
             + f"; {result['ours']['cpu_ms_per_update']:.1f} CPU-ms per update"]
    if sb3:
        result["sb3"] = {**best(sb3), "version": sb3[0]["version"], "runs": sb3}
        result["speedup"] = {k: round(result["ours"][k] / result["sb3"][k], 2) for k in keys}
        lines.append(describe(f"Stable-Baselines3 {result['sb3']['version']}", result["sb3"]))
        sp = result["speedup"]
        lines.append(f"  speed-up over SB3: learning {sp['learning_steps_per_second']}x wall-clock, "
                     f"{sp['learning_steps_per_cpu_second']}x per CPU-second; acting "
                     f"{sp['acting_steps_per_second']}x wall-clock, {sp['acting_steps_per_cpu_second']}x per "
                     f"CPU-second")
    finish("dqn", args, result, None if args.json else "\n".join(lines))
