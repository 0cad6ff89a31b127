"""How often a player picks an optimal Connect Four move, measured on Pascal Pons' benchmark sets.

    python -m engine.c4eval --agent random
    python -m engine.c4eval --agent c4solver --set Test_L2_R1 --json
    python -m engine.c4eval --agent alphazero --simulations 800 --set Test_L3_R1
    python -m engine.c4eval --agent mcts:1000 --set path/to/set --limit 200

A set is a text file of lines ``moves score`` (Pons' format: ``moves`` are 1-based column digits played from
the empty 7x6 board, ``score`` the exact score from the mover's view; see ``agents/connect4_solver.py``). The
sets live outside the package: ``--set NAME`` looks for ``NAME`` as a path, then in ``../shared/data/connect4``
beside the repository (or ``$RLENGINE_SHARED_DATA/connect4``).

The solver scores every legal move of every position (and must reproduce the file's score, or the command stops:
the set or the solver would be wrong). A move is **optimal** when its score is the best one (fastest win, or
slowest loss); it **keeps the result** when its win/draw/loss class is the position's. Both shares are reported
overall and by the position's class (in a lost position every move keeps the result). Batched agents
(``Agent.batched``) get the positions in batches through ``choose_batch`` (an AlphaZero player searches them
together); an external program is asked one position at a time, each as a new game.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.base import Agent
from agents.connect4_solver import ILLEGAL, Connect4Solver

from .cli import (
    UserError,
    add_common_args,
    add_simulations_arg,
    add_threads_arg,
    emit,
    pin_threads_of,
    run_main,
    seed_everything,
    simulations_of,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SETS = ("Test_L3_R1", "Test_L2_R1")
CLASSES = ("win", "draw", "loss")


def data_dir() -> Path:
    """Where the reference sets are looked for: ``$RLENGINE_SHARED_DATA/connect4`` or ``../shared/data/connect4``."""
    return Path(os.environ.get("RLENGINE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "connect4"


def find_set(spec: str | Path) -> Path:
    """The file of a test set given by path or by name (``Test_L3_R1``); ``UserError`` naming where it looked."""
    candidates = [Path(spec), data_dir() / str(spec)]
    for path in candidates:
        if path.is_file():
            return path
    raise UserError(f"test set {str(spec)!r} not found (looked for {' and '.join(map(str, candidates))}); "
                    f"pass the path of a file of 'moves score' lines, such as Pascal Pons' {' or '.join(SETS)}")


@dataclass
class TestSet:
    """Positions of a benchmark set: Pons move strings and the exact scores the file gives."""

    name: str
    moves: list[str]
    scores: np.ndarray  # int64[N], from the mover's view

    __test__ = False  # not a pytest class

    def __len__(self) -> int:
        return len(self.moves)


def load_set(spec: str | Path, limit: int | None = None) -> TestSet:
    """Read a set (``moves score`` per line; blank lines and ``#`` comments are skipped)."""
    path = find_set(spec)
    moves, scores = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].lstrip("-").isdigit():
            raise UserError(f"{path}:{number}: expected 'moves score' (column digits, an integer), got {line!r}")
        moves.append(parts[0])
        scores.append(int(parts[1]))
        if limit is not None and len(moves) >= limit:
            break
    if not moves:
        raise UserError(f"{path}: no positions in the file")
    return TestSet(path.name, moves, np.array(scores, dtype=np.int64))


def score_class(score) -> np.ndarray:
    """0 win, 1 draw, 2 loss (the order of ``CLASSES``) of scores from the mover's view."""
    score = np.asarray(score)
    return np.where(score > 0, 0, np.where(score == 0, 1, 2))


def positions(game, test_set: TestSet) -> list[np.ndarray]:
    """The game states of a set; a bad move string is a ``UserError`` naming the line."""
    from games import IllegalMove

    states = []
    for i, moves in enumerate(test_set.moves):
        try:
            state = game.parse_position(moves)
        except IllegalMove as err:
            raise UserError(f"{test_set.name}, position {i + 1} ({moves}): {err}") from None
        if game.is_terminal(state):
            raise UserError(f"{test_set.name}, position {i + 1} ({moves}): the game is already over")
        states.append(state)
    return states


def solve_moves(solver, states: list[np.ndarray]) -> np.ndarray:
    """int64[N, width]: the solver's score of every move of every position (``ILLEGAL`` for a full column)."""
    return np.stack([solver.move_scores(s) for s in states])


def choose_all(agent: Agent, states: list[np.ndarray], batch: int = 256, progress=None) -> np.ndarray:
    """The action the agent picks in each position: ``batch`` positions per ``choose_batch`` call (a search
    agent searches them together); an agent that holds one game (``batched`` False: an external program) gets
    one position at a time, each as a new game."""
    actions = np.empty(len(states), dtype=np.int64)
    step = max(1, batch) if agent.batched else 1
    for start in range(0, len(states), step):
        part = states[start:start + step]
        if not agent.batched:
            agent.reset()  # every position is a new game: no tree reuse across unrelated positions
        decisions = agent.choose_batch(part)
        actions[start:start + len(part)] = [d.action for d in decisions]
        if progress is not None:
            progress(len(part))
    return actions


