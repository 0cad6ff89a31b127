"""Players behind one small interface (``agents.base``): given a state, choose a move, optionally with an
evaluation. The arena, the terminal UI and the GTP/UCI protocols all use it; ``agents.make(spec, game)`` builds
one from a short spec."""

from .base import (
    Agent,
    AgentError,
    Decision,
    MinimaxAgent,
    MoveStat,
    RandomAgent,
    agent_kinds,
    best_available,
    make,
    register_agent,
)

__all__ = ["Agent", "AgentError", "Decision", "MinimaxAgent", "MoveStat", "RandomAgent", "agent_kinds",
           "best_available", "make", "register_agent"]
