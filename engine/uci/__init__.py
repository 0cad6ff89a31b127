"""A UCI chess engine over the search agents: ``python -m engine.uci [--checkpoint C | --player P] [--seed S]
[--json]``.

UCI (the Universal Chess Interface, Kahlen and Huber 2000, "Description of the universal chess interface")
is the line protocol between chess GUIs (Cute Chess, Arena, Banksia, python-chess) and engines. Supported:

* ``uci`` (``id``, the options below, ``uciok``), ``isready`` (``readyok``, answered while searching; the first
  one waits until the search kernels are compiled), ``ucinewgame``, ``setoption name N [value V]`` (names are
  case-insensitive; an unknown option or a bad value is reported on stderr and ignored), ``debug on|off``,
  ``register`` (nothing to register), ``quit``;
* options: ``Simulations``, ``MultiPV``, ``MoveOverhead`` (ms kept back per move), ``MaxTreeNodes`` and ``Hash``
  (MB; sets ``MaxTreeNodes`` at about 6.4 KB a node), ``Threads`` (torch threads of a network; the tree search
  is one thread), ``Ponder`` (declared for GUIs; ``go ponder`` works whatever its value), ``UCI_ShowWDL``
  (``wdl W D L`` in scores), ``MinibatchSize`` (leaves per network call) and ``MaterialMix`` (percent of a
  leaf's value from the material search) with a network, ``Evaluator`` without one;
* ``position startpos|fen FEN [moves m1 m2 ...]``: moves in UCI (``e2e4``, ``e7e8q``, castling as the king's
  two-square move); the repetition history of the moves is kept;
* ``go`` with ``wtime``/``btime``/``winc``/``binc``/``movestogo`` (time management from the clock; a clock given
  for one side only counts for both), ``movetime``, ``nodes`` (simulations), ``depth`` (the principal variation
  reaches that many plies), ``infinite``, ``ponder`` then ``ponderhit``; several limits together stop the search
  at the first one reached, and a plain ``go`` searches ``Simulations`` simulations. ``stop`` ends a search.
  Every ``go`` is answered by exactly one ``bestmove`` (``bestmove (none)`` when the side to move is checkmated
  or stalemated; at once when only one move is legal), with ``ponder`` when the principal variation has a reply;
* ``info depth D seldepth S multipv K score cp X nodes N nps R hashfull H time T pv ...`` about once a second
  and before ``bestmove``: ``depth`` is the length of the principal variation (the most visited line of the
  tree), ``seldepth`` the deepest node, ``nodes`` the simulations of this search, ``hashfull`` the tree's
  share of ``MaxTreeNodes`` in permille; ``score cp`` maps the Q value of the move (expected result for the
  side to move in [-1, 1]) to centipawns by Lichess's win-rate model (``games.chess.score``:
  ``cp = 543 * atanh(Q)``), and ``score mate N`` is given when a move's line ends in checkmate with Q = +-1.

Time: a move never takes more than it is given. Its time counts from the arrival of ``go`` (from ``ponderhit``
when pondering); the budget (``engine.uci.limits.time_budget``) less a safety share is a deadline that stops
the search on every path (``engine.timing``), and compilation happens before the first ``readyok``.

Malformed commands, bad FENs and illegal moves get a message on stderr (and as ``info string`` on stdout) and
the engine keeps running: a bad ``position`` leaves the position as it was, a bad ``go`` argument is ignored
(the search still runs and answers ``bestmove``). A ``--checkpoint`` that cannot be loaded is one line on
stderr and exit status 2 before anything is answered. ``--json`` prints a summary (commands, searches, errors,
player) as one JSON line after ``quit``.

The search runs in its own thread, in chunks of about 20 ms (``agents.mcts``), so ``isready`` and ``stop`` are
answered while it thinks. The player is the AlphaZero agent of ``--checkpoint`` (or the game's shipped
checkpoint), else, or with ``--player mcts-material``, MCTS over the material and quiescence evaluator of
``agents.material`` (``Evaluator material``; ``rollout`` is pure MCTS), announced on stderr.

Layout: ``options`` (declarations, ``setoption`` values), ``limits`` (``go`` arguments, time budgets),
``engine`` (``UciEngine``: commands and the search thread), ``program`` (the player and the command line).
"""

from .engine import ENGINE_NAME, Fatal, UciEngine
from .limits import GoLimits, parse_go, time_budget
from .options import Option, engine_options, wdl
from .program import build_player_factory, main, serve

__all__ = ["ENGINE_NAME", "Fatal", "GoLimits", "Option", "UciEngine", "build_player_factory", "engine_options",
           "main", "parse_go", "serve", "time_budget", "wdl"]
