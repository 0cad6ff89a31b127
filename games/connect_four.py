"""Connect Four on any board (7 wide, 6 high by default), four in a row wins.

A move is a column number from 1 (``4`` is the centre of the 7-wide board); a position can be given as
a string of such digits from the empty board, as in Pascal Pons' benchmark files (``"4453"``). The action
of a move is its column index (0-based).

State (``int16``), for width ``W`` and height ``H``:
``[0, W*H)`` cells column by column from the bottom (``c * H + r``; 0 empty, 1 first player, 2 second),
``[W*H, W*H+W)`` column heights, then the number of moves played and the outcome (``ONGOING`` or
+1 / 0 / -1 from the first player's view), both updated by ``apply``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import ONGOING, Game, IllegalMove, Rules

CONNECT = 4


@njit(cache=True)
def _layout(params):
    w, h = params[0], params[1]
    return w, h, w * h, w * h + w, w * h + w + 1  # width, height, heights offset, moves, outcome


@njit(cache=True)
def init_state(params):
    w, h, _, _, out_i = _layout(params)
    s = np.zeros(w * h + w + 2, dtype=np.int16)
    s[out_i] = ONGOING
    return s


@njit(cache=True)
def legal_mask(params, state, out):
    w, h, hoff, _, out_i = _layout(params)
    over = state[out_i] != ONGOING
    n = 0
    for c in range(w):
        ok = (not over) and state[hoff + c] < h
        out[c] = ok
        n += ok
    return n


@njit(cache=True)
def to_play(params, state):
    return state[params[0] * params[1] + params[0]] & 1


@njit(cache=True, _nrt=False)
def _run(state, w, h, c, r, dc, dr, stone):
    """Stones of ``stone`` in a row from (c, r) in direction (dc, dr), not counting (c, r)."""
    n = 0
    c += dc
    r += dr
    while 0 <= c < w and 0 <= r < h and state[c * h + r] == stone:
        n += 1
        c += dc
        r += dr
    return n


@njit(cache=True, _nrt=False)
def apply(params, state, action):
    w, h, hoff, mv, out_i = _layout(params)
    stone = (state[mv] & 1) + 1
    c = action
    r = state[hoff + c]
    state[c * h + r] = stone
    state[hoff + c] = r + 1
    state[mv] += 1
    if (_run(state, w, h, c, r, 0, -1, stone) >= CONNECT - 1
            or _run(state, w, h, c, r, 1, 0, stone) + _run(state, w, h, c, r, -1, 0, stone) >= CONNECT - 1
            or _run(state, w, h, c, r, 1, 1, stone) + _run(state, w, h, c, r, -1, -1, stone) >= CONNECT - 1
            or _run(state, w, h, c, r, 1, -1, stone) + _run(state, w, h, c, r, -1, 1, stone) >= CONNECT - 1):
        state[out_i] = 1 if stone == 1 else -1
    elif state[mv] == w * h:
        state[out_i] = 0


@njit(cache=True)
def outcome(params, state):
    return state[params[0] * params[1] + params[0] + 1]


@njit(cache=True)
def encode(params, state, out):
    """Planes (row 0 = top): the mover's discs, the opponent's discs, all ones when the first player moves."""
    w, h, _, mv, _ = _layout(params)
    me = (state[mv] & 1) + 1
    first = 1.0 if me == 1 else 0.0
    for c in range(w):
        for r in range(h):
            v = state[c * h + r]
            row = h - 1 - r
            out[0, row, c] = 1.0 if v == me else 0.0
            out[1, row, c] = 1.0 if (v != 0 and v != me) else 0.0
            out[2, row, c] = first


@njit(cache=True)
def state_hash(params, state):
    """Pascal Pons' key ``position + mask`` (exact) when the board fits 63 bits, else a 64-bit mix."""
    w, h, _, mv, _ = _layout(params)
    me = (state[mv] & 1) + 1
    if w * (h + 1) <= 63:
        mask = np.int64(0)
        pos = np.int64(0)
        for c in range(w):
            for r in range(h):
                v = state[c * h + r]
                if v != 0:
                    bit = np.int64(1) << (c * (h + 1) + r)
                    mask |= bit
                    if v == me:
                        pos |= bit
        return pos + mask
    x = np.uint64(1469598103934665603)
    for i in range(w * h):
        x = (x ^ np.uint64(state[i])) * np.uint64(1099511628211)
    return np.int64(x)


RULES = Rules(init_state, legal_mask, apply, outcome, to_play, encode, state_hash)


class ConnectFour(Game):
    name = "connect4"
    rules = RULES
    player_names = ("first player (X)", "second player (O)")
    num_symmetries = 2
    dirichlet_alpha = 1.0
    decisive_moves = True

    def __init__(self, width: int = 7, height: int = 6):
        for label, v in (("width", width), ("height", height)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 4 <= v <= 32:
                raise ValueError(f"connect4 {label} must be an integer from 4 to 32, got {v!r}")
        self.width, self.height = int(width), int(height)
        self.params = np.array([self.width, self.height], dtype=np.int64)
        self.num_actions = self.width
        self.plane_shape = (3, self.height, self.width)
        self.max_game_length = self.width * self.height
        if (self.width, self.height) != (7, 6):
            self.name = f"connect4-{self.width}x{self.height}"

    # state fields
    def heights(self, state):
        return state[self.width * self.height: self.width * self.height + self.width]

    def moves_played(self, state) -> int:
        return int(state[self.width * self.height + self.width])

    def parse_move(self, state, text):
        t = str(text).strip()
        if not t.isdigit() or not 1 <= int(t) <= self.width:
            raise IllegalMove(f"{text!r} is not a column (write a number from 1 to {self.width})")
        if self.is_terminal(state):
            raise IllegalMove(f"move {t} after the game is over")
        col = int(t) - 1
        if self.heights(state)[col] >= self.height:
            raise IllegalMove(f"move {t} is illegal: column {t} is full")
        return col

    def format_move(self, state, action):
        return str(int(action) + 1)

    def _why_illegal(self, state, action):
        return f"column {action + 1} is full"

    def parse_position(self, text):
        """Pons-style digits (``"4453"``) for widths up to 9, or space-separated column numbers."""
        t = str(text).strip()
        if " " not in t and self.width <= 9:
            if t and not t.isdigit():
                raise IllegalMove(f"{text!r} is not a Connect Four position (a string of column digits 1-{self.width})")
            return self.play_moves(list(t))
        return self.play_moves(t.split())

    def render(self, state):
        marks = {0: ".", 1: "X", 2: "O"}
        lines = []
        for r in range(self.height - 1, -1, -1):
            lines.append(" ".join(marks[int(state[c * self.height + r])] for c in range(self.width)))
        lines.append(" ".join(str((c + 1) % 10) for c in range(self.width)))
        return "\n".join(lines)

    def transform_planes(self, planes, k):
        if k == 0:
            return planes
        if k == 1:
            return np.ascontiguousarray(planes[..., ::-1])
        raise ValueError(f"connect4 has symmetries 0 and 1, not {k}")

    def transform_policy(self, policy, k):
        return self.transform_planes(policy, k)

    def transform_state(self, state, k):
        if k == 0:
            return state.copy()
        if k != 1:
            raise ValueError(f"connect4 has symmetries 0 and 1, not {k}")
        w, h = self.width, self.height
        out = state.copy()
        out[: w * h] = state[: w * h].reshape(w, h)[::-1].ravel()
        out[w * h: w * h + w] = state[w * h: w * h + w][::-1]
        return out
