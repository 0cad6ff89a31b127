"""Connect Four solver speed on Pascal Pons' benchmark sets: positions/s (exact score of the position, and of
every move), nodes per position and nodes/s, one core. The transposition table is cleared before each pass over
a set and kept between its positions; every score is checked against the file."""

from __future__ import annotations

import time

import numpy as np

from ..c4eval import SETS, load_set, positions
from ..cli import UserError
from ._common import finish, parser, setup


def _timed(solver, states, fn, repeat):
    best, nodes, out = float("inf"), 0, None
    for _ in range(repeat):
        solver.reset()
        n0, t0 = solver.nodes, time.perf_counter()
        out = [fn(s) for s in states]
        best = min(best, time.perf_counter() - t0)
        nodes = solver.nodes - n0
    return best, nodes, out


def main(argv=None):
    p = parser("c4solver", __doc__)
    p.add_argument("--set", dest="sets", action="append", default=None, metavar="NAME|PATH",
                   help=f"test sets (default: {' '.join(SETS)})")
    p.add_argument("--limit", type=int, default=None, help="only the first K positions of each set")
    p.add_argument("--repeat", type=int, default=3, help="passes over each set; the fastest is reported")
    p.add_argument("--table-bits", type=int, default=None, help="transposition table of 2**BITS entries")
    args = p.parse_args(argv)
    setup(args)
    import games
    from agents.connect4_solver import DEFAULT_TABLE_BITS, Connect4Solver

    game = games.make("connect4")
    solver = Connect4Solver(game, table_bits=args.table_bits or DEFAULT_TABLE_BITS)
    solver.score("4453")  # compile (or load the cached kernels) outside the timing
    rows, lines = [], []
    for spec in args.sets or SETS:
        test_set = load_set(spec, args.limit)
        states = positions(game, test_set)
        n = len(states)
        seconds, nodes, scores = _timed(solver, states, solver.score, max(1, args.repeat))
        if not np.array_equal(scores, test_set.scores):
            raise UserError(f"{test_set.name}: the solver disagrees with the file's scores")
        move_seconds, move_nodes, _ = _timed(solver, states, solver.move_scores, max(1, args.repeat))
        row = {"set": test_set.name, "positions": n, "seconds": round(seconds, 4),
               "positions_per_second": round(n / seconds), "mean_microseconds": round(1e6 * seconds / n, 1),
               "nodes_per_position": round(nodes / n, 1), "nodes_per_second": round(nodes / seconds),
               "move_scores_positions_per_second": round(n / move_seconds),
               "move_scores_nodes_per_position": round(move_nodes / n, 1)}
        rows.append(row)
        lines.append(f"{test_set.name}: {n} positions, score {row['positions_per_second']:,}/s "
                     f"({row['mean_microseconds']} us, {row['nodes_per_position']} nodes each, "
                     f"{nodes / seconds / 1e6:.2f}M nodes/s); every move scored "
                     f"{row['move_scores_positions_per_second']:,} positions/s")
    finish("c4solver", args, {"table_bits": args.table_bits or DEFAULT_TABLE_BITS, "sets": rows}, "\n".join(lines))
