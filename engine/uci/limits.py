"""What one ``go`` asks for, and how much time a move may take."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MOVES_TO_GO = 25
"""Moves assumed left until the next time control when ``movestogo`` is not given (sudden death)."""
_GO_NUMBERS = ("wtime", "btime", "winc", "binc", "movestogo", "depth", "nodes", "mate", "movetime")
GO_KEYWORDS = set(_GO_NUMBERS) | {"infinite", "ponder", "searchmoves"}
MAX_GO_NUMBER = 10**12
"""Beyond any clock in milliseconds (30 years) or any node count: larger numbers are refused."""


@dataclass
class GoLimits:
    """What one ``go`` asks for (times in milliseconds)."""

    wtime: int | None = None
    btime: int | None = None
    winc: int | None = None
    binc: int | None = None
    movestogo: int | None = None
    depth: int | None = None
    nodes: int | None = None
    mate: int | None = None
    movetime: int | None = None
    infinite: bool = False
    ponder: bool = False
    searchmoves: list[str] = field(default_factory=list)

    @property
    def unlimited(self) -> bool:
        """No limit at all: ``Simulations`` decides."""
        return not (self.infinite or self.ponder or self.depth or self.nodes or self.movetime is not None
                    or self.wtime is not None or self.btime is not None)

    @property
    def timed(self) -> bool:
        return self.movetime is not None or self.wtime is not None or self.btime is not None


def parse_go(tokens: list[str]) -> tuple[GoLimits, list[str]]:
    """The limits of ``go`` arguments and a list of problems (each ignored: the search still runs)."""
    limits, problems = GoLimits(), []
    i = 0
    while i < len(tokens):
        key = tokens[i].lower()
        i += 1
        if key in ("infinite", "ponder"):
            setattr(limits, key, True)
        elif key == "searchmoves":
            while i < len(tokens) and tokens[i].lower() not in GO_KEYWORDS:
                limits.searchmoves.append(tokens[i])
                i += 1
        elif key in _GO_NUMBERS:
            if i >= len(tokens) or tokens[i].lower() in GO_KEYWORDS:
                problems.append(f"go: {key} needs a number")
                continue
            text = tokens[i]
            i += 1
            problem = _number_problem(key, text)
            if problem:
                problems.append(problem)
            else:
                setattr(limits, key, int(text))
        else:
            problems.append(f"go: unknown argument {tokens[i - 1][:40]!r}")
    return limits, problems


def _number_problem(key: str, text: str) -> str | None:
    try:
        value = int(text)
    except ValueError:
        return f"go: {key} needs an integer, got {text[:40]!r}"
    if value < 0 and key not in ("wtime", "btime"):  # a clock below zero happens when a GUI lags
        return f"go: {key} must not be negative, got {value}"
    if value == 0 and key in ("depth", "nodes", "movestogo", "mate"):
        return f"go: {key} must be at least 1, got 0"
    if abs(value) > MAX_GO_NUMBER:
        return f"go: {key} {text[:24]} is out of range (at most {MAX_GO_NUMBER:,})"
    return None


def time_budget(limits: GoLimits, white: bool, overhead_ms: int) -> float | None:
    """Seconds to think on this move, or None without a time limit.

    ``movetime`` is used as given (less the overhead). On a clock: the time left divided by the moves to go
    (``movestogo``, else 25) plus three quarters of the increment, never more than half the clock (all but the
    overhead before the last move of a control), and at least 10 ms. A clock given for the other side only
    (``go wtime 1000`` with Black to move) is taken as the mover's too: a GUI that sends one clock plays both
    sides on it, and a search without a limit would run until the tree is full.
    """
    budgets = []
    if limits.movetime is not None:
        budgets.append(max(limits.movetime - overhead_ms, 1) / 1000)
    left = limits.wtime if white else limits.btime
    inc = (limits.winc if white else limits.binc) or 0
    if left is None:  # only the other side's clock: use it
        left = limits.btime if white else limits.wtime
        inc = (limits.binc if white else limits.winc) or 0
    if left is not None:
        left = max(left, 0)
        to_go = limits.movestogo or DEFAULT_MOVES_TO_GO
        share = left / to_go + 0.75 * inc
        cap = left - overhead_ms if to_go <= 1 else left / 2
        budgets.append(max(min(share, cap) - overhead_ms, 10) / 1000)
    return min(budgets) if budgets else None


def pv_reaches(game, state, pv: list[int], depth: int) -> bool:
    """``go depth``: the principal variation is ``depth`` plies long, or ends the game sooner."""
    if len(pv) >= depth:
        return True
    for a in pv:
        state = game.apply(state, a)
    return bool(pv) and game.is_terminal(state)


def decided(report: dict, elapsed: float, budget: float) -> bool:
    """Clock games: stop early when the most visited move cannot be overtaken in the time left (the runner-up
    would need more simulations than the search can still run)."""
    top = report.get("top") or []
    sims = report.get("simulations", 0)
    if len(top) < 2 or sims < 100 or elapsed <= 0:
        return False
    remaining = sims / elapsed * (budget - elapsed)
    return top[0].visits - top[1].visits > remaining
