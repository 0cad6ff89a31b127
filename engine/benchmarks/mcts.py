"""MCTS speed: simulations per second of ``BatchedMCTS`` on one core, and the share of time spent outside the
network with a network evaluator.

    python -m engine.bench mcts --game connect4 --evaluator uniform --batch 64 --simulations 800 --json
    python -m engine.bench mcts --game connect4 --evaluator network --batch 64 --simulations 200
    python -m engine.bench mcts --game tictactoe --evaluator rollout --batch 16 --simulations 400

Each repeat searches ``--batch`` fresh roots (the initial position) with ``--simulations`` simulations per tree;
the best repeat is reported (other processes share the machine), with the compilation and a warm-up search
left out. ``uniform`` is reported twice: evaluated inside the compiled step (the search's own cost, the
headline figure) and through the Python evaluator interface (planes encoded, one Python call per step, as a
network is called). ``network`` runs AlphaZero's ResNet from nets/ (``--blocks`` x ``--channels``, random
weights, one thread) through ``nets.PolicyValueEvaluator``, times the evaluator calls inside the search and
reports the rest as the share of time outside the network.
"""

from __future__ import annotations

import time

from ..cli import UserError, add_simulations_arg, make_game, simulations_of
from ..mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator, TimedEvaluator, UniformEvaluator
from ._common import finish, parser, setup

NAME = "mcts"


def _network_evaluator(game, channels: int, blocks: int):
    """AlphaZero's ResNet from nets/ (random weights: speed does not depend on them) behind its MCTS evaluator."""
    import torch

    from nets import PolicyValueEvaluator, PolicyValueNet

    torch.manual_seed(0)
    net = PolicyValueNet(game.plane_shape, game.num_actions, blocks=blocks, channels=channels)
    return PolicyValueEvaluator(net, device="cpu")


def _time_search(mcts: BatchedMCTS, game, evaluator, repeats: int) -> tuple[float, float, int]:
    """Best wall and CPU seconds of a search from fresh roots, and the simulations it ran."""
    roots = [game.initial_state()] * mcts.batch_size
    best_wall = best_cpu = float("inf")
    sims = 0
    for _ in range(repeats):
        mcts.set_roots(roots)
        w0, c0 = time.perf_counter(), time.process_time()
        result = mcts.run(evaluator)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        sims = int(result.simulations.sum())
    return best_wall, best_cpu, sims


def main(argv=None):
    p = parser(NAME, __doc__.splitlines()[0])
    p.add_argument("--game", default="connect4", help="game name (options as --game-option key=value)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE", help="a game option")
    p.add_argument("--evaluator", choices=("uniform", "rollout", "network"), default="uniform")
    p.add_argument("--batch", type=int, default=64, help="trees searched together (B)")
    add_simulations_arg(p, 800, "simulations per tree")
    p.add_argument("--leaves-per-tree", type=int, default=1, help="leaves per tree per evaluator call (k)")
    p.add_argument("--gumbel", action="store_true", help="Gumbel root selection instead of PUCT")
    p.add_argument("--repeats", type=int, default=5, help="searches timed (the best is reported)")
    p.add_argument("--channels", type=int, default=64, help="network: channels of the ResNet")
    p.add_argument("--blocks", type=int, default=6, help="network: residual blocks of the ResNet")
    args = p.parse_args(argv)
    simulations_of(args)
    setup(args)
    for key in ("batch", "simulations", "leaves_per_tree", "repeats"):
        if getattr(args, key) < 1:
            raise UserError(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    game = make_game(args.game, args.game_option)
    config = MCTSConfig(simulations=args.simulations, leaves_per_tree=args.leaves_per_tree, gumbel=args.gumbel,
                        dirichlet_epsilon=0.0)
    t0 = time.perf_counter()
    mcts = BatchedMCTS(game, args.batch, config, seed=args.seed)
    compile_s = time.perf_counter() - t0
    result = {"game": game.name, "evaluator": args.evaluator, "batch": args.batch, "simulations": args.simulations,
              "leaves_per_tree": args.leaves_per_tree, "gumbel": args.gumbel, "repeats": args.repeats,
              "load_or_compile_seconds": round(compile_s, 2)}
    warm = max(1, min(args.repeats, 2))
    if args.evaluator in ("uniform", "rollout"):
        builtin = UniformEvaluator() if args.evaluator == "uniform" else RolloutEvaluator(game)
        _time_search(mcts, game, builtin, warm)
        wall, cpu, sims = _time_search(mcts, game, builtin, args.repeats)
        result.update(sims_per_second=round(sims / wall), sims_per_cpu_second=round(sims / cpu),
                      search_seconds=round(wall, 4))
        if args.evaluator == "uniform":
            interface = UniformEvaluator(compiled=False)
            _time_search(mcts, game, interface, warm)
            wall, cpu, sims = _time_search(mcts, game, interface, args.repeats)
            result.update(interface_sims_per_second=round(sims / wall),
                          interface_sims_per_cpu_second=round(sims / cpu), interface_steps=mcts.last_steps)
    else:
        timed = TimedEvaluator(_network_evaluator(game, args.channels, args.blocks))
        _time_search(mcts, game, timed, warm)
        best = None
        for _ in range(args.repeats):
            timed.seconds, timed.calls, timed.positions = 0.0, 0, 0
            wall, _, sims = _time_search(mcts, game, timed, 1)
            share = 1.0 - timed.seconds / wall
            if best is None or wall < best[0]:
                best = (wall, sims, share, timed.calls, timed.positions)
        wall, sims, share, calls, positions = best
        result.update(network="nets.PolicyValueNet (resnet) via nets.PolicyValueEvaluator, cpu",
                      channels=args.channels, blocks=args.blocks, sims_per_second=round(sims / wall),
                      share_outside_network=round(share, 4), evaluator_calls=calls,
                      mean_leaves_per_call=round(positions / max(calls, 1), 1), search_seconds=round(wall, 4))
    text = "\n".join(f"{k}: {v}" for k, v in result.items())
    finish(NAME, args, result, None if args.json else text)
    return 0


if __name__ == "__main__":
    from ..cli import run_main

    run_main(main)
