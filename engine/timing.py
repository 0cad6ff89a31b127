"""The time of one move for the protocol engines (GTP, UCI): an engine never uses more time than it is given.

A ``MoveTimer`` starts when the command that asks for a move *arrives* (not when the search starts), so time lost
before the search (reading the position, building a tree) counts. Its deadline is the budget less a safety
margin for what happens after the search stops (building the answer, the pipe, the controller's lag):
``margin = fixed + fraction * budget``. The search is stopped by the timer on every path: the agent gets the
seconds left (its own chunk loop ends on them) and the progress callback checks ``expired`` after each chunk.

``now`` is injectable: tests drive a timer (and the engines that own one) with a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

SAFETY_FRACTION = 0.05
"""Share of a move's budget kept back for the work after the search stops and for process lag."""


@dataclass
class MoveTimer:
    """A budget of ``budget`` seconds (None: no time limit) counted from ``start`` on the clock ``now``."""

    budget: float | None
    start: float
    margin: float = 0.0
    now: Clock = field(default=time.monotonic, repr=False)

    @classmethod
    def starting(cls, budget: float | None, start: float | None = None, fixed: float = 0.0,
                 fraction: float = SAFETY_FRACTION, now: Clock = time.monotonic) -> MoveTimer:
        """A timer from ``start`` (default: now) whose deadline keeps back ``fixed + fraction * budget``."""
        margin = 0.0 if budget is None else fixed + fraction * max(budget, 0.0)
        return cls(budget, now() if start is None else start, margin, now)

    @property
    def deadline(self) -> float | None:
        if self.budget is None:
            return None
        return self.start + max(self.budget - self.margin, 0.0)

    def elapsed(self) -> float:
        return self.now() - self.start

    def left(self) -> float | None:
        """Seconds until the deadline (0 once it has passed); None without a time limit."""
        deadline = self.deadline
        return None if deadline is None else max(deadline - self.now(), 0.0)

    def expired(self) -> bool:
        deadline = self.deadline
        return deadline is not None and self.now() >= deadline
