"""Chess rules speed on one core: perft from the start position (depth 5 and 6, legal generation with bulk
counting), random playouts through the game-API kernels (``legal_mask`` + ``apply``, as the search calls
them: plies per second) and AlphaZero input encodings per second.

    python -m engine.bench chess
    python -m engine.bench chess --depth 5 6 7 --games 500 --json
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from games.base import ONGOING

from ..cli import make_game, seed_everything
from ._common import finish, parser, setup

KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"


@njit(cache=True)
def random_playouts(rules, params, state, num_actions, games, max_plies, seed):
    """Uniformly random games from ``state`` through the API kernels; returns (plies, [wins1, draws, wins2])."""
    np.random.seed(seed)
    mask = np.zeros(num_actions, dtype=np.bool_)
    s = np.empty_like(state)
    plies = 0
    results = np.zeros(3, dtype=np.int64)
    for _ in range(games):
        s[:] = state
        for _ in range(max_plies):
            if rules.outcome(params, s) != ONGOING:
                break
            n = rules.legal_mask(params, s, mask)
            k = np.random.randint(n)
            a = 0
            while True:
                if mask[a]:
                    if k == 0:
                        break
                    k -= 1
                a += 1
            rules.apply(params, s, a)
            plies += 1
        out = rules.outcome(params, s)
        if out != ONGOING:
            results[1 - out] += 1
    return plies, results


@njit(cache=True)
def encode_many(rules, params, state, out, times):
    for _ in range(times):
        rules.encode(params, state, out)
    return out[0, 0, 0]


def main(argv=None):
    p = parser("chess", __doc__)
    p.add_argument("--depth", type=int, nargs="+", default=[5, 6], help="perft depths from the start position")
    p.add_argument("--games", type=int, default=200, help="random playouts")
    p.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best is reported")
    args = p.parse_args(argv)
    setup(args)
    seed_everything(args.seed)
    game = make_game("chess")
    repeat = max(1, args.repeat)
    result: dict = {"game": game.name, "perft": {}}
    lines = []
    for label, fen in (("start", None), ("kiwipete", KIWIPETE)):
        state = game.initial_state() if fen is None else game.from_fen(fen)
        game.perft(state, 2)  # compile or load outside the timing
        for depth in args.depth if fen is None else [d - 1 for d in args.depth]:
            best, nodes = float("inf"), 0
            for _ in range(repeat):
                t0 = time.perf_counter()
                nodes = game.perft(state, depth)
                best = min(best, time.perf_counter() - t0)
            result["perft"][f"{label}-d{depth}"] = {"nodes": nodes, "seconds": round(best, 4),
                                                   "nodes_per_second": round(nodes / best)}
            lines.append(f"perft {label} depth {depth}: {nodes:,} nodes in {best:.3f} s = {nodes / best / 1e6:.1f}M/s")
    start = game.initial_state()
    random_playouts(game.rules, game.params, start, game.num_actions, 1, 10, 0)
    best, plies, results = float("inf"), 0, None
    for i in range(repeat):
        t0 = time.perf_counter()
        plies, results = random_playouts(game.rules, game.params, start, game.num_actions, args.games,
                                         game.max_game_length, args.seed + i)
        best = min(best, time.perf_counter() - t0)
    result["playouts"] = {"games": args.games, "plies": int(plies), "seconds": round(best, 4),
                          "plies_per_second": round(plies / best), "mean_game_plies": round(plies / args.games, 1),
                          "white_wins": int(results[0]), "draws": int(results[1]), "black_wins": int(results[2])}
    lines.append(f"random playouts: {args.games} games, {plies:,} plies in {best:.3f} s = "
                 f"{plies / best / 1e3:.0f}k plies/s (legal_mask + apply), {plies / args.games:.0f} plies a game")
    mid = game.from_fen(KIWIPETE)
    out = np.zeros(game.plane_shape, dtype=np.float32)
    encode_many(game.rules, game.params, mid, out, 10)
    times = 20_000
    best = min(_timed(encode_many, game.rules, game.params, mid, out, times) for _ in range(repeat))
    result["encode_per_second"] = round(times / best)
    lines.append(f"encode: {times / best / 1e3:.0f}k positions/s ({game.plane_shape[0]} planes)")
    finish("chess", args, result, None if args.json else "\n".join(lines))


def _timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0
