"""``GtpEngine``: the dispatcher of ``engine.gtp.protocol`` with the Go command families over one session."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

import numpy as np

from .analysis import AnalysisHandlers, GoGuiHandlers
from .handlers import BoardHandlers, HandicapHandlers, ScoringHandlers, TimeHandlers
from .protocol import GtpDispatcher
from .session import GoSession, Move, PlayerFactory

ENGINE_NAME = "rlengine"
ENGINE_VERSION = "0.1.0"


class GtpEngine(GtpDispatcher):
    """A GTP engine playing Go: ``execute(line)`` runs one command and returns its full answer; ``serve`` reads
    stdin in a thread and writes to ``out``. ``session`` (``GoSession``) holds the game, the agent and the clock;
    the keyword arguments are its settings. ``now`` is the clock of move times (injectable for tests)."""

    def __init__(self, make_player: PlayerFactory, size: int = 9, komi: float = 7.5, *, out: TextIO | None = None,
                 log: TextIO | None = None, now: Callable[[], float] = time.monotonic, **settings):
        super().__init__(ENGINE_NAME, self._version, out, log, now)
        self.session = GoSession(make_player, size, komi, diag=self.diag, now=now, **settings)
        for family in (BoardHandlers, ScoringHandlers, TimeHandlers, HandicapHandlers, AnalysisHandlers,
                       GoGuiHandlers):
            self.add_handlers(family(self.session, self))

    def _version(self) -> str:
        return f"{ENGINE_VERSION} ({self.player}; {self.session.budget_description()})"

    # the session's state, for callers and tests
    @property
    def game(self):
        return self.session.game

    @property
    def state(self) -> np.ndarray:
        return self.session.state

    @property
    def moves(self) -> list[Move]:
        return self.session.moves

    @property
    def player(self) -> str:
        return self.session.player

    def close(self) -> None:
        self.session.close()
