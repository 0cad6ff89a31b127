"""Go coordinates: flat action index, (row, col), GTP vertex and SGF point in one table.

On a 9x9 board (row 0 is the top row, as in the network planes and the action layout)::

    action   (row, col)   GTP     SGF
    0        (0, 0)       A9      aa
    8        (0, 8)       J9      ia
    40       (4, 4)       E5      ee
    72       (8, 0)       A1      ai
    80       (8, 8)       J1      ii
    81       pass         pass    ""   (SGF readers also take "tt" on boards up to 19x19)

GTP (the Go Text Protocol, G. Farnebäck 2002) names columns A..T skipping I and counts rows from the
bottom; SGF (FF[4]) names the column then the row with letters from the top-left. Both are read
case-insensitively. The idea of one module opening with this table is minigo's ``coords.py``.
"""

from __future__ import annotations

import re

from ..base import IllegalMove

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"  # no I
SGF_LETTERS = "abcdefghijklmnopqrs"
PASS_WORDS = ("pass",)

_GTP_RE = re.compile(r"^([a-z])(\d{1,2})$")
_SGF_RE = re.compile(r"^([a-z])([a-z])$")


def pass_action(size: int) -> int:
    return size * size


def to_rowcol(action: int, size: int) -> tuple[int, int] | None:
    """``(row, col)`` of a point (row 0 at the top); ``None`` for pass."""
    if action == size * size:
        return None
    return divmod(int(action), size)


def from_rowcol(row: int, col: int, size: int) -> int:
    return row * size + col


def to_gtp(action: int, size: int) -> str:
    """GTP vertex (``D4``) of an action, ``pass`` for pass."""
    rc = to_rowcol(action, size)
    if rc is None:
        return "pass"
    return f"{GTP_COLUMNS[rc[1]]}{size - rc[0]}"


def to_sgf(action: int, size: int) -> str:
    """SGF point (``dd``) of an action, the empty string for pass (FF[4])."""
    rc = to_rowcol(action, size)
    if rc is None:
        return ""
    return SGF_LETTERS[rc[1]] + SGF_LETTERS[rc[0]]


def _board_words(size: int) -> str:
    return f"columns A-{GTP_COLUMNS[size - 1]} without I, rows 1-{size}"


def from_gtp(text: str, size: int) -> int:
    """Action of a GTP vertex (``D4``, ``d4``) or ``pass``; ``IllegalMove`` naming what is wrong."""
    t = str(text).strip().lower()
    if t in PASS_WORDS:
        return size * size
    m = _GTP_RE.match(t)
    if not m:
        raise IllegalMove(f"{text!r} is not a GTP vertex (write a letter and a row, like D4, or pass)")
    letter, row = m.group(1).upper(), int(m.group(2))
    if letter == "I":
        raise IllegalMove(f"{text!r}: GTP columns skip the letter I (J follows H)")
    col = GTP_COLUMNS.find(letter)
    if col < 0 or col >= size or not 1 <= row <= size:
        raise IllegalMove(f"{text!r} is off the {size}x{size} board ({_board_words(size)})")
    return (size - row) * size + col


def from_sgf(text: str, size: int, allow_tt_pass: bool = True) -> int:
    """Action of an SGF point (``dd``); the empty value (and ``tt`` up to 19x19) is pass."""
    t = str(text).strip().lower()
    if t == "" or (allow_tt_pass and t == "tt" and size <= 19):
        return size * size
    m = _SGF_RE.match(t)
    if not m:
        raise IllegalMove(f"{text!r} is not an SGF point (two letters, column then row from the top: dd)")
    col, row = ord(m.group(1)) - ord("a"), ord(m.group(2)) - ord("a")
    if col >= size or row >= size:
        raise IllegalMove(f"SGF point {text!r} is off the {size}x{size} board (letters a-{SGF_LETTERS[size - 1]})")
    return row * size + col


def parse_point(text: str, size: int) -> int:
    """Action written as a GTP vertex (``D4``), an SGF point (``dd``) or ``pass``, in any case."""
    t = str(text).strip().lower()
    if t in PASS_WORDS:
        return size * size
    if _GTP_RE.match(t):
        return from_gtp(t, size)
    if _SGF_RE.match(t):
        return from_sgf(t, size, allow_tt_pass=False)
    raise IllegalMove(
        f"{text!r} is not a Go move: write a GTP vertex like D4 ({_board_words(size)}), an SGF point like dd, "
        "or pass")


def table(size: int) -> list[tuple[int, tuple[int, int] | None, str, str]]:
    """Every action with its (row, col), GTP and SGF names: the table above for any board."""
    return [(a, to_rowcol(a, size), to_gtp(a, size), to_sgf(a, size)) for a in range(size * size + 1)]
