"""Play a game against the engine in a terminal.

    python -m engine.play tictactoe
    python -m engine.play connect4 --color second --level hard
    python -m engine.play go --size 9 --time 2           # or: go size=13 komi=6.5, go19
    python -m engine.play chess --checkpoint runs/chess/checkpoints/newest.pt --simulations 400
    python -m engine.play chess --position "r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"
    printf 'e2e4\\nquit\\n' | python -m engine.play chess     # works through pipes: plain text, no colours

The opponent is the AlphaZero player with the game's shipped checkpoint (``alphazero``), or the checkpoint
given; without one it is pure MCTS (random rollouts, ``mcts:N``), and a notice says so. ``--player`` takes any
agent spec (``random``, ``minimax``, ``mcts:N``, ``alphazero:PATH``). Strength is a budget of simulations per
move: ``--simulations N``, a ``--level`` (``LEVELS``) or a time per move (``--time``, pure MCTS).

Type a move in the game's notation or a command (``help``): undo, hint, pass, resign, new, swap, save FILE,
load FILE, board, quit. On a terminal the board is drawn in colour and a live line shows the search
(simulations, the best move so far, its win probability); through a pipe the output is plain text.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.text import Text

import agents

from .cli import (
    UserError,
    add_common_args,
    add_simulations_arg,
    emit,
    make_game,
    parse_key_values,
    pin_threads,
    seed_everything,
    simulations_of,
)
from .ui.boards import view_for
from .ui.records import read_record
from .ui.session import Session, win_chance

LEVELS = {
    "beginner": 50,
    "easy": 200,
    "medium": 800,
    "hard": 3200,
    "expert": 12800,
}
"""Simulations per move of each ``--level`` (also ``1`` to ``5``); ``medium``, AlphaZero's 800, is the default."""
DEFAULT_LEVEL = "medium"


LEVEL_SECONDS_GO = {"beginner": 0.5, "easy": 1.0, "medium": 3.0, "hard": 10.0, "expert": 30.0}
"""Go without a network: seconds a move of each level. Pure MCTS's Go playouts are so fast that a simulation
count says little (800 took 0.0 s on 9x9) and is far too few on 19x19, so a Go opponent without a network or an
explicit ``--simulations`` searches for a time."""


def level_name(level: str) -> str:
    names = list(LEVELS)
    key = str(level).strip().lower()
    if key.isdigit() and 1 <= int(key) <= len(names):
        key = names[int(key) - 1]
    if key not in LEVELS:
        raise UserError(f"unknown level {level!r}; levels: " +
                        ", ".join(f"{i + 1}/{n} ({LEVELS[n]} simulations)" for i, n in enumerate(names)))
    return key


def level_simulations(level: str) -> int:
    return LEVELS[level_name(level)]


def game_is_go(args) -> bool:
    return str(args.game).lower().startswith("go")


class TerminalScreen:
    """The session's screen on a real terminal or a pipe: rich output (colours and a live search line on a
    terminal, plain text otherwise) and line input from stdin."""

    def __init__(self, plain: bool = False):
        self.console = Console(color_system=None, highlight=False) if plain else Console(highlight=False)
        self.live = self.console.is_terminal and not plain
        self.interactive = sys.stdin.isatty()
        if self.interactive:
            try:
                import readline  # noqa: F401 - line editing and history for input()
            except ImportError:  # pragma: no cover - not on every platform
                pass

    def show(self, renderable) -> None:
        self.console.print(renderable, markup=False, highlight=False, soft_wrap=True)

    def say(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style or ""), soft_wrap=True)

    def error(self, text: str) -> None:
        self.console.print(Text(f"✗ {text}", "bold red"), soft_wrap=True)

    def think(self, agent, state, title: str, describe_move, side: str):
        if not self.live:
            return agent.choose(state)
        with self.console.status(Text(f"{title}…")) as status:
            def progress(info: dict) -> None:
                status.update(Text(progress_line(title, info, describe_move, side)))

            return agent.choose(state, progress=progress)

    def ask(self, prompt: str) -> str | None:
        self.console.file.flush()
        try:
            line = input(prompt)
        except EOFError:
            print(flush=True)
            return None
        if not self.interactive:  # show what was read, so a piped session reads like a typed one
            print(line, flush=True)
        return line


