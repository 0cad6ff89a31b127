"""Tic-tac-toe.

Squares are written like chess squares: column letter ``a``..``c`` then row ``1``..``3`` from the bottom.
The action of a square is its cell index ``h * 3 + w`` with ``h = 0`` the top row, the same layout as the
network planes, so board symmetries act on actions and planes alike.

State (``int8[11]``): cells 0..8 (0 empty, 1 X = first player, 2 O = second), ``[9]`` moves played,
``[10]`` outcome (``ONGOING`` or +1 / 0 / -1 from X's view), updated by ``apply``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import ONGOING, Game, IllegalMove, Rules, dihedral, dihedral_policy

N_CELLS = 9
MOVES = 9
OUTCOME = 10
STATE_SIZE = 11

_LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]], dtype=np.int64
)


@njit(cache=True)
def init_state(params):
    s = np.zeros(STATE_SIZE, dtype=np.int8)
    s[OUTCOME] = ONGOING
    return s


@njit(cache=True)
def legal_mask(params, state, out):
    n = 0
    over = state[OUTCOME] != ONGOING
    for i in range(N_CELLS):
        ok = (not over) and state[i] == 0
        out[i] = ok
        n += ok
    return n


@njit(cache=True)
def to_play(params, state):
    return state[MOVES] & 1


@njit(cache=True)
def apply(params, state, action):
    stone = (state[MOVES] & 1) + 1
    state[action] = stone
    state[MOVES] += 1
    for li in range(8):
        a, b, c = _LINES[li, 0], _LINES[li, 1], _LINES[li, 2]
        if (a == action or b == action or c == action) and state[a] == stone and state[b] == stone \
                and state[c] == stone:
            state[OUTCOME] = 1 if stone == 1 else -1
            return
    if state[MOVES] == N_CELLS:
        state[OUTCOME] = 0


@njit(cache=True)
def outcome(params, state):
    return state[OUTCOME]


@njit(cache=True)
def encode(params, state, out):
    """Planes: the mover's marks, the opponent's marks, all ones when X is to move."""
    me = (state[MOVES] & 1) + 1
    x_to_move = 1.0 if me == 1 else 0.0
    for i in range(N_CELLS):
        h, w = i // 3, i % 3
        v = state[i]
        out[0, h, w] = 1.0 if v == me else 0.0
        out[1, h, w] = 1.0 if (v != 0 and v != me) else 0.0
        out[2, h, w] = x_to_move


@njit(cache=True)
def state_hash(params, state):
    h = np.int64(0)
    for i in range(N_CELLS):
        h = h * 3 + state[i]
    return h


RULES = Rules(init_state, legal_mask, apply, outcome, to_play, encode, state_hash)


class TicTacToe(Game):
    name = "tictactoe"
    rules = RULES
    num_actions = N_CELLS
    plane_shape = (3, 3, 3)
    max_game_length = 9
    player_names = ("X", "O")
    num_symmetries = 8
    dirichlet_alpha = 1.0
    decisive_moves = True

    def __init__(self):
        self.params = np.zeros(1, dtype=np.int64)

    def parse_move(self, state, text):
        t = str(text).strip().lower()
        if len(t) != 2 or t[0] not in "abc" or t[1] not in "123":
            raise IllegalMove(f"{text!r} is not a tic-tac-toe square (write a1..c3: column a-c, row 1-3)")
        action = (3 - int(t[1])) * 3 + (ord(t[0]) - ord("a"))
        if self.is_terminal(state):
            raise IllegalMove(f"move {t} after the game is over")
        if state[action] != 0:
            raise IllegalMove(f"move {t} is illegal: square {t} is occupied")
        return action

    def format_move(self, state, action):
        action = int(action)
        return "abc"[action % 3] + str(3 - action // 3)

    def _why_illegal(self, state, action):
        return f"square {self.format_move(state, action)} is occupied"

    def render(self, state):
        marks = {0: ".", 1: "X", 2: "O"}
        rows = []
        for h in range(3):
            cells = " ".join(marks[int(state[h * 3 + w])] for w in range(3))
            rows.append(f"{3 - h} {cells}")
        rows.append("  a b c")
        return "\n".join(rows)

    def transform_planes(self, planes, k):
        return dihedral(planes, k)

    def transform_policy(self, policy, k):
        return dihedral_policy(policy, k, 3, 3)

    def transform_state(self, state, k):
        out = state.copy()
        out[:N_CELLS] = dihedral(state[:N_CELLS].reshape(3, 3), k).ravel()
        return out
