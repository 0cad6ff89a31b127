"""``python -m engine.gtp``: the command line, and the player of each game."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import agents as agents_mod
from agents.base import Agent

from ..cli import (
    UserError,
    add_common_args,
    add_simulations_arg,
    emit,
    parse_key_values,
    pin_threads,
    seed_everything,
    simulations_of,
)
from .engine import ENGINE_NAME, GtpEngine
from .session import PlayerFactory


def player_factory(checkpoint: str | None, simulations: int | None, seed: int, log: TextIO) -> PlayerFactory:
    """Builds the agent of a game: the AlphaZero agent (``checkpoint``, else the network shipped for the board
    size), else pure MCTS with a notice on stderr (once: later games say it in ``version``). A checkpoint that
    cannot be loaded for the start-up board is an error; for another board size the engine falls back to pure
    MCTS."""
    noticed = []

    def make(game, first: bool) -> tuple[Agent, str]:
        kwargs = {"seed": seed}
        if simulations is not None:
            kwargs["simulations"] = simulations
        spec = "alphazero" + (f":{checkpoint}" if checkpoint else "")
        try:
            agent = agents_mod.make(spec, game, **kwargs)
            return agent, f"alphazero {checkpoint or 'shipped'} {game.size}x{game.size}"
        except (ValueError, FileNotFoundError, OSError, KeyError, RuntimeError, UserError) as err:
            if checkpoint and first:
                raise UserError(f"--checkpoint {checkpoint}: {err}") from None
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        agent = agents_mod.make("mcts", game, **kwargs)
        if not noticed:
            print(f"notice: no network for {game.size}x{game.size} ({reason}); playing pure MCTS ({agent.name}, "
                  "random playouts)", file=log, flush=True)
            noticed.append(game.size)
        return agent, f"{agent.name} {game.size}x{game.size}"

    return make


def main(argv=None):
    from . import __doc__ as doc

    p = argparse.ArgumentParser(prog="python -m engine.gtp", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=None,
                   help="AlphaZero checkpoint (default: the one shipped for the board size, else pure MCTS)")
    budget = p.add_mutually_exclusive_group()
    add_simulations_arg(budget)
    budget.add_argument("--time", type=float, default=None, help="seconds per move (GTP time settings override it)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="start-up game: size=9 (5..19), komi=7.5, ko_rule=positional, max_moves=N")
    p.add_argument("--resign-threshold", type=float, default=-0.9,
                   help="resign when the chosen move's value (-1 lost .. +1 won) is below this; -1 never resigns")
    p.add_argument("--resign-after", type=int, default=None,
                   help="never resign before this many moves (default: a quarter of the board's points)")
    p.add_argument("--lag", type=float, default=0.2, help="seconds kept back per move for the controller's lag")
    p.add_argument("--max-tree-mb", type=float, default=2048.0,
                   help="memory bound of the search tree (analysis stops growing it there)")
    add_common_args(p)
    args = p.parse_args(argv)
    simulations_of(args)
    if args.time is not None and not 0 < args.time < 1e7:
        raise UserError(f"--time must be > 0 seconds, got {args.time}")
    if not 0 <= args.lag < 60:
        raise UserError(f"--lag must be from 0 to 60 seconds, got {args.lag}")
    if not -1.0 <= args.resign_threshold <= 1.0:
        raise UserError(f"--resign-threshold must be in [-1, 1], got {args.resign_threshold}")
    options = parse_key_values(args.game_option, "game option")
    unknown = sorted(set(options) - {"size", "komi", "ko_rule", "max_moves"})
    if unknown:
        raise UserError(f"game option {', '.join(unknown)} is not known; the options are size, komi, ko_rule, "
                        "max_moves")
    seed_everything(args.seed)
    pin_threads(1)
    log = sys.stderr
    try:
        engine = GtpEngine(player_factory(args.checkpoint, args.simulations, args.seed, log),
                           size=options.get("size", 9), komi=options.get("komi", 7.5),
                           ko_rule=options.get("ko_rule", "positional"), max_moves=options.get("max_moves"),
                           simulations=args.simulations, seconds=args.time, resign_threshold=args.resign_threshold,
                           resign_after=args.resign_after, lag=args.lag, max_tree_mb=args.max_tree_mb,
                           out=sys.stdout, log=log)
    except (ValueError, TypeError) as err:
        raise UserError(str(err)) from None
    print(f"{ENGINE_NAME} GTP engine ready: {engine.player}, {engine.session.budget_description()}", file=log,
          flush=True)
    try:
        engine.serve()
    finally:
        engine.close()
    if args.json:
        emit({"commands": engine.commands, "errors": engine.errors, "player": engine.player}, True)
