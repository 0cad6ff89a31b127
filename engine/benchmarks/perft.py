"""Perft speed of the game rules (Numba), e.g. Connect Four to depth 8: nodes per second on one core."""

from __future__ import annotations

from ..cli import make_game, seed_everything
from ..perft import run_perft
from ._common import finish, parser, setup

DEFAULT_DEPTH = {"connect4": 8, "tictactoe": 9, "go": 4, "chess": 5}


def main(argv=None):
    p = parser("perft", __doc__)
    p.add_argument("--game", default="connect4")
    p.add_argument("--depth", type=int, default=None)
    p.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = p.parse_args(argv)
    setup(args)
    seed_everything(args.seed)
    game = make_game(args.game)
    depth = args.depth or DEFAULT_DEPTH.get(args.game, 4)
    state = game.initial_state()
    runs = [run_perft(game, state, depth) for _ in range(max(1, args.repeat))]
    nodes, best = runs[0][0], min(t for _, t in runs)
    result = {"game": game.name, "depth": depth, "nodes": nodes, "seconds": round(best, 6),
              "nodes_per_second": round(nodes / best), "runs_seconds": [round(t, 6) for _, t in runs]}
    text = f"{game.name} perft({depth}) = {nodes:,} in {best:.4f} s: {nodes / best / 1e6:.1f}M nodes/s"
    finish("perft", args, result, None if args.json else text)
