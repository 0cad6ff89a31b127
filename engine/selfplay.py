"""AlphaZero training by self-play: ``python -m engine.selfplay [--config FILE] [key=value ...]``.

    python -m engine.selfplay                                   # the embedded default: Connect Four on the CPU
    python -m engine.selfplay --config tictactoe                # tic-tac-toe, a few minutes
    python -m engine.selfplay --config connect4 mcts.simulations=64 run.iterations=40
    python -m engine.selfplay --resume runs/connect4-20250101-120000   # continue exactly where it stopped
    python -m engine.selfplay --resume RUN_DIR run.iterations=60       # ... and go on for longer
    python -m engine.selfplay --config connect4 --ray ray.actors=8     # self-play on Ray actors
    python -m engine.selfplay --config connect4 --ray --address auto   # ... on a running cluster
    python -m engine.selfplay --init runs/sup-connect4-.../checkpoints/supervised.pt   # from supervised weights

With no arguments it runs engine/configs/connect4.yaml (the embedded default and a stopping rule): Connect Four on the
CPU, the games played by worker processes on every core but one while the learner trains on the last (run.workers;
iteration i+1's games are played while iteration i trains), a 4-block x 32-channel ResNet, Gumbel AlphaZero with 48
simulations per move, 192 games per iteration played 64 at a time, each iteration followed by 20 games against the
previous network, the random player and pure MCTS with 1,000 rollouts. It runs until its network scores at least 0.55
against pure MCTS (run.target_mcts_score; at most 60 iterations, run.iterations), says after the second iteration (the
first compiles) how long the cap is at this machine's speed, and ends with the command that plays the network
(python -m engine.play connect4 --checkpoint RUN/checkpoints/newest.pt). It writes runs/connect4-<time>/ (README.txt
there says what each file is; see engine/alphazero/run.py). --resume RUN key=value saves the changes in the run's
config.yaml. Ctrl-C stops after saving; --resume continues exactly (model, optimizer, replay, counters, random states).
With --ray the games of each iteration are played by ``ray.actors`` Ray actors (engine/distributed/selfplay.py) while
the learner, replay, arena and run folder stay in this process; --resume works with or without --ray.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli import UserError, add_common_args, emit, require, run_main

DEFAULT_CONFIG = "connect4"
"""The shipped config run without --config: the embedded default plus its stopping rule (until the network beats
pure MCTS with 1,000 rollouts, at most 60 iterations)."""


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m engine.selfplay", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="dotted config overrides, e.g. mcts.simulations=200 run.iterations=5")
    p.add_argument("--config", type=Path, default=None,
                   help="YAML file or shipped config name: chess, connect4, go9, go19, tictactoe (default: connect4;"
                        " a file starts from the embedded Connect Four default and changes what it gives)")
    p.add_argument("--resume", type=Path, default=None, metavar="RUN_DIR", help="continue the run in this folder")
    p.add_argument("--out", type=Path, default=None, metavar="RUN_DIR", help="run folder (default runs/<game>-<time>)")
    p.add_argument("--init", type=Path, default=None, metavar="CHECKPOINT",
                   help="start from these weights (e.g. python -m engine.supervised's); net.* follows the checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (summary lines only)")
    p.add_argument("--ray", action="store_true", help="play the self-play games on Ray actors (see ray.* keys)")
    p.add_argument("--address", default=None,
                   help="with --ray: join this Ray cluster ('auto' or host:port; default: ray.address or a local Ray)")
    from nets.precision import add_precision_argument, check_precision

    add_precision_argument(p, default=None)
    add_common_args(p)
    args = p.parse_args(argv)
    if args.precision is not None:  # the same as the override run.precision=...
        args.overrides.append(f"run.precision={check_precision(args.precision, '--precision')}")
    from .cli import pin_threads, stop_on_sigterm

    pin_threads(1)
    stop_on_sigterm()  # `kill` stops like Ctrl-C: the last finished iteration is on disk
    from .alphazero import SelfPlayRun, make_config

    if args.ray:
        require("ray", "--ray")  # before any run folder exists
    if args.address is not None:
        if not args.ray:
            raise UserError("--address needs --ray")
        args.overrides.append(f"ray.address={args.address}")
    if args.resume is not None and args.init is not None:
        raise UserError("--init starts a new run; a resumed run goes on with its own weights")
    if args.resume is not None and args.config is not None:
        raise UserError("--resume takes the run's own config.yaml; give changes as key=value overrides")
    try:
        if args.resume is not None:
            run = SelfPlayRun.resume(args.resume, args.overrides, progress=not args.no_progress)
        else:
            net_keys = _init_net_overrides(args.init) if args.init is not None else []
            cfg = make_config(args.config or DEFAULT_CONFIG, net_keys + list(args.overrides))
            run = SelfPlayRun.create(cfg, seed=args.seed, folder=args.out, progress=not args.no_progress)
            if args.init is not None:
                run.start_from(args.init)
    except ValueError as err:  # settings that pass the config's types but not the parts built from them
        raise UserError(f"the configuration cannot be used: {err}") from None
    if args.resume is not None and (done := run.finished()) is not None:
        more = max(run.cfg.run.iterations, run.iteration) + 12
        target = " run.target_mcts_score=0" if run.cfg.run.target_mcts_score > 0 and run.iteration < \
            run.cfg.run.iterations else ""
        raise UserError(f"run {args.resume} is finished: {done}; to train on, pass what to change, e.g. "
                        f"python -m engine.selfplay --resume {args.resume} run.iterations={more}{target}")
    if args.ray:
        run.use_ray()
    else:
        from .alphazero.sources import worker_count

        run.use_workers(worker_count(run.cfg.run.workers, run.cfg.run.device))
    result = run.run()
    emit(result, args.json, "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 130 if result["stopped"] == "interrupted" else 0


def _init_net_overrides(path: Path) -> list[str]:
    """``net.KEY=VALUE`` for the architecture of the checkpoint ``--init`` names (user overrides come after)."""
    import json

    from nets import PolicyValueConfig, read_checkpoint

    saved = read_checkpoint(path).config or {}
    fields = PolicyValueConfig.__dataclass_fields__
    return [f"net.{k}={json.dumps(v)}" for k, v in saved.items() if k in fields]


if __name__ == "__main__":
    run_main(main)
