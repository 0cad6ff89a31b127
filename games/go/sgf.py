"""SGF for Go (Smart Game Format FF[4], A. Hollosi, https://www.red-bean.com/sgf/): write games, read games
and positions into the game API.

Reading takes the main line (the first variation at every branch) of the first game tree, and accepts what
editors and servers write: whitespace anywhere between tokens, escapes (``\\]``, soft line breaks), FF[3]
property names with lowercase letters (``AddBlack``), compressed point lists (``AB[aa:cc]``), pass as
``B[]`` or ``B[tt]``, setup stones (``AB``/``AW``/``AE``) and ``PL`` before the first move, handicap. A
malformed file raises ``ValueError`` naming the problem and where it is (line and column).

    sgf = read_sgf(text)                      # SgfGame: size, komi, setup, moves, comments, players ...
    loaded = load_sgf(text)                   # LoadedGame: a Go game, the positions after each move
    text = write_sgf(9, 7.5, [40, 81, ...], black="rlengine", result="B+3.5", comments=[{"visits": 800}])
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import make
from . import coords
from .rules import MAX_SIZE, MIN_SIZE

SETUP_PROPERTIES = ("AB", "AW", "AE")


# ----------------------------------------------------------------------------------------- parsing
class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def where(self, i: int | None = None) -> str:
        i = self.i if i is None else i
        line = self.text.count("\n", 0, i) + 1
        col = i - (self.text.rfind("\n", 0, i) + 1) + 1
        return f"line {line}, column {col}"

    def fail(self, message: str, i: int | None = None):
        raise ValueError(f"malformed SGF: {message} at {self.where(i)}")

    def skip_ws(self) -> None:
        t, i = self.text, self.i
        while i < len(t) and t[i].isspace():
            i += 1
        self.i = i

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.i] if self.i < len(self.text) else ""

    def value(self) -> str:
        t = self.text
        start = self.i
        self.i += 1  # '['
        out = []
        while True:
            if self.i >= len(t):
                self.fail("property value is not closed with ']'", start)
            ch = t[self.i]
            if ch == "]":
                self.i += 1
                return "".join(out)
            if ch == "\\":
                self.i += 1
                if self.i >= len(t):
                    self.fail("property value is not closed with ']'", start)
                nxt = t[self.i]
                if nxt in "\r\n":  # soft line break: removed
                    self.i += 1
                    if self.i < len(t) and t[self.i] in "\r\n" and t[self.i] != nxt:
                        self.i += 1
                    continue
                out.append(nxt)
                self.i += 1
                continue
            out.append(ch)
            self.i += 1

    def node(self) -> dict[str, list[str]]:
        self.i += 1  # ';'
        props: dict[str, list[str]] = {}
        while True:
            ch = self.peek()
            if not ch or not ch.isalpha():
                if ch == "[":
                    self.fail("property value without a property name")
                return props
            start = self.i
            while self.i < len(self.text) and self.text[self.i].isalpha():
                self.i += 1
            raw = self.text[start: self.i]
            ident = "".join(c for c in raw if c.isupper())  # FF[3] names may carry lowercase letters
            if not ident:
                self.fail(f"property name {raw!r} has no capital letter", start)
            if self.peek() != "[":
                self.fail(f"property {raw} has no value", start)
            values = props.setdefault(ident, [])
            while self.peek() == "[":
                values.append(self.value())


def parse_sgf(text: str) -> list[dict[str, list[str]]]:
    """The main line of the first game tree in ``text``: a list of nodes ``{property: [values]}``."""
    if not isinstance(text, str):
        raise ValueError(f"SGF must be text, got {type(text).__name__}")
    sc = _Scanner(text.lstrip("\ufeff"))
    start = sc.text.find("(")
    if start < 0:
        raise ValueError("malformed SGF: no game tree (an SGF file starts with '(;')")
    sc.i = start
    main: list[dict[str, list[str]]] = []
    # one entry per open '(': [on the main line, a child tree already opened at this level]
    stack: list[list[bool]] = []
    while True:
        ch = sc.peek()
        if ch == "":
            sc.fail(f"unexpected end of the file: {len(stack)} '(' not closed" if stack else "empty file")
        if ch == "(":
            on_main = True
            if stack:
                parent = stack[-1]
                on_main = parent[0] and not parent[1]
                parent[1] = True
            open_at = sc.i
            sc.i += 1
            if sc.peek() != ";":
                sc.fail("a game tree must start with a node ';'", open_at)
            stack.append([on_main, False])
        elif ch == ")":
            if not stack:
                sc.fail("')' without a matching '('")
            sc.i += 1
            stack.pop()
            if not stack:
                break  # the first game tree is complete; further trees are other games
        elif ch == ";":
            if not stack:
                sc.fail("node outside a game tree")
            if stack[-1][1]:
                sc.fail("node after a variation (nodes must come before the sub-trees of a sequence)")
            props = sc.node()
            if stack[-1][0]:
                main.append(props)
        else:
            sc.fail(f"unexpected {ch!r}")
    if not main:
        raise ValueError("malformed SGF: the game tree has no node")
    return main


# ----------------------------------------------------------------------------------------- games
@dataclass
class SgfGame:
    """A Go game read from SGF: the root properties, setup position and main-line moves.

    Points are actions (``row * size + col``, row 0 at the top; ``size * size`` is pass). Colours are
    0 (Black) and 1 (White).
    """

    size: int = 19
    komi: float | None = None
    handicap: int = 0
    black: str = ""
    white: str = ""
    result: str = ""
    date: str = ""
    rules: str = ""
    game_comment: str = ""
    setup_black: list[int] = field(default_factory=list)
    setup_white: list[int] = field(default_factory=list)
    to_play: int = 0
    moves: list[tuple[int, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    properties: dict[str, list[str]] = field(default_factory=dict)

    @property
    def actions(self) -> list[int]:
        return [a for _, a in self.moves]

    @property
    def has_setup(self) -> bool:
        return bool(self.setup_black or self.setup_white) or self.to_play != 0


def _one(props: dict, key: str, default=None):
    values = props.get(key)
    return default if not values else values[0]


def _points(values: Sequence[str], size: int, what: str) -> list[int]:
    """Points of a list value, expanding FF[4] rectangles ``aa:cc``."""
    out = []
    for v in values:
        v = v.strip()
        try:
            if ":" in v:
                a, b = v.split(":", 1)
                pa = coords.from_sgf(a, size, allow_tt_pass=False)
                pb = coords.from_sgf(b, size, allow_tt_pass=False)
                if pa == size * size or pb == size * size:
                    raise ValueError("empty corner")
                (r0, c0), (r1, c1) = divmod(pa, size), divmod(pb, size)
                out.extend(r * size + c for r in range(min(r0, r1), max(r0, r1) + 1)
                           for c in range(min(c0, c1), max(c0, c1) + 1))
            else:
                p = coords.from_sgf(v, size, allow_tt_pass=False)
                if p == size * size:
                    raise ValueError("empty point")
                out.append(p)
        except ValueError as err:
            raise ValueError(f"SGF {what}[{v}] is not a point on the {size}x{size} board ({err})") from None
    return out


def _colour(value: str, what: str) -> int:
    v = value.strip().upper()
    if v in ("B", "BLACK", "1"):
        return 0
    if v in ("W", "WHITE", "2"):
        return 1
    raise ValueError(f"SGF {what}[{value}] is not a colour (B or W)")


def read_sgf(text: str, alternate: bool = True) -> SgfGame:
    """Read a Go game or position from SGF text (main line of the first game tree). With ``alternate``
    (the default) the moves must alternate in colour; without, a colour may move twice in a row (GTP
    ``loadsgf`` replays such records, as GTP ``play`` allows them)."""
    nodes = parse_sgf(text)
    root = nodes[0]
    gm = _one(root, "GM")
    if gm is not None and gm.strip() not in ("1", ""):
        raise ValueError(f"SGF game type GM[{gm}] is not Go (GM[1])")
    sz = _one(root, "SZ", "19").strip()
    parts = sz.split(":")
    try:
        dims = [int(x) for x in parts]
    except ValueError:
        raise ValueError(f"SGF board size SZ[{sz}] is not a number") from None
    if len(dims) == 2 and dims[0] != dims[1]:
        raise ValueError(f"SGF board size SZ[{sz}] is not square (only square boards are supported)")
    size = dims[0]
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"SGF board size {size} is not supported (sizes {MIN_SIZE} to {MAX_SIZE})")
    game = SgfGame(size=size, properties={k: list(v) for k, v in root.items()})
    km = _one(root, "KM")
    if km is not None and km.strip():
        try:
            game.komi = float(km.strip())
        except ValueError:
            raise ValueError(f"SGF komi KM[{km}] is not a number") from None
    ha = _one(root, "HA")
    if ha is not None and ha.strip():
        try:
            game.handicap = int(float(ha.strip()))
        except ValueError:
            raise ValueError(f"SGF handicap HA[{ha}] is not a number") from None
    game.black, game.white = _one(root, "PB", ""), _one(root, "PW", "")
    game.result, game.date, game.rules = _one(root, "RE", ""), _one(root, "DT", ""), _one(root, "RU", "")

    cells: dict[int, int] = {}
    to_play: int | None = None
    comments_before: list[str] = []
    for index, node in enumerate(nodes):
        has_move = "B" in node or "W" in node
        if "B" in node and "W" in node:
            raise ValueError(f"SGF node {index + 1} has both a black and a white move")
        for key in SETUP_PROPERTIES:
            if key in node:
                if game.moves:
                    raise ValueError(f"SGF setup stones {key} after move {len(game.moves)} (node {index + 1}) are "
                                     "not supported: setup must come before the first move")
                for p in _points(node[key], size, key):
                    if key == "AE":
                        cells.pop(p, None)
                    else:
                        cells[p] = 0 if key == "AB" else 1
        if "PL" in node:
            if game.moves:
                raise ValueError(f"SGF PL after move {len(game.moves)} (node {index + 1}) is not supported")
            to_play = _colour(node["PL"][0], "PL")
        comment = _one(node, "C", "")
        if has_move:
            colour = 0 if "B" in node else 1
            value = node["B" if colour == 0 else "W"][0]
            try:
                action = coords.from_sgf(value, size)
            except ValueError:
                raise ValueError(f"SGF move {len(game.moves) + 1} {'BW'[colour]}[{value}] is not a point on the "
                                 f"{size}x{size} board") from None
            game.moves.append((colour, action))
            game.comments.append(comment)
        elif comment:
            comments_before.append(comment)
    game.game_comment = "\n".join(comments_before)
    game.setup_black = sorted(p for p, c in cells.items() if c == 0)
    game.setup_white = sorted(p for p, c in cells.items() if c == 1)
    if to_play is None:
        if game.moves:
            to_play = game.moves[0][0]
        elif game.setup_black and not game.setup_white and game.handicap >= 2:
            to_play = 1  # handicap stones: White moves first
        else:
            to_play = 0
    game.to_play = to_play
    expected = to_play
    for i, (colour, action) in enumerate(game.moves):
        if colour != expected and alternate:
            raise ValueError(f"SGF move {i + 1} is {'BW'[colour]}[{coords.to_sgf(action, size)}] but "
                             f"{'Black' if expected == 0 else 'White'} is to play (moves must alternate)")
        expected = 1 - expected
    return game


@dataclass
class LoadedGame:
    """An SGF game replayed through the rules: ``states[k]`` is the position after ``k`` moves."""

    game: object  # games.go.Go
    states: list[np.ndarray]
    sgf: SgfGame

    @property
    def state(self) -> np.ndarray:
        return self.states[-1]

    @property
    def actions(self) -> list[int]:
        return self.sgf.actions[: len(self.states) - 1]


def load_sgf(text: str, move_number: int | None = None, default_komi: float = 7.5,
             ko_rule: str = "positional", max_moves: int | None = None) -> LoadedGame:
    """Read SGF and replay its main line through the rules (every move checked), up to ``move_number``
    moves (all by default). Komi comes from ``KM``, else ``default_komi``. An illegal or out-of-turn move
    raises ``ValueError`` naming the move."""
    sgf = read_sgf(text)
    if move_number is not None and (isinstance(move_number, bool) or not 0 <= int(move_number)):
        raise ValueError(f"move number must be >= 0, got {move_number!r}")
    komi = sgf.komi if sgf.komi is not None else default_komi
    # by name from the registry: games.go.game imports this module to write and read its records
    game = make("go", size=sgf.size, komi=komi, ko_rule=ko_rule, max_moves=max_moves)
    if len(sgf.moves) > game.max_game_length:
        raise ValueError(f"the SGF game has {len(sgf.moves)} moves, more than the maximum length "
                         f"{game.max_game_length} of a {sgf.size}x{sgf.size} game")
    if sgf.has_setup:
        state = game.setup_state(sgf.setup_black, sgf.setup_white, to_play=sgf.to_play)
    else:
        state = game.initial_state()
    states = [state]
    moves = sgf.moves if move_number is None else sgf.moves[: int(move_number)]
    for i, (colour, action) in enumerate(moves):
        name = f"SGF move {i + 1} {'BW'[colour]}[{coords.to_sgf(action, sgf.size)}] ({coords.to_gtp(action, sgf.size)})"
        if game.is_terminal(state):
            raise ValueError(f"{name} comes after the game ended")
        why = game.move_status(state, action)
        if why is not None:
            raise ValueError(f"{name} is illegal: {why}")
        state = game.apply(state, action)
        states.append(state)
    return LoadedGame(game, states, sgf)


# ----------------------------------------------------------------------------------------- writing
def escape(text: str) -> str:
    """An SGF Text value: backslash before ``]`` and ``\\``."""
    return str(text).replace("\\", "\\\\").replace("]", "\\]")


def _simple(text: str) -> str:
    return escape(" ".join(str(text).split()))


def format_comment(comment) -> str:
    """A move comment: text as is; a dict of search statistics as ``key: value`` lines."""
    if comment is None:
        return ""
    if isinstance(comment, dict):
        lines = []
        for k, v in comment.items():
            if isinstance(v, float):
                v = f"{v:.4g}"
            elif isinstance(v, (list, tuple)):
                v = " ".join(f"{x:.4g}" if isinstance(x, float) else str(x) for x in v)
            lines.append(f"{k}: {v}")
        return "\n".join(lines)
    return str(comment)


def write_sgf(size: int, komi: float, moves: Iterable, *, black: str = "", white: str = "", result: str = "",
              date: str | None = None, rules: str = "Chinese", comments: Sequence | None = None,
              setup_black: Iterable[int] = (), setup_white: Iterable[int] = (), to_play: int | None = None,
              handicap: int = 0, game_comment: str = "", application: str = "rlengine",
              extra: dict[str, str] | None = None) -> str:
    """An SGF FF[4] record of a Go game.

    ``moves`` are actions (colours alternate from ``to_play``, Black by default) or ``(colour, action)``
    pairs; pass is ``size * size``. ``comments[i]`` (text, or a dict of search statistics) goes with move
    ``i``. ``result`` is written as given (``B+3.5``, ``W+R``, ``0``); ``date`` defaults to today.
    """
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise ValueError(f"board size {size} is not supported (sizes {MIN_SIZE} to {MAX_SIZE})")
    size = int(size)
    first = 0 if to_play is None else int(to_play)
    root = [("FF", "4"), ("GM", "1"), ("CA", "UTF-8"), ("AP", _simple(application)), ("SZ", str(size)),
            ("KM", f"{float(komi):g}"), ("RU", _simple(rules))]
    if handicap:
        root.append(("HA", str(int(handicap))))
    if black:
        root.append(("PB", _simple(black)))
    if white:
        root.append(("PW", _simple(white)))
    if result:
        root.append(("RE", _simple(result)))
    root.append(("DT", _simple(date if date is not None else _dt.date.today().isoformat())))
    for key, value in (extra or {}).items():
        if not key.isalpha() or not key.isupper():
            raise ValueError(f"SGF property name {key!r} must be capital letters")
        root.append((key, escape(value)))
    if game_comment:
        root.append(("GC", escape(game_comment)))
    out = ["(;" + "".join(f"{k}[{v}]" for k, v in root)]
    setup = ""
    for key, points in (("AB", setup_black), ("AW", setup_white)):
        pts = [coords.to_sgf(int(p), size) for p in points]
        if any(p == "" for p in pts):
            raise ValueError(f"setup stones {key} must be points, not pass")
        if pts:
            setup += key + "".join(f"[{p}]" for p in pts)
    if to_play is not None and (setup or first == 1):
        setup += f"PL[{'BW'[first]}]"
    if setup:
        out.append(setup)
    colour = first
    line = []
    comments = list(comments or [])
    for i, m in enumerate(moves):
        if isinstance(m, tuple):
            colour, action = int(m[0]), int(m[1])
        else:
            action = int(m)
        if not 0 <= action <= size * size:
            raise ValueError(f"move {i + 1}: action {action} is off the {size}x{size} board")
        node = f";{'BW'[colour]}[{coords.to_sgf(action, size)}]"
        text = format_comment(comments[i]) if i < len(comments) else ""
        if text:
            node += f"C[{escape(text)}]"
        line.append(node)
        if text or len(line) == 10:
            out.append("".join(line))
            line = []
        colour = 1 - colour
    if line:
        out.append("".join(line))
    return "\n".join(out) + ")\n"
