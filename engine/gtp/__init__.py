"""A Go Text Protocol (GTP v2) engine: the AlphaZero agent (or pure MCTS) behind GoGui, Sabaki, Lizzie, KGS.

    python -m engine.gtp                                   # the shipped network of the board size, else pure MCTS
    python -m engine.gtp --checkpoint runs/go9/latest.pt --simulations 800
    python -m engine.gtp --time 2 --game-option size=19    # two seconds a move on 19x19

Protocol: G. Farnebäck, *Specification of the Go Text Protocol, version 2, draft 2* (2002). Every failure is a
``?`` answer and the engine goes on; diagnostics go to stderr only, so stdout carries the protocol alone.

Commands: the required and tournament set (``protocol_version name version known_command list_commands
quit boardsize clear_board komi play genmove undo showboard final_score final_status_list time_settings
time_left loadsgf printsgf kgs-genmove_cleanup``), handicap (``fixed_handicap place_free_handicap
set_free_handicap``; SGF records carry ``HA`` and ``AB``) and Leela Zero's analysis extension for Sabaki and
Lizzie (``lz-analyze``, ``lz-genmove_analyze``) and KataGo's (``kata-analyze``, ``kata-genmove_analyze``, with
``ownership true`` when the network has an ownership head); GoGui's ``gogui-analyze_commands``
(``gogui-top_moves``, and ``gogui-ownership`` with such a network, which also decides ``final_status_list dead``).

Time: a move never takes more than it is given. Its time counts from the arrival of ``genmove``; the budget is
the clock's share (``time_settings``/``time_left``), else ``--time``, less ``--lag`` and a safety share; the
search stops at that deadline, and compilation happens when a player is built (start-up, a new board size),
never inside a move. Without a time limit a move searches ``--simulations`` (else the player's own number).

Scoring is Tromp-Taylor (every stone on the board is alive), the rules the agent plays by. Out-of-turn
``play`` inserts a pass of the other colour (or rebuilds the position); out-of-turn ``genmove`` plays for the
colour asked without inserting a pass (``engine.gtp.session``).

Layout (minigo's split): ``protocol`` (input, ids, ``cmd_<name>`` dispatch, error answers), ``handlers`` (the
command families: board and moves, scoring and SGF, time, handicap), ``analysis`` (``lz-*``, and GoGui's
``gogui-analyze_commands``), ``session`` (the game, the agent, the clock), ``engine`` (``GtpEngine`` puts them
together), ``program`` (the command line).
"""

from .clock import Clock
from .engine import ENGINE_NAME, ENGINE_VERSION, GtpEngine
from .handlers import fixed_handicap_points
from .program import main, player_factory
from .protocol import GtpDispatcher, GtpFailure, Inbox, parse_command, preprocess
from .session import GoSession

__all__ = ["ENGINE_NAME", "ENGINE_VERSION", "Clock", "GoSession", "GtpDispatcher", "GtpEngine", "GtpFailure", "Inbox",
           "fixed_handicap_points", "main", "parse_command", "player_factory", "preprocess"]
