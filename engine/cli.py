"""Shared command-line plumbing: ``--seed``, ``--json``, game options and clean error exits.

Every command prints its final result as one JSON object on the last line of stdout when given ``--json``;
people get readable text and progress bars instead (progress goes to stderr so stdout stays parseable).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import numpy as np
import yaml

from .core import UserError, pin_threads, seed_everything, stop_on_sigterm, tune_allocator

__all__ = ["UserError", "add_common_args", "add_simulations_arg", "add_threads_arg", "emit", "make_game",
           "missing_extra", "parse_key_values", "parse_value", "pin_threads", "pin_threads_of", "require", "run_main",
           "seed_everything", "simulations_of", "stop_on_sigterm", "tune_allocator"]


# Optional dependencies: module -> (what pip installs, the extra of pyproject.toml that brings it).
_EXTRAS = {"ale_py": ("ale-py", "atari"), "cv2": ("opencv-python-headless", "atari"), "ray": ("ray", "ray"),
           "chess": ("chess", "dev"), "pettingzoo": ("pettingzoo", "dev")}


def missing_extra(module: str, what: str) -> UserError:
    """The one-line error for an optional dependency that cannot be imported: what needs it and what to install."""
    package, extra = _EXTRAS.get(module, (module, None))
    how = f'pip install -e ".[{extra}]"' if extra else f"pip install {package}"
    return UserError(f"{what} needs {package}, which is not installed: {how}")


def require(module: str, what: str) -> None:
    """Import ``module`` now, or raise ``missing_extra`` (call it before anything is written)."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise missing_extra(module, what) from None


def add_common_args(parser: argparse.ArgumentParser, seed: int | None = 0) -> None:
    parser.add_argument("--seed", type=int, default=seed, help="random seed (same seed, same machine: same result)")
    parser.add_argument("--json", action="store_true",
                        help="print the final result as one JSON object on the last line of stdout")


def parse_value(text: str):
    """A command-line value: YAML scalars (``7``, ``7.5``, ``true``, ``[1, 2]``), else the string itself."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_key_values(items: Sequence[str], what: str = "option") -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"{what} {item!r} must be written key=value")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def make_game(name: str, options: Sequence[str] | dict = ()):
    """``games.make`` with options given as ``key=value`` strings; errors become ``UserError``."""
    import games

    kwargs = options if isinstance(options, dict) else parse_key_values(options, "game option")
    try:
        return games.make(name, **kwargs)
    except (ValueError, TypeError) as err:
        raise UserError(str(err)) from None


def emit(result: dict, as_json: bool, text: str | None = None) -> None:
    """Print the final result: readable text, or with ``--json`` one JSON object on the last line."""
    if as_json:
        print(json.dumps(result, default=_jsonable), flush=True)
    else:
        if text is None:
            text = "\n".join(f"{k}: {v}" for k, v in result.items())
        print(text, flush=True)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> None:
    """Run a command: user errors print one clear line on stderr and exit 2; Ctrl-C exits 130."""
    from games import IllegalMove

    try:
        code = main(argv)
    except (UserError, IllegalMove) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)


def add_threads_arg(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` for a command that runs a network (read it with ``pin_threads_of(args)``)."""
    parser.add_argument("--threads", type=int, default=1,
                        help="torch / OpenMP threads (default 1: more threads than free cores slow a search down)")


SIMULATIONS_HELP = "simulations per move (default: each player's own: 800 for AlphaZero, N for mcts:N)"


def add_simulations_arg(parser, default: int | None = None, help: str = SIMULATIONS_HELP) -> None:
    """``--simulations N``, the search budget, declared the same way by every command (read it with
    ``simulations_of(args)``)."""
    parser.add_argument("--simulations", type=int, default=default, help=help)


def simulations_of(args) -> int | None:
    """``args.simulations``, a count below 1 being a ``UserError``."""
    n = args.simulations
    if n is not None and n < 1:
        raise UserError(f"--simulations must be >= 1, got {n}")
    return n


def pin_threads_of(args) -> None:
    """``pin_threads(args.threads)``, a bad count being a ``UserError``."""
    if args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    pin_threads(args.threads)
