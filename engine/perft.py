"""Perft: count the leaves of a game's move tree to a given depth (a rules test and a speed benchmark).

``perft(D)`` is the number of move sequences of exactly ``D`` plies from the position: terminal positions are
leaves and are not expanded, so a game that ends earlier adds nothing at depth ``D`` (the chess convention, and
the one of the Connect Four table in OEIS). ``--stats`` walks the whole tree and also reports every leaf,
early endings included (for tic-tac-toe at depth 9: the 255,168 possible games), results and distinct
positions per ply. The generic perft runs over any game's Numba rules with a preallocated stack (one state
and one legal mask per ply) and counts the last ply in bulk (the number of legal moves) as chess engines do.
A game may offer a faster specialised ``perft`` method (chess does: the standard chess perft, which counts legal
moves and ignores the draws by rule that end a game in the game API).

    python -m engine.perft connect4 --depth 8
    python -m engine.perft tictactoe --depth 9 --stats
    python -m engine.perft connect4 width=8 height=7 --depth 6 --position 44 --json
    python -m engine.perft chess --position "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq -" --depth 4
    python -m engine.perft chess --epd perftsuite.epd --max-depth 5

``--epd FILE`` checks a whole suite in one process: each line is a position in the game's notation followed by
expected counts, ``FEN ;D1 20 ;D2 400 ...``; every mismatch is reported and the exit status is 1 if any.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
from numba import njit

from games.base import ONGOING

from .cli import UserError, add_common_args, emit, make_game, run_main

# The two walks take a game's kernels (``rules``, a namedtuple of dispatchers) as an argument, so they are not
# cached on disk: Numba pickles such signatures by value, a new process never finds them again (each run
# compiled anew and appended an entry to the index), and re-saving a grown index fails with "ReferenceError:
# underlying object has vanished" once the rebuilt dispatchers have been garbage-collected. The game kernels
# themselves stay cached.


@njit
def perft(rules, params, state, depth, n_actions):
    """Move sequences of exactly ``depth`` plies from ``state`` (terminal positions are not expanded)."""
    if depth == 0:
        return np.int64(1)
    if rules.outcome(params, state) != ONGOING:
        return np.int64(0)
    stack = np.empty((depth + 1, state.shape[0]), dtype=state.dtype)
    masks = np.zeros((depth + 1, n_actions), dtype=np.bool_)
    next_action = np.zeros(depth + 1, dtype=np.int64)
    stack[0] = state
    n_legal = rules.legal_mask(params, stack[0], masks[0])
    if depth == 1:
        return np.int64(n_legal)
    total = np.int64(0)
    ply = 0
    while ply >= 0:
        a = next_action[ply]
        while a < n_actions and not masks[ply, a]:
            a += 1
        if a == n_actions:
            ply -= 1
            continue
        next_action[ply] = a + 1
        child = stack[ply + 1]
        child[:] = stack[ply]
        rules.apply(params, child, a)
        if rules.outcome(params, child) != ONGOING:
            continue  # a finished game before depth: a leaf that adds nothing at depth
        if ply + 2 == depth:
            total += rules.legal_mask(params, child, masks[ply + 1])  # bulk count the last ply
        else:
            rules.legal_mask(params, child, masks[ply + 1])
            next_action[ply + 1] = 0
            ply += 1
    return total


@njit
def perft_stats(rules, params, state, depth, num_actions):
    """Full tree walk: leaves, terminal leaves by outcome (+1, 0, -1), and distinct positions per ply.

    Returns ``(leaves, wins_first, draws, wins_second, nodes[depth + 1], distinct[depth + 1],
    distinct_terminal)``: ``nodes[d]`` is perft(d); positions are told apart by ``state_hash`` (exact for the
    small games).
    """
    stack = np.empty((depth + 1, state.shape[0]), dtype=state.dtype)
    masks = np.zeros((depth + 1, num_actions), dtype=np.bool_)
    next_action = np.zeros(depth + 1, dtype=np.int64)
    seen = [set([np.int64(0)]) for _ in range(depth + 1)]
    for s in seen:
        s.clear()
    terminal_seen = set([np.int64(0)])
    terminal_seen.clear()
    leaves = np.int64(0)
    results = np.zeros(3, dtype=np.int64)
    nodes = np.zeros(depth + 1, dtype=np.int64)
    nodes[0] = 1
    stack[0] = state
    seen[0].add(rules.state_hash(params, state))
    out = rules.outcome(params, state)
    if depth == 0 or out != ONGOING:
        if out != ONGOING:
            results[1 - out] += 1
            terminal_seen.add(rules.state_hash(params, state))
        return np.int64(1), results[0], results[1], results[2], nodes, nodes.copy(), np.int64(len(terminal_seen))
    rules.legal_mask(params, stack[0], masks[0])
    ply = 0
    while ply >= 0:
        a = next_action[ply]
        while a < num_actions and not masks[ply, a]:
            a += 1
        if a == num_actions:
            ply -= 1
            continue
        next_action[ply] = a + 1
        child = stack[ply + 1]
        child[:] = stack[ply]
        rules.apply(params, child, a)
        h = rules.state_hash(params, child)
        seen[ply + 1].add(h)
        nodes[ply + 1] += 1
        out = rules.outcome(params, child)
        if out != ONGOING:
            leaves += 1
            results[1 - out] += 1
            terminal_seen.add(h)
        elif ply + 1 == depth:
            leaves += 1
        else:
            rules.legal_mask(params, child, masks[ply + 1])
            next_action[ply + 1] = 0
            ply += 1
    counts = np.zeros(depth + 1, dtype=np.int64)
    for i in range(depth + 1):
        counts[i] = len(seen[i])
    return leaves, results[0], results[1], results[2], nodes, counts, np.int64(len(terminal_seen))


def run_perft(game, state, depth: int) -> tuple[int, float]:
    """Leaves and seconds; uses the game's specialised perft when it has one."""
    fast = getattr(game, "perft", None)
    if fast is None:
        perft(game.rules, game.params, state, 1, game.num_actions)  # compile outside the timing
    else:
        fast(state, min(depth, 2))
    t0 = time.perf_counter()
    nodes = fast(state, depth) if fast is not None else perft(game.rules, game.params, state, depth, game.num_actions)
    return int(nodes), time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m engine.perft", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", help="game name (tictactoe, connect4, go, chess)")
    p.add_argument("options", nargs="*", help="game options as key=value (width=8, size=9, komi=7.5)")
    p.add_argument("--depth", type=int, default=None, help="plies to search (required unless --epd)")
    p.add_argument("--position", default=None,
                   help="start position: moves in the game's notation (Connect Four digits, FEN for chess)")
    p.add_argument("--stats", action="store_true",
                   help="walk the whole tree: results of terminal leaves and distinct positions per ply")
    p.add_argument("--divide", action="store_true", help="also print the leaf count below each root move")
    p.add_argument("--epd", default=None, metavar="FILE",
                   help="check a perft suite: lines 'POSITION ;D1 n1 ;D2 n2 ...'; reports every mismatch")
    p.add_argument("--max-depth", type=int, default=None, help="with --epd: skip the depths above this one")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.epd is not None:
        return run_epd(args)
    if args.depth is None:
        raise UserError("--depth is required (or --epd FILE to check a perft suite)")
    if args.depth < 0:
        raise UserError(f"--depth must be >= 0, got {args.depth}")
    game = make_game(args.game, args.options)
    state = game.initial_state() if args.position is None else game.parse_position(args.position)
    result = {"game": game.name, "depth": args.depth,
              "position": args.position if args.position is not None else "start"}
    if args.divide:
        divide = {}
        name = getattr(game, "format_uci", game.format_move)  # chess: UCI, as engines print their divide
        for a in game.legal_actions(state):
            divide[name(state, a)] = run_perft(game, game.apply(state, a), args.depth - 1)[0]
        result["divide"] = divide
    nodes, seconds = run_perft(game, state, args.depth)
    result.update(nodes=nodes, seconds=round(seconds, 6), nodes_per_second=round(nodes / max(seconds, 1e-9)))
    if args.stats:
        t0 = time.perf_counter()
        leaves, w, d, l, per_ply, distinct, terminal = perft_stats(
            game.rules, game.params, state, args.depth, game.num_actions)
        result.update(
            leaves=int(leaves), perft_per_ply=[int(x) for x in per_ply],
            first_player_wins=int(w), draws=int(d), second_player_wins=int(l),
            distinct_positions_per_ply=[int(x) for x in distinct], distinct_terminal_positions=int(terminal),
            stats_seconds=round(time.perf_counter() - t0, 3),
        )
    text = None
    if not args.json:
        lines = [f"{k}: {v}" for k, v in result.items() if k != "divide"]
        if args.divide:
            lines = [f"{m}: {n}" for m, n in result["divide"].items()] + lines
        text = "\n".join(lines)
    emit(result, args.json, text)