def progress_line(title: str, info: dict, describe_move, side: str) -> str:
    """The live line: simulations so far (of the budget), the best move and its win probability."""
    parts = [title]
    sims = info.get("simulations")
    if sims is not None:
        total = info.get("total")
        parts.append(f"{int(sims):,}" + (f"/{int(total):,}" if total else "") + " simulations")
    best = info.get("best")
    if best is not None and int(best) >= 0:
        parts.append(f"best {describe_move(int(best))}")
    value = info.get("value")
    if value is not None:
        parts.append(f"win {win_chance(value)} for {side}")
    if info.get("seconds") is not None:
        parts.append(f"{float(info['seconds']):.1f} s")
    return " · ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.play", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="levels: " + ", ".join(f"{n} ({s})" for n, s in LEVELS.items()) +
                                       " simulations per move")
    p.add_argument("game", help="tictactoe, connect4, go (go9, go13, go19) or chess")
    p.add_argument("options", nargs="*", help="game options as key=value (size=13, komi=6.5, width=8)")
    p.add_argument("--size", type=int, help="Go board size (5 to 19); the same as size=N")
    p.add_argument("--checkpoint", help="AlphaZero checkpoint to play (default: the game's shipped one)")
    p.add_argument("--player", help="any agent spec instead: mcts:N, alphazero:PATH, random, minimax")
    budget = p.add_mutually_exclusive_group()
    add_simulations_arg(budget, None, "simulations per move (overrides --level)")
    budget.add_argument("--time", type=float, help="seconds per move (pure MCTS)")
    p.add_argument("--level", default=DEFAULT_LEVEL,
                   help=f"strength: {', '.join(LEVELS)} or 1-5 (default {DEFAULT_LEVEL})")
    p.add_argument("--color", "--colour", dest="color", default=None,
                   help="your side: first, second, random, or its name (black, white, x, o); default first, "
                        "or the side to move in a given position")
    p.add_argument("--position", help="start from this position (FEN, move list, Connect Four digits, SGF)")
    p.add_argument("--load", metavar="FILE", help="start from the game or position in FILE")
    p.add_argument("--plain", action="store_true", help="plain text: no colours, no live line")
    from nets.precision import add_precision_argument

    add_precision_argument(p)
    add_common_args(p)
    return p


def pick_side(choice: str | None, game, rng: np.random.Generator) -> int:
    if choice is None or choice.lower() == "first":
        return 0
    c = choice.strip().lower()
    if c == "second":
        return 1
    if c == "random":
        return int(rng.integers(2))
    view = view_for(game)
    for player in (0, 1):
        names = {view.side_name(player).lower(), str(game.player_names[player]).lower(), view.mark(player)}
        if c in names:
            return player
    raise UserError(f"--color {choice!r}: write first, second, random, {view.side_name(0).lower()} or "
                    f"{view.side_name(1).lower()}")


