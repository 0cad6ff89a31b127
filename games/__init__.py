"""Board games on one API (see ``games.base``) and a registry: ``games.make("connect4", width=7, height=6)``."""

from __future__ import annotations

import importlib
import inspect

from .base import ONGOING, Game, IllegalMove, Rules

__all__ = ["Game", "IllegalMove", "ONGOING", "Rules", "make", "register", "list_games"]

# name -> ("module:Class", default keyword arguments)
_REGISTRY: dict[str, tuple[str, dict]] = {}


def register(name: str, target: str, **defaults) -> None:
    """Register a game class (``"games.module:Class"``) under ``name`` with default keyword arguments."""
    _REGISTRY[name] = (target, defaults)


def list_games() -> list[str]:
    return sorted(_REGISTRY)


def make(name: str, **kwargs) -> Game:
    """Create a game by registered name; keyword arguments (``width``, ``size``, ``komi`` ...) configure it."""
    key = str(name).lower().replace("_", "").replace("-", "")
    if key not in _REGISTRY:
        raise ValueError(f"unknown game {name!r}; known games: {', '.join(list_games())}")
    target, defaults = _REGISTRY[key]
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    params = {**defaults, **kwargs}
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"game {name!r} does not take {', '.join(unknown)}; it takes: {', '.join(accepted) or 'no options'}"
        )
    return cls(**params)


register("tictactoe", "games.tictactoe:TicTacToe")
register("connect4", "games.connect_four:ConnectFour")
register("chess", "games.chess:Chess")
register("go", "games.go:Go", size=9, komi=7.5)
register("go9", "games.go:Go", size=9, komi=7.5)
register("go13", "games.go:Go", size=13, komi=7.5)
register("go19", "games.go:Go", size=19, komi=7.5)
