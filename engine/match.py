"""A match between two players with every game played at once: ``python -m engine.match GAME A B --games N``.

    python -m engine.match connect4 alphazero mcts:1000 --games 100 --simulations 800 --json
    python -m engine.match tictactoe alphazero:runs/tictactoe-.../checkpoints/newest.pt random --games 50

Players are ``random``, ``mcts:N`` (pure MCTS, N rollout simulations a move: ``MCTSConfig.pure``, as in
``agents.make``) and ``alphazero[:CHECKPOINT]`` (the shipped network of the game by default, ``--simulations`` a
move, the search of ``agents.alphazero.play_config``: the player of ``agents.make("alphazero")``). Unlike
``engine.arena``, which plays one game after another through the agent interface, every game of the match advances
together: the search players make one network call per search step for all games
(``engine.alphazero.evaluation.play_match``, the self-play run's arena). Each opening of ``--opening-moves`` random
plies is played with both colours; the result line gives wins, draws and losses of A and its score.
"""

from __future__ import annotations

import argparse

from .alphazero.evaluation import BatchedPlayer, RandomPlayer, SearchPlayer, mcts_baseline, play_match, score_of
from .cli import UserError, add_common_args, emit, make_game, pin_threads, run_main


def _player_from_spec(game, spec: str, games: int, simulations: int, seed: int,
                      precision: str = "auto") -> BatchedPlayer:
    """``random``, ``mcts:N`` or ``alphazero[:CHECKPOINT]`` as a batched player."""
    kind, _, arg = spec.partition(":")
    if kind == "random":
        return RandomPlayer(game, games)
    if kind == "mcts":
        if arg and not (arg.isdigit() and int(arg) >= 1):
            raise ValueError(f"{spec}: the argument is the number of simulations per move, e.g. mcts:1000")
        return mcts_baseline(game, int(arg or 1000), games, seed)
    if kind == "alphazero":
        from agents.alphazero import load_network, play_config
        from nets import PolicyValueEvaluator

        net, _ = load_network(game, arg or None)
        return SearchPlayer(game, spec, PolicyValueEvaluator(net, device="cpu", precision=precision),
                            play_config(game, simulations), games)
    raise ValueError(f"unknown player {spec!r}: random, mcts:N or alphazero[:CHECKPOINT]")


def main(argv=None):
    """``python -m engine.match GAME A B --games N``: a batched match (all games at once)."""

    from nets.precision import add_precision_argument, check_precision

    p = argparse.ArgumentParser(prog="python -m engine.match",
                                description="A match with every game played at once (one network call per search "
                                            "step for all games); openings of --opening-moves random plies, each "
                                            "played with both colours.")
    p.add_argument("game")
    p.add_argument("a", help="random, mcts:N or alphazero[:CHECKPOINT]")
    p.add_argument("b", help="random, mcts:N or alphazero[:CHECKPOINT]")
    p.add_argument("--games", type=int, default=100)
    p.add_argument("--simulations", type=int, default=800, help="AlphaZero players' simulations per move")
    p.add_argument("--opening-moves", type=int, default=2)
    add_precision_argument(p)
    add_common_args(p)
    args = p.parse_args(argv)
    check_precision(args.precision, "--precision")
    pin_threads(1)
    game = make_game(args.game)
    if args.games < 2:
        raise UserError("--games must be at least 2")
    try:
        a = _player_from_spec(game, args.a, args.games, args.simulations, args.seed, args.precision)
        b = _player_from_spec(game, args.b, args.games, args.simulations, args.seed + 1, args.precision)
    except ValueError as err:
        raise UserError(str(err)) from None
    if a.name == b.name:
        b.name = b.name + "#2"
    records = play_match(game, a, b, args.games, args.opening_moves, args.seed)
    wins = sum(1 for f, s, x in records if (f == a.name and x == 1) or (s == a.name and x == 0))
    losses = sum(1 for f, s, x in records if (f == a.name and x == 0) or (s == a.name and x == 1))
    out = {"game": game.name, "a": a.name, "b": b.name, "games": len(records), "wins_a": wins,
           "draws": len(records) - wins - losses, "losses_a": losses, "score_a": round(score_of(records, a.name), 4),
           "simulations": args.simulations, "opening_moves": args.opening_moves}
    emit(out, args.json)


if __name__ == "__main__":
    run_main(main)
