"""PGN (Portable Game Notation, Edwards 1994, "Standard: Portable Game Notation Specification and
Implementation Guide") export and import for the chess game API.

Export writes the Seven Tag Roster (Event, Site, Date, Round, White, Black, Result) first, then any other
tags (``SetUp``/``FEN`` when the game did not start from the initial position), SAN movetext wrapped at 80
columns and the result. Import reads any number of games and skips what it does not need: comments
(``{...}`` and ``; ...``), ``%`` escape lines, NAGs (``$1``), annotation glyphs (``!?``), move numbers and
recursive variations; moves may be SAN or UCI. Bad input raises ``PgnError`` (an ``IllegalMove``) naming the
game, the line and the move.

    from games.chess.pgn import write_pgn, read_pgn
    text = write_pgn(game, actions, headers={"White": "AlphaZero", "Black": "Stockfish"})
    record = read_pgn(text)[0]      # .headers, .start, .actions, .sans, .final, .result
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import make
from ..base import Game, IllegalMove
from .notation import START_FEN

__all__ = ["PgnError", "PgnGame", "write_pgn", "read_pgn", "iter_pgn", "read_pgn_file", "SEVEN_TAG_ROSTER"]

SEVEN_TAG_ROSTER = ("Event", "Site", "Date", "Round", "White", "Black", "Result")
_ROSTER_DEFAULTS = {"Event": "?", "Site": "?", "Date": "????.??.??", "Round": "?", "White": "?", "Black": "?"}
RESULTS = ("1-0", "0-1", "1/2-1/2", "*")


class PgnError(IllegalMove):
    """Malformed PGN or an illegal move in it; the message names the game, line and move."""


@dataclass
class PgnGame:
    """One game read from PGN: its tags, start position, moves (actions and SAN) and result."""

    headers: dict[str, str]
    start: np.ndarray
    actions: list[int] = field(default_factory=list)
    sans: list[str] = field(default_factory=list)
    final: np.ndarray | None = None
    result: str = "*"

    def states(self, game: Game) -> list[np.ndarray]:
        """Every position of the game, the start included."""
        out = [self.start]
        for a in self.actions:
            out.append(game.apply(out[-1], a))
        return out


# ------------------------------------------------------------------------------------------ export
def _quote(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_pgn(game: Game, actions: Sequence[int], start: np.ndarray | None = None,
              headers: dict | None = None, result: str | None = None) -> str:
    """PGN of the game ``actions`` played from ``start`` (the initial position by default).

    ``result`` defaults to the outcome of the final position (``*`` while it goes on); a draw by rule gets a
    comment naming the rule before the result.
    """
    state = game.initial_state() if start is None else start
    start_fen = game.to_fen(state)
    sans = []
    first_ply = game.ply(state)
    for i, a in enumerate(actions):
        try:
            san = game.format_move(state, a)
            state = game.apply(state, a)
        except IllegalMove as err:
            raise PgnError(f"cannot export move {i + 1}: {err}") from None
        sans.append(san)
    if result is None:
        result = game.result_string(state)
    if result not in RESULTS:
        raise PgnError(f"PGN result {result!r} must be one of {', '.join(RESULTS)}")
    tags = dict(_ROSTER_DEFAULTS)
    for k, v in (headers or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9_]+", str(k)):
            raise PgnError(f"PGN tag name {k!r} must be letters, digits and underscores")
        tags[str(k)] = str(v)
    tags["Result"] = result
    if start_fen != START_FEN:
        tags["SetUp"] = "1"
        tags["FEN"] = start_fen
    lines = [f"[{k} {_quote(tags[k])}]" for k in SEVEN_TAG_ROSTER]
    lines += [f"[{k} {_quote(v)}]" for k, v in tags.items() if k not in SEVEN_TAG_ROSTER]
    tokens = []
    for i, san in enumerate(sans):
        ply = first_ply + i
        if ply % 2 == 0:
            tokens.append(f"{ply // 2 + 1}.")
        elif i == 0:
            tokens.append(f"{ply // 2 + 1}...")
        tokens.append(san)
    if game.is_terminal(state) and game.result(state) == 0 and result == "1/2-1/2":
        tokens.append("{" + game.describe_result(state).capitalize() + "}")
    tokens.append(result)
    lines.append("")
    lines += _wrap(tokens, 80)
    return "\n".join(lines) + "\n"


def _wrap(tokens: list[str], width: int) -> list[str]:
    out, line = [], ""
    for t in tokens:
        if line and len(line) + 1 + len(t) > width:
            out.append(line)
            line = t
        else:
            line = f"{line} {t}" if line else t
    if line:
        out.append(line)
    return out


# ------------------------------------------------------------------------------------------ import
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<tag>\[[ \t]*(?P<name>[A-Za-z0-9_]+)[ \t]*"(?P<value>(?:[^"\\\n]|\\.)*)"[ \t]*\])
  | (?P<badtag>\[[^\n]*)
  | (?P<comment>\{[^}]*\})
  | (?P<open>\{)
  | (?P<line_comment>;[^\n]*)
  | (?P<nag>\$\d+)
  | (?P<lpar>\()
  | (?P<rpar>\))
  | (?P<result>(?:1-0|0-1|1/2-1/2|\*)(?![\w/-]))
  | (?P<number>\d+\s*\.+|\d+(?=\s))
  | (?P<glyph>[!?]+)
  | (?P<word>[^\s{}();\[\]$]+)
""", re.VERBOSE)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def iter_pgn(text: str, game: Game | None = None) -> Iterator[PgnGame]:
    """Games of a PGN text, one by one (``PgnError`` at the first bad one)."""
    game = game or make("chess")  # by name: game.py imports this module to write its records
    if text.startswith("\ufeff"):
        text = text[1:]
    # "%" escape lines are skipped whole (PGN 6: a percent sign in the first column)
    text = re.sub(r"(?m)^%[^\n]*", lambda m: " " * len(m.group(0)), text)
    pos, number = 0, 0
    headers: dict[str, str] = {}
    moves: list[tuple[str, int]] = []
    first_line = 0  # where the current game starts (0: no game open)
    in_moves = False
    depth = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        line = _line_of(text, pos)
        kind = m.lastgroup if m else None
        if kind is None:  # pragma: no cover - the word pattern takes any other character
            raise PgnError(f"PGN line {line}: cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        if kind in ("ws", "comment", "line_comment", "nag", "glyph"):
            continue
        if kind == "open":
            raise PgnError(f"PGN line {line}: comment '{{' is never closed with '}}'")
        if kind == "lpar":
            depth += 1
            continue
        if kind == "rpar":
            if depth == 0:
                raise PgnError(f"PGN line {line}: ')' closes no variation")
            depth -= 1
            continue
        if depth > 0:
            continue  # inside a variation: its moves are not part of the game
        if kind == "badtag":
            raise PgnError(f"PGN line {line}: malformed tag {m.group(0).strip()!r} (write [Name \"value\"])")
        if kind == "tag" and in_moves:  # a tag after moves without a result: the previous game ended there
            number += 1
            yield _build(game, number, headers, moves, None, first_line)
            headers, moves, first_line, in_moves = {}, [], 0, False
        if not first_line:
            first_line = line
        if kind == "tag":
            headers[m.group("name")] = re.sub(r"\\(.)", r"\1", m.group("value"))
        elif kind == "result":
            number += 1
            yield _build(game, number, headers, moves, m.group("result"), first_line)
            headers, moves, first_line, in_moves = {}, [], 0, False
        elif kind == "number":
            in_moves = True
        else:
            in_moves = True
            moves.append((m.group("word"), line))
    if depth:
        raise PgnError("PGN ends inside a variation: a '(' is never closed")
    if first_line:
        number += 1
        yield _build(game, number, headers, moves, None, first_line)


def _build(game: Game, number: int, headers: dict[str, str], moves: list[tuple[str, int]],
           result_token: str | None, line: int) -> PgnGame:
    where = f"PGN game {number} (line {line})"
    fen = headers.get("FEN")
    try:
        start = game.from_fen(fen) if fen else game.initial_state()
    except IllegalMove as err:
        raise PgnError(f"{where}: FEN tag: {err}") from None
    state = start
    record = PgnGame(headers=dict(headers), start=start)
    for text, move_line in moves:
        ply = game.ply(state)
        label = f"{ply // 2 + 1}{'.' if ply % 2 == 0 else '...'} {text}"
        try:
            a = game.parse_move(state, text)
        except IllegalMove as err:
            raise PgnError(f"{where}, line {move_line}, move {label}: {err}") from None
        record.sans.append(game.format_move(state, a))
        record.actions.append(a)
        state = game.apply(state, a)
    record.final = state
    record.result = result_token or headers.get("Result", "*")
    if record.result not in RESULTS:
        raise PgnError(f"{where}: Result tag {record.result!r} is not one of {', '.join(RESULTS)}")
    return record


def read_pgn(text: str, game: Game | None = None) -> list[PgnGame]:
    """All games of a PGN text (an empty list for an empty text)."""
    return list(iter_pgn(text, game))


def read_pgn_file(path: str | Path, game: Game | None = None) -> list[PgnGame]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise PgnError(f"cannot read PGN file {str(path)!r}: {err}") from None
    try:
        return read_pgn(text, game)
    except PgnError as err:
        raise PgnError(f"{path}: {err}") from None
