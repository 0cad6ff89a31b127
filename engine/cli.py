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

__all__ = ["UserError", "add_common_args", "emit", "make_game", "parse_key_values", "parse_value", "pin_threads",
           "run_main", "seed_everything", "stop_on_sigterm", "tune_allocator"]


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
