"""``python -m engine.uci``: the command line, and the player behind the engine."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

import agents as agents_mod

from ..cli import (
    UserError,
    add_common_args,
    add_simulations_arg,
    emit,
    make_game,
    pin_threads,
    seed_everything,
    simulations_of,
)
from .engine import Fatal, UciEngine

PLAYERS = ("alphazero", "mcts-material")
"""The players ``--player`` names."""


def build_player_factory(game, checkpoint: Path | None, seed: int, notice, network: bool = True):
    """A function (UCI option values) -> Agent, whether it plays with a network, and the agent built already.

    With ``checkpoint``: the AlphaZero agent of that file, loaded now (a file that cannot be loaded is a
    ``UserError`` before the engine says anything). Without: the game's shipped AlphaZero checkpoint when there
    is one (and ``network``), else MCTS over the evaluator named by the ``Evaluator`` option, announced by
    ``notice``.
    """
    if checkpoint is not None:
        def make_network(values):
            return agents_mod.make(f"alphazero:{checkpoint}", game, simulations=int(values["Simulations"]),
                                   seed=seed)
        try:
            first = agents_mod.make(f"alphazero:{checkpoint}", game, seed=seed)
        except Exception as err:  # any failure to load is the user's file: one line, no traceback
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise UserError(f"--checkpoint {checkpoint}: {reason}") from None
        return make_network, True, first
    reason = "no AlphaZero player is available" if network else "--player mcts-material"
    if network and "alphazero" in agents_mod.agent_kinds():
        try:
            shipped = agents_mod.make("alphazero", game, seed=seed)
        except (ValueError, FileNotFoundError, OSError, UserError) as err:  # nets.CheckpointError is a UserError
            reason = f"no shipped checkpoint for {game.name} ({err})"
        else:
            def make_shipped(values):
                agent = agents_mod.make("alphazero", game, seed=seed)
                agent.simulations = int(values["Simulations"])
                return agent
            return make_shipped, True, shipped

    announced = []

    def make_fallback(values):
        kind = "mcts-material" if values.get("Evaluator", "material") == "material" else "mcts"
        if not announced or announced[-1] != kind:
            what = ("the material and quiescence evaluator (agents/material.py)" if kind == "mcts-material"
                    else "random rollouts (pure MCTS)")
            notice(f"notice: {reason}; playing MCTS with {what}." + (" Give --checkpoint for a trained network."
                                                                      if network else ""))
            announced.append(kind)
        return agents_mod.make(f"{kind}:{int(values['Simulations'])}", game, seed=seed)

    return make_fallback, False, None


def serve(engine: UciEngine, stream: TextIO = sys.stdin) -> None:
    """Read commands until ``quit`` or the end of input; each line's time of arrival starts its move's clock."""
    while not engine.quit:
        line = stream.readline()
        if not line:
            engine.stop_search()
            break
        engine.handle(line, time.monotonic())


def main(argv=None):
    from . import __doc__ as doc

    p = argparse.ArgumentParser(prog="python -m engine.uci", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=None, help="AlphaZero network checkpoint (.pt) to play with")
    p.add_argument("--player", default=None, choices=PLAYERS,
                   help="alphazero (the --checkpoint or shipped network; the default when there is one) or "
                        "mcts-material (MCTS over the material and quiescence evaluator, no network)")
    add_simulations_arg(p, 800, "default of the Simulations option (the budget of a go without limits)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="chess options, e.g. history=8 (must match the checkpoint)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.checkpoint is not None and args.player == "mcts-material":
        raise UserError("--checkpoint is a network: it goes with --player alphazero, not mcts-material")
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise UserError(f"checkpoint {args.checkpoint} does not exist")
    simulations_of(args)
    seed_everything(args.seed)
    pin_threads(1)  # one thread until the GUI sets the Threads option
    game = make_game("chess", args.game_option)
    factory, network, first = build_player_factory(game, args.checkpoint, args.seed,
                                                   lambda m: print(m, file=sys.stderr, flush=True),
                                                   network=args.player != "mcts-material")
    if args.player == "alphazero" and not network:
        raise UserError("--player alphazero: no chess network is shipped; give --checkpoint")
    if first is not None:
        first.simulations = args.simulations
    engine = UciEngine(game, factory, network, args.simulations, agent=first)
    try:
        serve(engine)
    except Fatal as err:
        raise UserError(str(err)) from None
    finally:
        if engine.agent is not None:
            engine.agent.close()
    if args.json:  # after quit, so that it never mixes with the protocol
        emit({"commands": engine.commands, "searches": engine.searches, "errors": engine.errors,
              "player": getattr(engine.agent, "name", None), "network": network}, True)
    return 0