_EPD_DEPTH = re.compile(r"^D(\d+)\s+(\d+)$")


def read_epd(path: Path) -> list[tuple[int, str, list[tuple[int, int]]]]:
    """Lines of a perft suite: (line number, position, [(depth, expected nodes), ...])."""
    if not path.is_file():
        raise UserError(f"EPD file {str(path)!r} does not exist")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read EPD file {str(path)!r}: {err}") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        position, *fields = [f.strip() for f in line.split(";")]
        checks = []
        for f in fields:
            if not f:
                continue
            m = _EPD_DEPTH.match(f)
            if not m:
                raise UserError(f"{path}:{number}: {f!r} is not a perft count (write ';D<depth> <nodes>')")
            checks.append((int(m.group(1)), int(m.group(2))))
        if not position or not checks:
            raise UserError(f"{path}:{number}: expected 'POSITION ;D1 <nodes> ...', got {line!r}")
        out.append((number, position, checks))
    if not out:
        raise UserError(f"EPD file {str(path)!r} has no positions")
    return out


def run_epd(args) -> int:
    """Check every count of a perft suite in one process; exit status 1 when any count differs."""
    from rich.progress import Progress

    from games import IllegalMove

    game = make_game(args.game, args.options)
    suite = read_epd(Path(args.epd))
    max_depth = args.max_depth if args.max_depth is not None else 1 << 30
    mismatches, checked, nodes, seconds = [], 0, 0, 0.0
    todo = sum(1 for _, _, checks in suite for d, _ in checks if d <= max_depth)
    with Progress(transient=True, disable=args.json) as bar:
        task = bar.add_task("perft suite", total=todo)
        for number, position, checks in suite:
            try:
                state = game.parse_position(position)
            except IllegalMove as err:
                raise UserError(f"{args.epd}:{number}: {err}") from None
            for depth, expected in checks:
                if depth > max_depth:
                    continue
                got, dt = run_perft(game, state, depth)
                checked += 1
                nodes += got
                seconds += dt
                if got != expected:
                    mismatches.append({"line": number, "position": position, "depth": depth,
                                       "expected": expected, "got": got})
                bar.advance(task)
    result = {"game": game.name, "epd": str(args.epd), "positions": len(suite), "checks": checked,
              "mismatches": mismatches, "nodes": nodes, "seconds": round(seconds, 6),
              "nodes_per_second": round(nodes / max(seconds, 1e-9))}
    text = None
    if not args.json:
        lines = [f"line {m['line']}: depth {m['depth']}: expected {m['expected']}, got {m['got']} ({m['position']})"
                 for m in mismatches]
        lines.append(f"{checked} counts on {len(suite)} positions checked, {len(mismatches)} mismatches, "
                     f"{nodes:,} nodes in {seconds:.2f} s")
        text = "\n".join(lines)
    emit(result, args.json, text)
    return 1 if mismatches else 0


if __name__ == "__main__":
    run_main(main)
