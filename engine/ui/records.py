"""Game records for the terminal UI: read a game or a position from text, write the game in its format.

Writing goes through ``Game.format_record`` (SGF for Go, PGN for chess, the move list otherwise: ``key: value``
tag lines, the moves, a ``result:`` line). Reading takes, per game:

- Go: SGF (setup stones and the main line; another board size or komi gives a new game), or a move list;
- chess: PGN (the first game, from its ``FEN`` tag when set up), a FEN (optionally ``... moves e2e4``),
  ``startpos moves ...``, or a move list in SAN or UCI;
- Connect Four: Pascal Pons' digit string (``4453``) or column numbers separated by spaces;
- any game: the move-list records written here.

Every reader returns the start position and the actions played from it, so that undo and save keep working
after a load; bad text is an ``IllegalMove`` (a ``ValueError``) naming the move or field and why.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from games import IllegalMove

_TAG_LINE = re.compile(r"^\s*[A-Za-z][\w ]*:\s")  # "first: you", "result: +1 (X wins)"


@dataclass
class Record:
    """A game read from text: its game (a new one when the record says so, e.g. another Go board size),
    start position and the actions played from it."""

    game: object
    start: np.ndarray
    actions: list[int]

    def states(self) -> list[np.ndarray]:
        out = [self.start]
        for a in self.actions:
            out.append(self.game.apply(out[-1], a))
        return out


def replay(game, start: np.ndarray, moves: list[str]) -> Record:
    """Actions of ``moves`` (the game's notation) played from ``start``; errors name the move."""
    state, actions = start, []
    for i, text in enumerate(moves):
        try:
            action = game.parse_move(state, text)
            state = game.apply(state, action)
        except IllegalMove as err:
            raise IllegalMove(f"move {i + 1} ({text}): {err}") from None
        actions.append(action)
    return Record(game, start, actions)


def _move_tokens(text: str) -> list[str]:
    """The moves of a move-list record: tag lines (``key: value``) and the ``result:`` line are skipped."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not _TAG_LINE.match(ln)]
    return " ".join(lines).split()


def read_moves(game, text: str) -> Record:
    """A move-list record or a bare list of moves, from the initial position."""
    return replay(game, game.initial_state(), _move_tokens(text))


def read_connect_four(game, text: str) -> Record:
    tokens = _move_tokens(text)
    if len(tokens) == 1 and tokens[0].isdigit() and game.width <= 9:  # Pons: one digit per move
        tokens = list(tokens[0])
    return replay(game, game.initial_state(), tokens)


def read_go(game, text: str) -> Record:
    body = text.strip()
    if not body.startswith("("):
        return read_moves(game, text)
    from games.go import load_sgf

    try:
        loaded = load_sgf(body, ko_rule=game.ko_rule)
    except ValueError as err:
        raise IllegalMove(f"SGF: {err}") from None
    new = loaded.game
    same = new.size == game.size and new.komi == game.komi
    return Record(game if same else new, loaded.states[0], list(loaded.actions))


def read_chess(game, text: str) -> Record:
    body = text.strip()
    if body.startswith("[") or re.match(r"^1\.", body):
        from games.chess import read_pgn

        found = read_pgn(body, game)
        if not found:
            raise IllegalMove("the PGN text holds no game")
        first = found[0]
        return Record(game, first.start, list(first.actions))
    tokens = _move_tokens(body)
    if not tokens:
        return Record(game, game.initial_state(), [])
    if tokens[0] == "startpos":
        rest = tokens[1:]
        start = game.initial_state()
    elif tokens[0] == "fen" or "/" in tokens[0]:
        fields = tokens[1:] if tokens[0] == "fen" else tokens
        cut = fields.index("moves") if "moves" in fields else len(fields)
        if cut > 6:  # not a FEN (which has 4 to 6 fields): do not quote the whole text back
            raise IllegalMove(f"{' '.join(fields[:2])[:40]!r}... is not a FEN (it has {cut} fields; a FEN has 4 to 6)")
        start, rest = game.from_fen(" ".join(fields[:cut])), fields[cut:]
    else:
        return replay(game, game.initial_state(), tokens)
    if rest and rest[0] == "moves":
        rest = rest[1:]
    elif rest:
        raise IllegalMove(f"expected 'moves' after the position, got {rest[0]!r}")
    return replay(game, start, rest)


_READERS: dict[str, Callable[[object, str], Record]] = {
    "ConnectFour": read_connect_four,
    "Go": read_go,
    "Chess": read_chess,
}


def read_record(game, text: str) -> Record:
    """The game, start position and actions of a record or position written as ``text`` (see the module)."""
    for cls in type(game).__mro__:
        if cls.__name__ in _READERS:
            return _READERS[cls.__name__](game, text)
    return read_moves(game, text)


def format_game(game, start: np.ndarray, actions: list[int], names: tuple[str, str],
                resigned: int | None = None) -> str:
    """The record of a game in the game's format; ``names`` are the first and second players', ``resigned``
    the player who resigned (the result then goes in the record)."""
    tags = {"first": names[0], "second": names[1]}
    if getattr(game, "record_extension", "") == ".pgn":  # PGN's Date tag, today's (the roster default is ????.??.??)
        tags["date"] = _dt.date.today().strftime("%Y.%m.%d")
    if resigned is not None:
        tags["result"] = -1 if resigned == 0 else 1
        tags["ended by"] = "resign"
    return game.format_record(actions, tags, start)
