"""The UCI options this engine declares (``uci``) and how ``setoption`` values are read."""

from __future__ import annotations

import os
from dataclasses import dataclass

MATERIAL_MIX = 0
"""Default of ``MaterialMix``: the percent of a leaf's value taken from the material search."""
NODE_BYTES = 6_554
"""Memory of one search-tree node in chess (about 6.4 KB): ``Hash`` (MB) becomes ``MaxTreeNodes`` with it."""


@dataclass
class Option:
    """One UCI option: ``kind`` is spin, check, combo, string or button."""

    name: str
    kind: str
    default: object
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def declaration(self) -> str:
        text = f"option name {self.name} type {self.kind}"
        if self.kind == "button":
            return text
        default = str(self.default).lower() if self.kind == "check" else self.default
        text += f" default {default}"
        if self.kind == "spin":
            text += f" min {self.minimum} max {self.maximum}"
        for c in self.choices:
            text += f" var {c}"
        return text

    def parse(self, text: str | None):
        """The option's value from ``setoption`` text; ``ValueError`` says what is wrong."""
        if self.kind == "button":
            return True
        if text is None:
            raise ValueError(f"option {self.name} needs a value")
        if self.kind == "spin":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"option {self.name} takes an integer, got {text[:40]!r}") from None
            if not self.minimum <= value <= self.maximum:
                raise ValueError(f"option {self.name} must be from {self.minimum} to {self.maximum}, got {value}")
            return value
        if self.kind == "check":
            if text.lower() not in ("true", "false"):
                raise ValueError(f"option {self.name} is true or false, got {text[:40]!r}")
            return text.lower() == "true"
        if self.kind == "combo":
            for c in self.choices:
                if c.lower() == text.lower():
                    return c
            raise ValueError(f"option {self.name} is one of {', '.join(self.choices)}, got {text[:40]!r}")
        return text


def engine_options(network: bool, simulations: int) -> list[Option]:
    """The options ``uci`` declares (``MinibatchSize`` and ``MaterialMix`` only with a network, ``Evaluator`` only
    without)."""
    opts = [
        Option("Simulations", "spin", simulations, 1, 10_000_000,
               help="simulations of a go without limits (nodes, time, depth or infinite)"),
        Option("MultiPV", "spin", 1, 1, 16, help="lines reported in info (the most visited moves)"),
        Option("MoveOverhead", "spin", 50, 0, 10_000, help="milliseconds kept back per move for transmission"),
        Option("MaxTreeNodes", "spin", 100_000, 1_000, 10_000_000,
               help="the search stops when its tree holds this many nodes (about 6.4 KB each in chess)"),
        Option("Hash", "spin", 100_000 * NODE_BYTES // 2**20, 8, 65_536,
               help="MB of search tree: sets MaxTreeNodes to Hash MB / 6.4 KB (the last of the two set wins)"),
        Option("Threads", "spin", 1, 1, max(os.cpu_count() or 1, 1),
               help="torch threads of the network evaluator; the tree search is one thread, so without a "
                    "network this has no effect"),
        Option("Ponder", "check", False,
               help="declared for GUIs: go ponder / ponderhit work whatever its value (the engine never ponders "
                    "on its own)"),
        Option("UCI_ShowWDL", "check", False,
               help="add 'wdl W D L' (permille) to info scores: W = max(Q, 0), L = max(-Q, 0), D the rest"),
    ]
    if network:
        from agents.alphazero import PLAY_LEAVES

        opts.append(Option("MinibatchSize", "spin", PLAY_LEAVES, 1, 256,
                           help="positions per network call in the search (Lc0's name): several leaves kept "
                                "apart by virtual loss cost little more time than one"))
        opts.append(Option("MaterialMix", "spin", MATERIAL_MIX, 0, 100,
                           help="percent of each leaf's value from the material and quiescence search, the rest "
                                "from the network (0: the network alone)"))
    else:
        opts.append(Option("Evaluator", "combo", "material", choices=("material", "rollout"),
                           help="leaf evaluator without a network: material + quiescence, or random rollouts"))
    return opts


def wdl(value: float) -> tuple[int, int, int]:
    """Win, draw and loss in permille from a value in [-1, 1] (side to move): the expected score (W + D/2) is
    the value's; the split puts the uncertainty into draws (the search has no separate draw estimate)."""
    value = max(-1.0, min(1.0, float(value)))
    win, loss = round(1000 * max(value, 0.0)), round(1000 * max(-value, 0.0))
    return win, 1000 - win - loss, loss
