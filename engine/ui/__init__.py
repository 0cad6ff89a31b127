"""The terminal board UI behind ``python -m engine.play``: board views per game, game records, the session."""

from .boards import BoardView, register_view, view_for

__all__ = ["BoardView", "register_view", "view_for"]
