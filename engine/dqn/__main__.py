"""Train and evaluate DQN agents (Nature DQN, Double, dueling, prioritized, n-step, C51, DRQN, Rainbow-style).

    python -m engine.dqn --env CartPole-v1                              # the shipped dqn_cartpole config
    python -m engine.dqn --env ALE/Pong-v5 --config dqn_atari train.total_steps=2000000
    python -m engine.dqn --env ALE/Breakout-v5 --config rainbow_atari env.preset=machado
    python -m engine.dqn --resume runs/ALE_Pong-v5__dqn__0__20250101-120000
    python -m engine.dqn eval --checkpoint runs/.../checkpoint.pt --episodes 30
    python -m engine.dqn --env CartPole-v1 --ray ray.actors=4            # Ape-X: actors on Ray, one learner
    python -m engine.dqn --env ALE/Pong-v5 --ray --address auto ray.actors=32 train.total_steps=20000000

Without ``--config`` an Atari id uses the shipped ``dqn_atari`` config and anything else ``dqn_cartpole``
(``--config NAME`` takes a shipped config by name from any directory: ``engine/configs/``).
``key=value`` arguments override the configuration (``train.double=true``); an unknown key is an error that
lists the valid ones. With ``--json`` the last line of stdout is the run summary (env, steps, final and best
evaluation return, wall time, steps/s). Ctrl-C saves a checkpoint, then stops. With ``--ray`` the environments
run in ``ray.actors`` Ray actors with Ape-X's per-actor epsilons and send prioritised transitions to the learner
here (engine/dqn/apex.py); ``--resume RUN --ray`` continues such a run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import UserError, add_common_args, emit, pin_threads, require, run_main, stop_on_sigterm
from ..config import ConfigError, load_config


def _default_config(env_id: str) -> Path | None:
    """The shipped config for ``env_id``: ``dqn_atari`` for Atari ids (only these import ale-py), else
    ``dqn_cartpole``."""
    from .. import configs
    from .envs import atari_game

    try:
        atari = atari_game(env_id) is not None
    except ValueError as err:
        raise UserError(str(err)) from None
    return configs.shipped("dqn_atari" if atari else "dqn_cartpole")


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.dqn", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", help="gymnasium or Atari id: CartPole-v1, ALE/Pong-v5, PongNoFrameskip-v4 ...")
    p.add_argument("--config", help="YAML file or shipped config name (dqn_atari, rainbow_atari, drqn_atari ...)")
    p.add_argument("--resume", metavar="RUN", help="continue the run in this folder (or from its checkpoint.pt)")
    p.add_argument("--run-dir", help="write the run here instead of runs/{env}__{exp}__{seed}__{time}")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ray", action="store_true", help="Ape-X: act in Ray actors (see the ray.* keys)")
    p.add_argument("--address", default=None,
                   help="with --ray: join this Ray cluster ('auto' or host:port; default: ray.address or a local Ray)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="configuration overrides (train.lr=1e-4)")
    from nets.precision import add_precision_argument

    add_precision_argument(p, default=None)
    add_common_args(p)
    return p


def _eval_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.dqn eval", description="Play evaluation games from a "
                                "checkpoint and report raw scores over whole games.")
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt (or the run folder holding it)")
    p.add_argument("--episodes", type=int, default=None, help="games to play (default: the run's eval.episodes)")
    p.add_argument("--epsilon", type=float, default=None,
                   help="exploration during evaluation (default: the preset's: 0.05 nature, 0.001 machado; 0 else)")
    p.add_argument("--preset", default=None, help="evaluate under another Atari preset (nature, machado)")
    p.add_argument("--num-envs", type=int, default=None, help="environments played side by side")
    p.add_argument("--device", default="cpu")
    add_common_args(p)
    return p


def _resolve_run(resume: str) -> Path:
    from .trainer import CHECKPOINT

    path = Path(resume)
    if path.is_file() and path.name == CHECKPOINT:
        path = path.parent
    if not path.is_dir():
        raise UserError(f"--resume {resume}: no such run folder")
    for name in ("config.yaml", CHECKPOINT):
        if not (path / name).is_file():
            raise UserError(f"--resume {resume}: the run folder has no {name}")
    return path


def train_main(argv) -> int:
    args = _train_parser().parse_intermixed_args(argv)
    from .config import DQNConfig

    bad = [o for o in args.overrides if "=" not in o]
    if bad:
        raise UserError(f"unexpected argument {bad[0]!r}: overrides are written key=value (train.lr=1e-4)")
    if args.precision is not None:  # the same as the override run.precision=... (the learning step)
        from nets.precision import check_precision

        args.overrides.append(f"run.precision={check_precision(args.precision, '--precision')}")
    if args.address is not None:
        if not args.ray:
            raise UserError("--address needs --ray")
        args.overrides.append(f"ray.address={args.address}")
    if args.ray:
        require("ray", "--ray")  # before any run folder exists
    if args.resume:
        run_dir = _resolve_run(args.resume)
        if args.config:
            raise UserError("--resume reads the run's own config.yaml; give changes as key=value overrides")
        cfg = load_config(DQNConfig, run_dir / "config.yaml", args.overrides)
        if args.env and args.env != cfg.env.id:
            raise UserError(f"--resume: the run trains {cfg.env.id}, not {args.env}")
        import nets

        meta = nets.read_checkpoint(run_dir / "checkpoint.pt").metadata
        seed = int(meta.get("seed", args.seed))
    else:
        env_id = args.env
        config_path = Path(args.config) if args.config else None
        if env_id is None and config_path is None:
            raise UserError("give --env (e.g. --env CartPole-v1 or --env ALE/Pong-v5) or a --config that names one")
        if config_path is None:
            config_path = _default_config(env_id)
        overrides = list(args.overrides) + ([f"env.id={env_id}"] if env_id else [])
        cfg = load_config(DQNConfig, config_path, overrides)
        seed = args.seed
        run_dir = Path(args.run_dir) if args.run_dir else None
    pin_threads(cfg.run.threads)
    stop_on_sigterm()  # `kill` saves a checkpoint like Ctrl-C
    import torch

    torch.set_num_threads(cfg.run.threads)
    from .trainer import Trainer, run_name

    if args.ray:
        from .apex import ApexTrainer as Trainer  # noqa: N814 - the same interface

    _check_env(cfg.env.id)
    if run_dir is None:
        run_dir = Path(cfg.run.runs_dir) / run_name(cfg.env.id, cfg.run.exp_name, seed)
    trainer = Trainer(cfg, run_dir, seed=seed, resume=bool(args.resume), progress=not args.no_progress)
    where = f"{'resuming' if args.resume else 'training'} {cfg.env.id} in {run_dir}"
    if trainer.preset is not None:
        where += f" (preset {trainer.preset.name}: {trainer.preset.describe()})"
    print(where, file=sys.stderr, flush=True)
    try:
        summary = trainer.run()
    except KeyboardInterrupt:
        print(f"interrupted at step {trainer.step:,}: checkpoint saved in {run_dir}; resume with "
              f"python -m engine.dqn --resume {run_dir}", file=sys.stderr, flush=True)
        raise
    text = (f"{summary['env']}: {summary['steps']:,} steps in {summary['wall_time_s']:.0f} s "
            f"({summary['steps_per_second']:.0f} steps/s); evaluation: final {summary['final_eval_return']}, "
            f"best {summary['best_eval_return']}\nrun: {summary['run_dir']}")
    emit(summary, args.json, text)
    return 0


def _check_env(env_id: str) -> None:
    from .envs import make_env

    try:
        make_env(env_id, 1).close()
    except ValueError as err:
        raise UserError(str(err)) from None


def eval_main(argv) -> int:
    args = _eval_parser().parse_args(argv)
    pin_threads(1)
    import torch

    torch.set_num_threads(1)
    import nets

    from ..config import from_dict
    from .agent import DQNAgent
    from .config import DQNConfig
    from .trainer import CHECKPOINT, build_env, env_preset, evaluate

    path = Path(args.checkpoint)
    if path.is_dir():
        path = path / CHECKPOINT
    ckpt = nets.read_checkpoint(path)
    if "config" not in ckpt.extra:
        raise UserError(f"checkpoint {path} was not written by engine.dqn (it has no DQN configuration)")
    data = ckpt.extra["config"]
    if args.preset is not None:
        data["env"]["preset"] = args.preset
    if args.num_envs is not None:
        data["eval"]["num_envs"] = args.num_envs
    data["run"]["device"] = args.device
    try:
        cfg = from_dict(DQNConfig, data)
    except ConfigError as err:
        raise UserError(f"checkpoint {path}: {err}") from None
    episodes = args.episodes or cfg.eval.episodes
    if episodes < 1:
        raise UserError(f"--episodes must be >= 1, got {episodes}")
    env = build_env(cfg, cfg.eval.num_envs, args.seed, evaluation=True)
    agent = DQNAgent(cfg, env.obs_shape, env.num_actions, nets.pick_device(args.device))
    nets.load_checkpoint(path, agent.online)
    agent.online.eval()
    preset = env_preset(cfg)
    epsilon = args.epsilon if args.epsilon is not None else (
        cfg.eval.epsilon if cfg.eval.epsilon is not None else (preset.eval_epsilon if preset else 0.0))
    if not 0.0 <= epsilon <= 1.0:
        raise UserError(f"--epsilon must be in [0, 1], got {epsilon}")
    result = evaluate(agent, env, episodes, epsilon, seed=args.seed)
    env.close()
    summary = {"env": cfg.env.id, "preset": preset.name if preset else None, "checkpoint": str(path),
               "trained_steps": ckpt.step, "epsilon": epsilon, **result}
    text = (f"{cfg.env.id} after {ckpt.step:,} steps: {result['mean']:.2f} +- {result['std']:.2f} over "
            f"{result['episodes']} games (min {result['min']}, max {result['max']}; epsilon {epsilon})")
    emit(summary, args.json, text)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        return eval_main(argv[1:])
    if argv and argv[0] == "train":
        argv = argv[1:]
    return train_main(argv)


if __name__ == "__main__":
    run_main(main)
