"""The Go facade: ``games.make("go", size=9, komi=7.5)`` over the Numba rules of ``games.go.rules``.

Moves are written as GTP vertices (``D4``), SGF points (``dd``) or ``pass``; the action of a point is
``row * N + col`` with row 0 at the top and pass is the last action ``N * N``. Positions can be built
from setup stones (``setup_state``) or an ASCII board (``state_from_board``); ``score`` is the
Tromp-Taylor score (Black minus White, komi included).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..base import ONGOING, Game, IllegalMove, dihedral, dihedral_policy
from . import coords, rules
from . import territory as _territory
from .features import FEATURES, KATA_PLANES, KATA_RULES
from .ownership import dead_stones as _dead_stones
from .ownership import ownership as _ownership
from .rules import (
    BLACK,
    EMPTY,
    H_CAPT_B,
    H_CAPT_W,
    H_FIRST,
    H_FRAME,
    H_KO,
    H_LAST,
    H_OUTCOME,
    H_PASSES,
    H_PLY,
    H_SCORE2,
    HISTORY,
    KO_RULES,
    MAX_SIZE,
    MIN_SIZE,
    NUM_PLANES,
    P_BITS,
    P_BOARD,
    P_WORDS,
    RULES,
    WHITE,
)
from .sgf import load_sgf, write_sgf

COLOUR_NAMES = ("Black", "White")
_STONE_CHARS = {EMPTY: ".", BLACK: "X", WHITE: "O"}
_WHY = {
    rules.OCCUPIED: "the point is occupied",
    rules.SUICIDE: "suicide (the stone would have no liberties and captures nothing)",
    rules.KO: "ko (the stone just captured may not be retaken at once)",
    rules.SUPERKO: "superko (the move would repeat an earlier board position)",
}


def parse_colour(colour) -> int:
    """0 for Black, 1 for White from ``"B"``, ``"black"``, ``"w"``, 0, 1 ..."""
    if isinstance(colour, (int, np.integer)) and not isinstance(colour, bool) and int(colour) in (0, 1):
        return int(colour)
    t = str(colour).strip().lower()
    if t in ("b", "black", "x"):
        return 0
    if t in ("w", "white", "o"):
        return 1
    raise ValueError(f"{colour!r} is not a colour (write B or W)")


def star_points(size: int) -> set[int]:
    """Hoshi drawn by ``render``: 3-3/4-4 points and the centre (the usual diagrams)."""
    if size < 7:
        return set()
    edge = 2 if size < 13 else 3
    lines = [edge, size - 1 - edge]
    if size % 2 == 1 and size >= 9:
        lines.insert(1, size // 2)
    pts = {r * size + c for r in lines for c in lines}
    if size % 2 == 1 and size < 13 and size >= 9:  # 9x9: corners and centre only
        mid = size // 2
        pts = {r * size + c for r in (edge, size - 1 - edge) for c in (edge, size - 1 - edge)} | {mid * size + mid}
    return pts


class Go(Game):
    """Go on an N x N board (5 to 19) with Tromp-Taylor area scoring and positional superko."""

    rules = RULES
    player_names = ("Black", "White")
    num_symmetries = 8
    record_format = "sgf"

    has_ownership = True

    def __init__(self, size: int = 9, komi: float = 7.5, ko_rule: str = "positional", max_moves: int | None = None,
                 features: str = "basic"):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"go size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
        try:
            komi_f = float(komi)
        except (TypeError, ValueError):
            raise ValueError(f"go komi must be a number, got {komi!r}") from None
        if not np.isfinite(komi_f) or komi_f * 2 != round(komi_f * 2) or abs(komi_f) > 1000:
            raise ValueError(f"go komi must be a multiple of 0.5 (like 7.5 or 6), got {komi!r}")
        if ko_rule not in KO_RULES:
            raise ValueError(f"go ko_rule must be one of {', '.join(KO_RULES)}, got {ko_rule!r}")
        if features not in FEATURES:
            raise ValueError(f"go features must be one of {', '.join(FEATURES)}, got {features!r}")
        size = int(size)
        if max_moves is None:
            max_moves = 2 * size * size
        if isinstance(max_moves, bool) or not isinstance(max_moves, (int, np.integer)) \
                or not 1 <= max_moves <= 10 * size * size:
            raise ValueError(f"go max_moves must be an integer from 1 to {10 * size * size}, got {max_moves!r}")
        self.size = size
        self.komi = komi_f
        self.ko_rule = ko_rule
        self.params = rules.make_params(size, int(round(komi_f * 2)), KO_RULES[ko_rule], int(max_moves))
        self.num_actions = size * size + 1
        self.pass_action = size * size
        # ``kata``: KataGo's liberty, ko and komi planes after the 17 basic ones (``games.go.features``)
        self.features = features
        if features == "kata":
            self.rules = KATA_RULES
        self.plane_shape = (KATA_PLANES if features == "kata" else NUM_PLANES, size, size)
        self.max_game_length = int(max_moves)
        # AlphaGo Zero used 0.03 on 19x19; scaled inversely with the number of points (about 10 / legal moves)
        self.dirichlet_alpha = 0.03 * 361 / (size * size)
        self.name = f"go{size}"
        self._frames = None

    def describe(self) -> dict:
        return {**super().describe(), "size": self.size, "komi": self.komi, "ko_rule": self.ko_rule,
                "features": self.features,
                "rules": "Tromp-Taylor area scoring, suicide illegal, " + f"{self.ko_rule} " +
                         ("superko" if self.ko_rule != "simple" else "ko")}

    def with_komi(self, komi: float) -> Go:
        """The same board and rules with another komi: states stay valid (komi only enters the score), and
        a game that is already over keeps the result it ended with."""
        return Go(self.size, komi, self.ko_rule, self.max_game_length, self.features)

    def playout_evaluator(self, playouts: int = 1, seed: int | None = 0):
        """Pure Monte-Carlo evaluator with Go's playout policy (``games.go.playout``; used by ``mcts:N``)."""
        from .playout import PlayoutEvaluator

        return PlayoutEvaluator(self, playouts, seed)

    def adjudicate(self, state) -> int:
        """The result (+1 / 0 / -1 for Black) of a game stopped before its end: Tromp-Taylor as it stands."""
        s = self.score(state)
        return 1 if s > 0 else (-1 if s < 0 else 0)

    # ----------------------------------------------------------------------------- state fields
    def board(self, state: np.ndarray) -> np.ndarray:
        """Cells ``int8[N, N]`` (row 0 at the top): 0 empty, 1 black, 2 white."""
        o = int(self.params[P_BOARD])
        return state[o: o + self.size * self.size].astype(np.int8).reshape(self.size, self.size)

    def board_rows(self, state: np.ndarray) -> list[str]:
        """The board as strings, top row first: ``X`` black, ``O`` white, ``.`` empty."""
        return ["".join(_STONE_CHARS[int(v)] for v in row) for row in self.board(state)]

    def moves_played(self, state) -> int:
        return int(state[H_PLY])

    def passes(self, state) -> int:
        """Consecutive passes at the end of the game so far."""
        return int(state[H_PASSES])

    def captures(self, state) -> tuple[int, int]:
        """Prisoners: (stones captured by Black, stones captured by White)."""
        return int(state[H_CAPT_B]), int(state[H_CAPT_W])

    def ko_point(self, state) -> int | None:
        """The point of a simple ko the player to move may not retake at once, or ``None``."""
        k = int(state[H_KO])
        return None if k < 0 else k

    def last_move(self, state) -> int | None:
        k = int(state[H_LAST])
        return None if k < 0 else k

    def first_player(self, state) -> int:
        """Colour to move at the start position (White after handicap stones)."""
        return int(state[H_FIRST])

    # ----------------------------------------------------------------------------- scoring
    def area(self, state) -> tuple[int, int]:
        """Tromp-Taylor area (Black, White): stones plus empty regions that reach only that colour."""
        b, w = rules.area(self.params, state)
        return int(b), int(w)

    def area_score(self, state) -> int:
        """Black's area minus White's, without komi."""
        b, w = self.area(state)
        return b - w

    def score(self, state) -> float:
        """Tromp-Taylor score, Black minus White, this game's komi included (every stone counts as alive).

        Computed from the board, so it follows ``with_komi``; the outcome kept in a finished state is the
        one of the komi the game was played under (``final_score2``)."""
        return int(rules.score2(self.params, state)) / 2

    def final_score2(self, state) -> int | None:
        """Twice the score stored when the game ended (the komi it was played under), ``None`` if ongoing."""
        return None if int(state[H_OUTCOME]) == ONGOING else int(state[H_SCORE2])

    def result_string(self, state) -> str:
        """``B+3.5``, ``W+0.5`` or ``0`` (a draw): the SGF ``RE`` and GTP ``final_score`` form."""
        return format_score(self.score(state))

    def describe_result(self, state) -> str:
        r = self.result(state)
        if r == 0:
            return "draw (0)"
        return f"{self.player_names[0 if r > 0 else 1]} wins ({self.result_string(state)})"

    def ownership(self, state) -> np.ndarray:
        """Tromp-Taylor ownership ``float32[N, N]`` of each point (+1 Black, -1 White, 0 neutral: dame and seki
        liberties), every stone counted alive: KataGo's ownership target when ``state`` is a finished game."""
        out = np.empty(self.size * self.size, np.float32)
        _ownership(self.params, np.array(state, copy=True), out)  # the kernel marks the board in place a moment
        return out.reshape(self.size, self.size)

    def score_margin(self, state) -> float:
        """Black's final lead in points (komi included): the score stored when the game ended, else the
        Tromp-Taylor score as the board stands (KataGo's score target)."""
        final = self.final_score2(state)
        return self.score(state) if final is None else final / 2

    def dead_stones(self, state, ownership: np.ndarray, threshold: float = 0.0) -> list[int]:
        """The points of the stones that ``ownership`` (``[N, N]``, Black's view: a network's estimate) gives to the
        other colour, as actions (GTP ``final_status_list dead``)."""
        return [int(p) for p in np.flatnonzero(_dead_stones(self.board(state), ownership, threshold))]

    def territory(self, state) -> np.ndarray:
        """Ownership estimate ``int8[N, N]`` for display (+1 Black, -1 White, 0 neutral): Bouzy 5/21."""
        return _territory.estimate(self.board(state))

    def estimated_score(self, state) -> float:
        """Black minus White by the territory estimate, komi included (display only)."""
        return float(self.territory(state).sum()) - self.komi

    # ----------------------------------------------------------------------------- notation
    def parse_move(self, state, text):
        action = coords.parse_point(text, self.size)
        name = coords.to_gtp(action, self.size)
        if self.is_terminal(state):
            raise IllegalMove(f"move {name} after the game is over")
        if action != self.pass_action:
            why = int(rules.move_status(self.params, state, action, self.to_play(state)))
            if why != rules.LEGAL:
                raise IllegalMove(f"move {name} is illegal: {_WHY[why]}")
        return action

    def format_move(self, state, action):
        return coords.to_gtp(int(action), self.size)

    def format_sgf(self, action) -> str:
        return coords.to_sgf(int(action), self.size)

    def parse_position(self, text: str) -> np.ndarray:
        """A position from a move list (GTP or SGF points, ``pass``) or from SGF text (``(;SZ[9]AB[..];B[..])``,
        setup and main line replayed; its board size must be this game's, its komi is not used)."""
        t = str(text).strip()
        if t.startswith("("):
            try:
                loaded = load_sgf(t, ko_rule=self.ko_rule, max_moves=self.max_game_length)
            except ValueError as err:
                raise IllegalMove(f"position: {err}") from None
            if loaded.game.size != self.size:
                raise IllegalMove(f"position: the SGF board is {loaded.game.size}x{loaded.game.size}, "
                                  f"not {self.size}x{self.size}")
            return loaded.state
        return self.play_moves(t)

    def point(self, text: str | int) -> int:
        """Action of a point given as GTP, SGF, ``pass`` or an action index (no legality check)."""
        if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
            if not 0 <= int(text) <= self.pass_action:
                raise IllegalMove(f"action {text} is off the {self.size}x{self.size} board")
            return int(text)
        return coords.parse_point(text, self.size)

    def _why_illegal(self, state, action):
        if action == self.pass_action:
            return "pass is always legal"
        return _WHY.get(int(rules.move_status(self.params, state, action, self.to_play(state))), "legal")

    def move_status(self, state, action: int, colour=None) -> str | None:
        """Why ``colour`` (default: the player to move) may not play ``action``, or ``None`` if legal."""
        c = self.to_play(state) if colour is None else parse_colour(colour)
        if action == self.pass_action:
            return None
        why = int(rules.move_status(self.params, state, int(action), c))
        return None if why == rules.LEGAL else _WHY[why]

    # ----------------------------------------------------------------------------- positions
    def _from_cells(self, cells: np.ndarray, to_play: int, remove_libertyless: bool) -> np.ndarray:
        state = self.initial_state()
        o = int(self.params[P_BOARD])
        state[o: o + self.size * self.size] = cells.ravel()
        state[H_FIRST] = to_play
        dead = int(rules.rebuild(self.params, state))
        if dead:
            if not remove_libertyless:
                bad = [coords.to_gtp(p, self.size) for p in range(self.size * self.size)
                       if cells.ravel()[p] != EMPTY and self._libertyless(state, p)]
                raise ValueError(f"invalid Go position: {dead} group(s) without liberties (stones at "
                                 f"{', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''})")
            rules.remove_libertyless(self.params, state)
        rules.sync_current(self.params, state)
        return state

    def _libertyless(self, state, p) -> bool:
        g = int(state[int(self.params[rules.P_GROUP]) + p])
        return int(state[int(self.params[rules.P_LIBS]) + g]) == 0

    def setup_state(self, black: Iterable = (), white: Iterable = (), to_play="B",
                    remove_libertyless: bool = False) -> np.ndarray:
        """A start position with the given stones (GTP/SGF names or actions) and player to move.

        A group without liberties makes the position invalid (``ValueError``) unless
        ``remove_libertyless`` takes such groups off, as gomill's ``apply_setup`` does.
        """
        cells = np.zeros(self.size * self.size, dtype=np.int16)
        for colour, points in ((BLACK, black), (WHITE, white)):
            for pt in points:
                p = self.point(pt)
                if p == self.pass_action:
                    raise ValueError(f"setup stone {pt!r} is not a point")
                if cells[p] != EMPTY:
                    raise ValueError(f"setup stone {coords.to_gtp(p, self.size)} is given twice")
                cells[p] = colour
        return self._from_cells(cells, parse_colour(to_play), remove_libertyless)

    def state_from_board(self, rows: Sequence[str] | str, to_play="B", remove_libertyless: bool = False):
        """A start position from ASCII rows, top row first: ``X``/``x``/``#`` black, ``O``/``o`` white,
        ``.``/``+``/``-`` empty (spaces between points are ignored)."""
        if isinstance(rows, str):
            rows = [r for r in rows.strip().splitlines() if r.strip()]
        rows = ["".join(str(r).split()) for r in rows]
        if len(rows) != self.size or any(len(r) != self.size for r in rows):
            raise ValueError(f"a {self.size}x{self.size} board needs {self.size} rows of {self.size} points, got "
                             f"{len(rows)} rows of lengths {sorted({len(r) for r in rows})}")
        table = {"X": BLACK, "x": BLACK, "#": BLACK, "B": BLACK, "O": WHITE, "o": WHITE, "W": WHITE,
                 ".": EMPTY, "+": EMPTY, "-": EMPTY}
        cells = np.zeros((self.size, self.size), dtype=np.int16)
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                if ch not in table:
                    raise ValueError(f"board row {r + 1} has {ch!r}: use X (black), O (white) and . (empty)")
                cells[r, c] = table[ch]
        return self._from_cells(cells, parse_colour(to_play), remove_libertyless)

    def place(self, state, point, colour) -> np.ndarray:
        """A copy of the position with a stone of ``colour`` put on ``point``: captures and self-capture
        apply, no legality check, no move recorded (board editing, as in gomill's ``Board.play``)."""
        p = self.point(point)
        if p == self.pass_action:
            raise IllegalMove("cannot place a stone on pass")
        if self.board(state).ravel()[p] != EMPTY:
            raise IllegalMove(f"cannot place a stone on {coords.to_gtp(p, self.size)}: the point is occupied")
        out = state.copy()
        rules.place(self.params, out, p, parse_colour(colour))
        return out

    def force_move(self, state, action) -> np.ndarray:
        """Play ``action`` for the player to move without the suicide and ko checks (recorded as a move;
        a suicide removes the own group, Tromp-Taylor style). The point must be empty."""
        a = self.point(action)
        if self.is_terminal(state):
            raise IllegalMove(f"move {coords.to_gtp(a, self.size)} after the game is over")
        if a != self.pass_action and self.board(state).ravel()[a] != EMPTY:
            raise IllegalMove(f"move {coords.to_gtp(a, self.size)} is illegal: the point is occupied")
        out = state.copy()
        self.rules.apply(self.params, out, a)
        return out

    # ----------------------------------------------------------------------------- records
    def to_sgf(self, actions: Iterable[int], start: np.ndarray | None = None, **meta) -> str:
        """SGF of a game played from ``start`` (the empty board by default) by ``actions``; ``meta`` goes to
        ``games.go.sgf.write_sgf`` (``black``, ``white``, ``result``, ``comments`` ...). A finished game
        gets its Tromp-Taylor result unless ``result`` is given."""
        actions = [int(a) for a in actions]
        black, white, to_play = (), (), None
        if start is not None:
            cells = self.board(start).ravel()
            black, white = np.flatnonzero(cells == BLACK), np.flatnonzero(cells == WHITE)
            to_play = self.to_play(start) if (len(black) or len(white) or self.to_play(start)) else None
        if "result" not in meta:
            state = self.initial_state() if start is None else start
            for a in actions:
                state = self.apply(state, a)
            meta["result"] = self.result_string(state) if self.is_terminal(state) else ""
        return write_sgf(self.size, self.komi, actions, setup_black=black, setup_white=white, to_play=to_play,
                         **meta)

    record_extension = ".sgf"

    def format_record(self, actions, tags: dict | None = None, start: np.ndarray | None = None) -> str:
        """The game as SGF (``engine.arena --save``). Generic record tags map to SGF ones: the player of the
        first move (``first``, usually Black) and ``second`` -> PB / PW; ``result`` (+1 / 0 / -1 for Black)
        -> RE: the Tromp-Taylor result of a finished game or of one stopped at ``max_moves``, ``B+R`` / ``W+R``
        for a resignation, ``Void`` otherwise; the other tags go to the game comment GC."""
        tags = dict(tags or {})
        state = self.initial_state() if start is None else start
        for a in actions:
            state = self.apply(state, int(a))
        first_colour = self.to_play(self.initial_state() if start is None else start)
        names = {first_colour: str(tags.pop("first", "")), 1 - first_colour: str(tags.pop("second", ""))}
        outcome = tags.pop("result", None)
        ended_by = tags.get("ended by")
        if self.is_terminal(state):
            result = self.result_string(state)
        elif ended_by == "resign" and outcome in (1, -1):
            result = "B+R" if outcome == 1 else "W+R"
        elif ended_by == "max_moves":
            result = self.result_string(state)  # stopped early: scored as it stands (``adjudicate``)
        else:
            result = "Void"
        comment = "\n".join(f"{k}: {v}" for k, v in tags.items())
        return self.to_sgf(actions, start=start, black=names[0], white=names[1], result=result,
                           game_comment=comment)

    # ----------------------------------------------------------------------------- display
    def render(self, state, territory: bool = False) -> str:
        """Text board with GTP coordinates on all four sides; the last move is bracketed. With
        ``territory`` the estimated territory is drawn as ``x`` / ``o`` on empty points."""
        n = self.size
        board = self.board(state)
        last = self.last_move(state)
        stars = star_points(n)
        own = self.territory(state) if territory else None
        letters = "   " + " ".join(coords.GTP_COLUMNS[:n])
        lines = [letters]
        for r in range(n):
            cells = []
            for c in range(n):
                v = int(board[r, c])
                ch = _STONE_CHARS[v]
                if v == EMPTY:
                    if own is not None and own[r, c] != 0:
                        ch = "x" if own[r, c] > 0 else "o"
                    elif r * n + c in stars:
                        ch = "+"
                cells.append(ch)
            sep = [" "] * (n + 1)  # sep[c] is written before cell c, sep[n] after the last cell
            if last is not None and last != self.pass_action and last // n == r:
                sep[last % n], sep[last % n + 1] = "(", ")"
            body = "".join(sep[c] + cells[c] for c in range(n)) + sep[n]
            lines.append(f"{n - r:2d}{body}{n - r}")
        lines.append(letters)
        cb, cw = self.captures(state)
        if self.is_terminal(state):
            status = f"game over: {self.describe_result(state)}"
        else:
            status = f"{COLOUR_NAMES[self.to_play(state)]} to move"
        last_txt = ""
        if last is not None:
            last_txt = f", last {COLOUR_NAMES[1 - self.to_play(state)]} {self.format_move(state, last)}"
        lines.append(f"move {self.moves_played(state)}{last_txt}; {status}; captures B {cb} W {cw}; "
                     f"komi {self.komi:g}")
        return "\n".join(lines)

    # ----------------------------------------------------------------------------- symmetries
    def transform_planes(self, planes, k):
        return dihedral(planes, k)

    def transform_policy(self, policy, k):
        return dihedral_policy(policy, k, self.size, self.size)

    def _slots(self, state) -> np.ndarray:
        """The planes history as ``int16[8 slots, 2 colours, W words]`` (a view)."""
        words = int(self.params[P_WORDS])
        o = int(self.params[P_BITS])
        return state[o: o + HISTORY * 2 * words].reshape(HISTORY, 2, words)

    def _unpack_slot(self, state, slot) -> np.ndarray:
        n = self.size
        as_bytes = self._slots(state)[slot].astype("<u2").view(np.uint8).reshape(2, -1)
        return np.unpackbits(as_bytes, axis=1, bitorder="little")[:, : n * n].astype(bool).reshape(2, n, n)

    def _pack_slot(self, state, slot, planes: np.ndarray) -> None:
        n, words = self.size, int(self.params[P_WORDS])
        flat = np.zeros((2, words * 16), dtype=np.uint8)
        flat[:, : n * n] = planes.reshape(2, n * n)
        self._slots(state)[slot] = np.packbits(flat, axis=1, bitorder="little").view("<u2").astype(np.int16)

    def hash_history(self, state) -> np.ndarray:
        """Zobrist hashes ``int64[ply + 1]`` of the board after each ply (entry 0: the start board)."""
        o = int(self.params[rules.P_HASH])
        lanes = state[o: o + 4 * (self.moves_played(state) + 1)].astype(np.int64).reshape(-1, 4) & 0xFFFF
        return (lanes[:, 0] | lanes[:, 1] << 16 | lanes[:, 2] << 32 | lanes[:, 3] << 48).astype(np.int64)

    def transform_state(self, state, k):
        """Symmetry ``k`` of a position: board, groups, ko point, last move and the planes history are
        moved; the superko hashes stay valid because the Zobrist keys follow the symmetry (a frame)."""
        if not 0 <= k < 8:
            raise ValueError(f"go has symmetries 0..7, not {k}")
        if k == 0:
            return state.copy()
        n = self.size
        if self._frames is None:
            self._frames = (rules.compose_frames(n), rules.dihedral_sources(n))
        compose, src = self._frames
        dest = np.argsort(src[k])  # dest[p]: where symmetry k moves point p
        out = state.copy()
        o = int(self.params[P_BOARD])
        out[o: o + n * n] = dihedral(state[o: o + n * n].reshape(n, n), k).ravel()
        rules.rebuild(self.params, out)
        for slot in range(HISTORY):
            self._pack_slot(out, slot, dihedral(self._unpack_slot(state, slot), k))
        for field in (H_KO, H_LAST):
            v = int(state[field])
            if 0 <= v < n * n:
                out[field] = dest[v]
        out[H_FRAME] = compose[k, int(state[H_FRAME])]
        return out


def format_score(score: float) -> str:
    """``B+3.5`` / ``W+0.5`` / ``0`` for a Black-minus-White score."""
    if score == 0:
        return "0"
    return f"{'B' if score > 0 else 'W'}+{abs(score):g}"
