"""Go rules speed: full random playouts per second on one core (Numba), moves per second, legal masks.

A playout plays uniformly random legal moves that do not fill the mover's own eye (Brügmann 1993), passing
when none is left, until two passes or the maximum length (2 N^2 moves), then scores it by Tromp-Taylor;
legality includes suicide and positional superko. ``legal_mask`` calls per second are measured on
mid-game positions taken from such playouts (the search calls it once per expanded node). Wall-clock
and CPU-time rates are both reported: on a shared machine the CPU-time rate is the one of the code.

    python -m engine.bench go --size 9
    python -m engine.bench go --size 9 19 --json
"""

from __future__ import annotations

import time

import numpy as np

from ..cli import make_game, seed_everything
from ._common import finish, parser, setup

DEFAULT_GAMES = {9: 20000, 13: 5000, 19: 2000}


def _timed(fn, *args):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w0, time.process_time() - c0


def measure(size: int, games: int, repeat: int, ko_rule: str, seed: int) -> dict:
    from games.go.rules import play_random, random_playouts

    game = make_game("go", {"size": size, "ko_rule": ko_rule})
    start = game.initial_state()
    random_playouts(game.params, start, 2)  # compile (or load the cache) outside the timing
    runs = []
    for r in range(max(1, repeat)):
        seed_everything(seed + r)
        (wins_b, wins_w, draws, moves), wall, cpu = _timed(random_playouts, game.params, start, games)
        runs.append((wall, cpu, int(wins_b), int(wins_w), int(draws), int(moves)))
    best = min(runs, key=lambda x: x[0])
    best_cpu = min(x[1] for x in runs)
    wall, _, wins_b, wins_w, draws, moves = best

    # mid-game positions (random playouts stopped half way) for legal_mask
    positions = []
    for _ in range(32):
        s = start.copy()
        play_random(game.params, s, size * size // 2)
        positions.append(s)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.rules.legal_mask(game.params, positions[0], mask)  # compile outside the timing
    calls = 0
    w0 = time.perf_counter()
    while time.perf_counter() - w0 < 0.5:
        for s in positions:
            game.rules.legal_mask(game.params, s, mask)
        calls += len(positions)
    mask_wall = time.perf_counter() - w0
    return {
        "size": size, "ko_rule": ko_rule, "games": games, "seconds": round(wall, 4),
        "playouts_per_second": round(games / wall), "playouts_per_cpu_second": round(games / best_cpu),
        "moves_per_second": round(moves / wall), "moves_per_cpu_second": round(moves / best_cpu),
        "mean_game_length": round(moves / games, 1),
        "black_wins": wins_b, "white_wins": wins_w, "draws": draws, "komi": game.komi,
        "legal_masks_per_second": round(calls / mask_wall), "state_bytes": int(start.nbytes),
        "runs_seconds": [round(x[0], 4) for x in runs],
    }


def main(argv=None):
    p = parser("go", __doc__)
    p.add_argument("--size", type=int, nargs="+", default=[9, 19], help="board sizes (5 to 19)")
    p.add_argument("--games", type=int, default=None, help="playouts per run (default by size)")
    p.add_argument("--repeat", type=int, default=3, help="runs per size; the fastest is reported")
    p.add_argument("--ko-rule", default="positional", choices=["positional", "situational", "simple"])
    args = p.parse_args(argv)
    setup(args)
    results = []
    for size in args.size:
        games = args.games or DEFAULT_GAMES.get(size, 5000)
        results.append(measure(size, games, args.repeat, args.ko_rule, args.seed))
    lines = []
    for r in results:
        lines.append(f"go {r['size']}x{r['size']}: {r['playouts_per_second']:,} random playouts/s "
                     f"({r['playouts_per_cpu_second']:,} per CPU second), {r['moves_per_second'] / 1e6:.2f}M moves/s "
                     f"({r['moves_per_cpu_second'] / 1e6:.2f}M per CPU second), "
                     f"{r['mean_game_length']} moves a game, {r['legal_masks_per_second']:,} legal masks/s "
                     f"at mid-game; state {r['state_bytes']:,} bytes")
    finish("go", args, {"results": results}, None if args.json else "\n".join(lines))
