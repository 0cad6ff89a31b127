"""The terminal board UI behind ``python -m engine.play``: board views per game (``boards``), game records
(``records``) and the session of one person against one agent (``session``)."""

from .boards import BoardView, register_view, view_for
from .records import Record, format_game, read_record
from .session import COMMANDS, Screen, Session

__all__ = ["BoardView", "register_view", "view_for", "Record", "format_game", "read_record", "COMMANDS", "Screen",
           "Session"]
