"""GTP time controls: Canadian byo-yomi as ``time_settings`` gives it, and each colour's time left."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Clock:
    """Canadian byo-yomi (absolute time: no byo-yomi; byo-yomi time with 0 stones: no limit) and each colour's
    time left, from ``time_left`` or counted here when it is not sent."""

    main_time: float = 0.0
    byo_time: float = 1.0
    byo_stones: int = 0
    left: dict[int, list[float]] = field(default_factory=dict)  # colour -> [seconds, stones left in the period]

    @property
    def unlimited(self) -> bool:
        return self.byo_stones == 0 and self.byo_time > 0

    def reset(self) -> None:
        start = [self.main_time, 0] if self.main_time > 0 else [self.byo_time, self.byo_stones]
        self.left = {0: list(start), 1: list(start)}

    def allot(self, colour: int, ply: int, size: int, lag: float) -> float | None:
        """Seconds ``colour``'s move at ``ply`` may take from the arrival of ``genmove``; None without a time
        limit. Never more than the time left (less ``lag``), in main time or in the current period."""
        if self.unlimited:
            return None
        seconds, stones = self.left.get(colour, [self.main_time, 0])
        if stones > 0:  # in a byo-yomi period: share its time among its stones
            share = seconds / stones
        else:
            # main time over the moves still to come (a game lasts about 0.75 N^2 plies), plus part of a period
            own_moves_left = max(10.0, (0.75 * size * size - ply) / 2)
            share = seconds / own_moves_left
            if self.byo_stones > 0:
                share += 0.5 * self.byo_time / self.byo_stones
            share = min(share, seconds + (self.byo_time / self.byo_stones if self.byo_stones else 0.0))
        return max(0.05, share - lag)

    def spend(self, colour: int, seconds: float) -> None:
        """Count ``seconds`` used by ``colour`` (until the controller sends ``time_left`` again)."""
        if self.unlimited or colour not in self.left:
            return
        left = self.left[colour]
        left[0] -= seconds
        if left[1] > 0:
            left[1] -= 1
            if left[1] == 0 and left[0] > 0:  # the period is kept: a new one starts
                left[0], left[1] = self.byo_time, self.byo_stones
        elif left[0] <= 0 and self.byo_stones > 0:  # main time is over: byo-yomi starts
            left[0], left[1] = self.byo_time + left[0], self.byo_stones

    def describe(self) -> str:
        if self.unlimited:
            return "no time limit"
        if self.byo_stones == 0:
            return f"{self.main_time:g} s absolute"
        return f"{self.main_time:g} s + {self.byo_stones} stones in {self.byo_time:g} s (Canadian byo-yomi)"