def agent_factory(args, screen: TerminalScreen):
    """``make(game)``: the opponent for a game: the AlphaZero player (shipped or given checkpoint), or pure
    MCTS with a notice when the game has no network; an explicitly named player must load."""
    simulations = args.simulations if args.simulations is not None else level_simulations(args.level)
    if simulations < 1:
        raise UserError(f"--simulations must be >= 1, got {simulations}")
    if args.time is not None and not args.time > 0:
        raise UserError(f"--time must be a positive number of seconds, got {args.time}")
    explicit = args.player or (f"alphazero:{args.checkpoint}" if args.checkpoint else None)
    from nets.precision import check_precision

    check_precision(args.precision, "--precision")
    time_limit = args.time
    if time_limit is None and args.simulations is None and not explicit:
        time_limit = LEVEL_SECONDS_GO.get(level_name(args.level)) if game_is_go(args) else None
    kwargs = {"seed": args.seed, "simulations": simulations, "time_limit": time_limit, "precision": args.precision}

    def build(spec: str, game):
        if screen.live:
            with screen.console.status(Text(f"preparing {spec} for {game.name} (a first run compiles the "
                                            "search: a minute or two)…")):
                return agents.make(spec, game, **kwargs)
        return agents.make(spec, game, **kwargs)

    def make(game):
        if explicit:
            try:
                agent = build(explicit, game)
            except (ValueError, OSError) as err:
                raise UserError(f"player {explicit}: {err}") from None
        else:
            try:
                agent = build("alphazero", game)
            except (UserError, ValueError, OSError, ImportError) as err:
                if "unknown player" in str(err) or isinstance(err, ImportError):
                    reason = "the AlphaZero player is not installed"
                elif "does not exist" in str(err):
                    reason = f"none is shipped for {game.name}"
                else:
                    reason = str(err)
                spec, what = agents.best_available(game)
                if spec == "alphazero":  # a shipped network that did not load: the best player without one
                    spec, what = "mcts", "pure MCTS with random rollouts"
                screen.say(f"note: no AlphaZero network ({reason}); playing {what} ({spec}) instead", "yellow")
                agent = build(spec, game)
        if time_limit is not None and getattr(agent, "time_limit", None) != time_limit:
            screen.say(f"note: {agent.name} does not take --time; it searches a fixed number of simulations",
                       "yellow")
        budget = ""
        if getattr(agent, "search", None) is not None:  # a search player: say how long it thinks
            limit = getattr(agent, "time_limit", None)
            budget = f", {limit:g} s a move" if limit else f", {simulations:,} simulations a move"
        screen.say(f"opponent: {agent.name}{budget}")
        return agent

    return make


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    simulations_of(args)
    pin_threads(1)
    seed_everything(args.seed)
    options = parse_key_values(args.options, "game option")
    if args.size is not None:
        options["size"] = args.size
    game = make_game(args.game, options)
    screen = TerminalScreen(plain=args.plain)
    record = None
    if args.load:
        try:
            text = open(args.load).read()
        except (OSError, UnicodeDecodeError) as err:
            raise UserError(f"cannot read {args.load}: {getattr(err, 'strerror', None) or err}") from None
        record = read_record(game, text)
    elif args.position:
        record = read_record(game, args.position)
    if record is not None:
        game = record.game
    rng = np.random.default_rng(args.seed)
    if args.color is None and record is not None:
        person = game.to_play(record.states()[-1])
    else:
        person = pick_side(args.color, game, rng)
    session = Session(game, agent_factory(args, screen), screen, person=int(person),
                      start=None if record is None else record.start, actions=None if record is None else
                      record.actions)
    screen.say(f"{game.name}: you play {session.view.side_name(session.person)} {session.view.mark(session.person)}"
               " against " + session.agent_name + "; type a move, or help")
    code = 0
    try:
        session.begin()
        while not session.quit:
            line = screen.ask(session.prompt())
            if line is None:
                break
            try:
                session.handle(line)
            except (UserError, ValueError, OSError) as err:
                screen.error(str(err))
            except Exception as err:  # noqa: BLE001 - a bug in one step must not lose the game
                screen.error(f"unexpected {type(err).__name__}: {err}")
    except KeyboardInterrupt:
        print(flush=True)
        screen.say("interrupted: bye")
        code = 130
    else:
        screen.say("bye")
    finally:
        session.agent.close()
    if args.json:
        emit(session.summary(), True)
    return code


if __name__ == "__main__":
    from .cli import run_main

    run_main(main)