def summarize(actions: np.ndarray, move_scores: np.ndarray, root_scores: np.ndarray) -> dict:
    """Shares of optimal and result-keeping moves, overall and by the position's class."""
    n = len(actions)
    chosen = move_scores[np.arange(n), actions]
    if (chosen == ILLEGAL).any():  # the agent played a full column
        bad = int(np.flatnonzero(chosen == ILLEGAL)[0])
        raise UserError(f"the agent chose a full column ({actions[bad] + 1}) in position {bad + 1}")
    optimal = chosen == root_scores
    keeps = score_class(chosen) == score_class(root_scores)
    trivial = (move_scores == root_scores[:, None]).sum(1) == (move_scores > ILLEGAL).sum(1)
    classes = score_class(root_scores)

    def shares(sel) -> dict:
        m = int(sel.sum())
        return {"positions": m, "optimal": round(float(optimal[sel].mean()), 4) if m else None,
                "keeps_result": round(float(keeps[sel].mean()), 4) if m else None,
                "every_move_optimal": int(trivial[sel].sum())}

    out = {**shares(np.ones(n, dtype=bool)), "optimal_count": int(optimal.sum()), "keeps_count": int(keeps.sum())}
    out["by_class"] = {name: shares(classes == k) for k, name in enumerate(CLASSES)}
    return out


def evaluate(agent: Agent, test_set: TestSet, game=None, solver=None, batch: int = 256, progress: bool = False,
             move_scores: np.ndarray | None = None) -> dict:
    """Ask ``agent`` for a move in every position of ``test_set`` and score its choices with the solver."""
    import games

    game = game or games.make("connect4")
    states = positions(game, test_set)
    t0 = time.perf_counter()
    if move_scores is None:
        solver = solver or Connect4Solver(game)
        move_scores = solve_moves(solver, states)
    best = move_scores.max(axis=1)
    wrong = np.flatnonzero(best != test_set.scores)
    if len(wrong):
        i = int(wrong[0])
        raise UserError(f"{test_set.name}: the solver scores position {i + 1} ({test_set.moves[i]}) {best[i]}, "
                        f"the file {test_set.scores[i]} ({len(wrong)} such positions)")
    solve_seconds = time.perf_counter() - t0
    from rich.progress import Progress

    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(f"{agent.name} on {test_set.name}", total=len(states))
        t0 = time.perf_counter()
        actions = choose_all(agent, states, batch, progress=lambda k: bar.update(task, advance=k))
        agent_seconds = time.perf_counter() - t0
    return {"set": test_set.name, "agent": agent.name, **summarize(actions, move_scores, test_set.scores),
            "agent_seconds": round(agent_seconds, 3),
            "agent_positions_per_second": round(len(states) / agent_seconds, 1),
            "solver_seconds": round(solve_seconds, 3), "actions": actions.tolist()}


def format_report(result: dict) -> str:
    def pct(x):
        return "-" if x is None else f"{100 * x:.1f}%"

    head = f"{'class':<6} {'positions':>9} {'optimal':>8} {'keeps result':>13} {'every move optimal':>19}"
    lines = [f"{result['agent']} on {result['set']}: {result['positions']} positions, "
             f"{result['agent_positions_per_second']:.1f} positions/s", head, "-" * len(head)]
    rows = [(name, result["by_class"][name]) for name in CLASSES] + [("all", result)]
    for name, r in rows:
        lines.append(f"{name:<6} {r['positions']:>9} {pct(r['optimal']):>8} {pct(r['keeps_result']):>13} "
                     f"{r['every_move_optimal']:>19}")
    return "\n".join(lines)


def main(argv=None):
    from nets.precision import add_precision_argument, check_precision

    p = argparse.ArgumentParser(prog="python -m engine.c4eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--agent", required=True, help="player spec: random, c4solver, mcts:N, alphazero[:CKPT], ...")
    p.add_argument("--set", dest="sets", action="append", default=None, metavar="NAME|PATH",
                   help=f"test set, by name in ../shared/data/connect4 or by path; repeatable (default: {SETS[0]})")
    add_simulations_arg(p)
    p.add_argument("--limit", type=int, default=None, help="only the first K positions of each set")
    p.add_argument("--batch", type=int, default=256, help="positions per choose_batch call (batched agents)")
    add_precision_argument(p)
    add_common_args(p)
    add_threads_arg(p)
    args = p.parse_args(argv)
    simulations_of(args)
    check_precision(args.precision, "--precision")
    pin_threads_of(args)
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, got {args.limit}")
    seed_everything(args.seed)
    import agents
    import games

    game = games.make("connect4")
    kwargs = {"seed": args.seed, "precision": args.precision}
    if args.simulations is not None:
        kwargs["simulations"] = args.simulations
    try:
        agent = agents.make(args.agent, game, **kwargs)
    except (ValueError, FileNotFoundError) as err:
        raise UserError(f"agent {args.agent!r}: {err}") from None
    results = []
    try:
        for spec in args.sets or [SETS[0]]:
            test_set = load_set(spec, args.limit)
            result = evaluate(agent, test_set, game, batch=args.batch, progress=not args.json)
            result["agent"], result["simulations"] = args.agent, args.simulations
            result["precision"] = getattr(getattr(agent, "evaluator", None), "precision", None)
            results.append(result)
            if not args.json:
                print(format_report(result), flush=True)
    finally:
        agent.close()
    if args.json:
        for r in results:
            r.pop("actions")
        emit(results[0] if len(results) == 1 else {"agent": args.agent, "sets": results}, True)


if __name__ == "__main__":
    run_main(main)
