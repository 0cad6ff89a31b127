"""Arena: pit players against each other, alternating colours, and rate them (Bradley-Terry Elo).

    python -m engine.arena tictactoe minimax random --games 20
    python -m engine.arena connect4 mcts:200 mcts:1000 random --games 10 --save runs/arena
    python -m engine.arena connect4 alphazero mcts:1000 --games 100 --opening-moves 2 --simulations 800 --json
    python -m engine.arena connect4 c4solver alphazero --games 20 --start 5554224333 --start 1233722555
    python -m engine.arena go mcts:2000 "gtp:/usr/games/gnugo --mode gtp --level 1 --chinese-rules" \
        --game-option size=9 --games 10 --final-score --save runs/vs-gnugo
    python -m engine.arena chess mcts-material:800 "uci:/usr/games/stockfish;Skill Level=0" --games 20 --save runs/sf

Players are agent specs (``agents.make``): ``random``, ``minimax``, ``mcts:N`` (pure MCTS, N rollout
simulations per move), ``alphazero[:CHECKPOINT]`` (the shipped checkpoint of the game by default), and for Go
and chess external programs (``gtp:COMMAND``, ``uci:COMMAND[;NAME=VALUE...]`` with UCI options and ``go``
limits such as ``Skill Level=0`` or ``movetime=100``, see ``agents.uci_player``). With two players they play
``--games`` games; with more, every pair does (round robin). Games are saved in the game's record format with
``--save DIR``.
``--start POSITION`` (repeatable, in the game's notation) starts the games from set positions, each played
twice with the colours swapped; deterministic players then meet in varied games, and the exact Connect Four
player ``c4solver``, which has no opening book, skips the openings it would need hours to solve.
``--opening-moves N`` starts each pair of games from N random moves instead (seeded by ``--seed``).
Two search players (``mcts:N``, ``alphazero``; and ``random``, ``minimax``, ``c4solver``) play all their games
side by side, one network call per search step for all of them; a GTP or UCI program plays one game at a time
(``engine.matches``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import agents as agents_mod
from agents.base import Agent, AgentError

from .cli import (
    UserError,
    add_common_args,
    add_simulations_arg,
    add_threads_arg,
    emit,
    make_game,
    pin_threads_of,
    run_main,
    seed_everything,
    simulations_of,
)
from .matches import random_openings, run_match


def format_table(rows: list[dict]) -> str:
    head = f"{'player':<28} {'games':>5} {'W':>5} {'D':>5} {'L':>5} {'score':>7} {'Elo':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ci = "fixed" if r["elo_ci95"] == 0 else ("?" if r["elo_ci95"] is None else f"±{r['elo_ci95']:.0f}")
        lines.append(f"{r['player']:<28} {r['games']:>5} {r['wins']:>5} {r['draws']:>5} {r['losses']:>5} "
                     f"{100 * r['score']:>6.1f}% {r['elo']:>6.0f} {ci:>5}")
    return "\n".join(lines)


def main(argv=None):
    from nets.precision import add_precision_argument, check_precision

    p = argparse.ArgumentParser(prog="python -m engine.arena", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", help="game name (tictactoe, connect4, go, chess)")
    p.add_argument("players", nargs="+", help="two or more player specs (random, minimax, mcts:N, alphazero[:CKPT])")
    p.add_argument("--games", type=int, default=10, help="games per pair of players (colours alternate)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="game options, e.g. size=9 komi=7.5")
    add_simulations_arg(p)
    p.add_argument("--anchor", default=None,
                   help="player whose Elo is fixed at 0 (default: random if playing, else the last player)")
    p.add_argument("--save", type=Path, default=None, help="folder for the game records")
    p.add_argument("--max-moves", type=int, default=None,
                   help="stop a game after this many moves: a draw (Go: scored by Tromp-Taylor as it stands)")
    p.add_argument("--final-score", action="store_true",
                   help="Go: also ask GTP players to score each game (final_score) and report where their winner "
                        "differs from Tromp-Taylor's")
    p.add_argument("--start", action="append", default=[], metavar="POSITION",
                   help="start the games from this position (the game's notation; repeatable, each start is "
                        "played with both colours)")
    p.add_argument("--opening-moves", type=int, default=0, metavar="N",
                   help="start each pair of games (colours swapped) from N random moves (seeded)")
    add_precision_argument(p)
    add_common_args(p)
    add_threads_arg(p)
    args = p.parse_args(argv)
    simulations_of(args)
    check_precision(args.precision, "--precision")
    pin_threads_of(args)
    if len(args.players) < 2:
        raise UserError("the arena needs at least two players")
    if args.games < 1:
        raise UserError(f"--games must be at least 1, got {args.games}")
    seed_everything(args.seed)
    game = make_game(args.game, args.game_option)
    starts = [game.parse_position(text) for text in args.start]  # a bad position: IllegalMove, one line
    for text, state in zip(args.start, starts, strict=True):
        if game.is_terminal(state):
            raise UserError(f"--start {text!r}: the game is already over in this position")
    if args.opening_moves < 0:
        raise UserError(f"--opening-moves must be >= 0, got {args.opening_moves}")
    if args.opening_moves and starts:
        raise UserError("give --start or --opening-moves, not both")
    if args.opening_moves:
        starts = random_openings(game, (args.games + 1) // 2, args.opening_moves, np.random.default_rng(args.seed))
    players: dict[str, Agent] = {}
    for i, spec in enumerate(args.players):
        name = spec if spec not in players else f"{spec}#{i + 1}"
        kwargs = {"seed": args.seed + i, "precision": args.precision}
        if args.simulations is not None:
            kwargs["simulations"] = args.simulations
        try:
            players[name] = agents_mod.make(spec, game, **kwargs)
        except (ValueError, FileNotFoundError, AgentError) as err:
            for agent in players.values():
                agent.close()
            raise UserError(f"player {spec!r}: {err}") from None
    try:
        result = run_match(game, players, args.games, args.save, progress=not args.json, max_moves=args.max_moves,
                           starts=starts, final_score=args.final_score)
    except AgentError as err:
        raise UserError(f"the match stopped: {err} (games finished so far are saved)" if args.save
                        else f"the match stopped: {err}") from None
    finally:
        for agent in players.values():
            agent.close()
    anchor = args.anchor or ("random" if "random" in players else list(players)[-1])
    if anchor not in players:
        raise UserError(f"--anchor {anchor!r} is not one of the players: {', '.join(players)}")
    rows = result.table(anchor=anchor)
    out = {"game": game.name, "games_per_pair": args.games, "anchor": anchor, "table": rows,
           "games": [{"first": a, "second": b, "score_first": s, **{k: v for k, v in d.items() if k not in (
               "first", "second")}} for (a, b, s), d in zip(result.records, result.details, strict=True)]}
    text = format_table(rows)
    if args.final_score:
        scored = [d for d in result.details if "program scores" in d]
        split = [d for d in scored if d["disagree"]]
        out["final_score_disagreements"] = len(split)
        text += f"\nfinal_score: {len(scored)} games scored by the GTP players, {len(split)} with another winner " \
                "than Tromp-Taylor"
        for d in split:
            text += f"\n  {d['first']} vs {d['second']}: Tromp-Taylor {d.get('score')}, " + ", ".join(
                f"{n} {t}" for n, t in d["program scores"].items())
    emit(out, args.json, text)


if __name__ == "__main__":
    run_main(main)
