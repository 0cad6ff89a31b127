"""Analyse positions with a trained network and search: best move, value and the top moves.

    python -m engine.analyze connect4 4453 "" 444444 --simulations 800
    python -m engine.analyze connect4 --positions ../shared/data/connect4/Test_L3_R1 --simulations 200 --json
    python -m engine.analyze tictactoe "a1 b2" --checkpoint runs/tictactoe-.../checkpoints/newest.pt
    python -m engine.analyze chess "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1" --checkpoint C

Positions come from the arguments or ``--positions FILE`` (one per line; ``game.parse_position`` reads each:
Connect Four as Pascal Pons' digit strings, where anything after the first space (a score) is ignored; Go and
tic-tac-toe as move lists; chess as FEN; an empty argument is the start position). All positions are searched
together: one network call per search step for the whole batch. For each position it prints the best move, the
value for the side to move (and as a win probability) and the top moves with visits, prior and Q; with
``--json`` one JSON object per position, then a summary object last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .cli import UserError, add_common_args, add_simulations_arg, make_game, run_main, seed_everything, simulations_of


def read_positions(path: Path, game) -> list[str]:
    if not path.is_file():
        raise UserError(f"positions file {path} does not exist")
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if game.name.startswith("connect4") and " " in line and line.split()[0].isdigit() \
                and all(part.lstrip("-").isdigit() for part in line.split()[1:2]):
            line = line.split()[0]  # Pons' "moves score" lines
        lines.append(line)
    return lines


def _analyst(game, args):
    """The searching player: the AlphaZero network of ``--checkpoint`` or the game's shipped one, else (announced
    on stderr) the best player without a network, as ``engine.play`` falls back (``agents.best_available``)."""
    import agents

    spec, what = agents.best_available(game)
    if args.checkpoint is not None or spec == "alphazero":
        name = "alphazero" if args.checkpoint is None else f"alphazero:{args.checkpoint}"
        agent = agents.make(name, game, seed=args.seed, simulations=args.simulations, gumbel=args.gumbel,
                            device=args.device, top=args.top, precision=args.precision)
        agent.max_batch = args.batch
        return agent, "alphazero"
    print(f"note: no AlphaZero network is shipped for {game.name}; analysing with {what} ({spec}); give "
          f"--checkpoint for a trained network", file=sys.stderr, flush=True)
    return agents.make(spec, game, seed=args.seed, simulations=args.simulations, top=args.top), spec


def main(argv=None):
    from nets.precision import add_precision_argument, check_precision

    p = argparse.ArgumentParser(prog="python -m engine.analyze", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", help="game name (tictactoe, connect4, go9, chess, ...)")
    p.add_argument("position", nargs="*", help="positions in the game's notation (\"\" for the start)")
    p.add_argument("--positions", type=Path, default=None, metavar="FILE", help="one position per line")
    p.add_argument("--checkpoint", default=None, help="network checkpoint (default: the shipped one of the game)")
    add_simulations_arg(p, 800, "simulations per position")
    p.add_argument("--gumbel", action="store_true", help="Gumbel root search instead of PUCT")
    p.add_argument("--top", type=int, default=5, help="top moves shown")
    p.add_argument("--batch", type=int, default=256, help="positions searched at once")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    add_precision_argument(p)
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE", help="a game option")
    add_common_args(p)
    args = p.parse_args(argv)
    check_precision(args.precision, "--precision")
    simulations_of(args)
    if args.batch < 1:
        raise UserError(f"--batch must be at least 1, got {args.batch}")
    from .cli import pin_threads

    pin_threads(1)
    seed_everything(args.seed)
    game = make_game(args.game, args.game_option)
    texts = list(args.position)
    if args.positions is not None:
        texts += read_positions(args.positions, game)
    if not texts:
        raise UserError("no positions: give them as arguments or with --positions FILE")
    states = []
    for k, text in enumerate(texts):
        try:
            state = game.parse_position(text) if text.strip() else game.initial_state()
        except ValueError as err:
            raise UserError(f"position {k + 1} ({text!r}): {err}") from None
        if game.is_terminal(state):
            raise UserError(f"position {k + 1} ({text!r}) is a finished game: there is nothing to analyse")
        states.append(state)
    agent, player = _analyst(game, args)
    t0 = time.perf_counter()
    decisions = agent.choose_batch(states)
    seconds = time.perf_counter() - t0
    for text, state, d in zip(texts, states, decisions, strict=True):
        record = {
            "position": text, "to_play": game.player_names[game.to_play(state)],
            "best_move": game.format_move(state, d.action), "action": d.action,
            "value": round(d.value, 4), "win_probability": round(d.info["win_probability"], 4),
            "simulations": d.info["simulations"],
            "top": [{"move": game.format_move(state, m.action), "action": m.action, "visits": m.visits,
                     "prior": round(m.prior, 4), "q": round(m.value, 4)} for m in d.top],
        }
        if args.json:
            print(json.dumps(record), flush=True)
        else:
            print(f"{text or '(start)'}: best {record['best_move']}  value {d.value:+.3f} "
                  f"(win {100 * record['win_probability']:.1f}% for {record['to_play']})")
            for m in record["top"]:
                print(f"    {m['move']:>8}  visits {m['visits']:>6}  prior {m['prior']:.3f}  q {m['q']:+.3f}")
    summary = {"summary": True, "game": game.name, "positions": len(states), "simulations": args.simulations,
               "player": player, "checkpoint": str(args.checkpoint or "shipped") if player == "alphazero" else None,
               "seconds": round(seconds, 3),
               "positions_per_second": round(len(states) / seconds, 2) if seconds > 0 else None}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(f"{len(states)} positions in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    run_main(main)
