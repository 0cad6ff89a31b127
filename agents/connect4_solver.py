"""A strong (exact-score) Connect Four solver and the perfect player ``c4solver`` built on it.

The design follows Pascal Pons, *Solving Connect 4: how to build a perfect AI* (blog.gamesolver.org, 2019), on
top of the classic results (Allen and Allis, both in 1988, solved the 7x6 game: a first-player win):

* **Bitboards**: a position is two integers, ``mask`` (every stone) and ``position`` (the mover's stones), one bit
  per cell ``column * (height + 1) + row`` with a spare bit on top of each column, so a move is an addition
  (``mask + bottom``) and four-in-a-row tests are shifts. ``position + mask`` is a unique key (the one
  ``games.connect_four.state_hash`` returns), which needs ``width * (height + 1) <= 63``.
* **Score** (Pons' convention, from the mover's view): 0 for a draw; a win scores 22 minus the number of the
  winner's own stones at the win on the 7x6 board (``(cells + 1 - moves) // 2`` for a win on the next move,
  with ``cells = width * height`` in general); a loss is the negative of the opponent's win score.
* **Search**: negamax with alpha-beta pruning (Knuth and Moore 1975), only on *non-losing* moves (never leave the
  opponent an immediate win, never play under one), score bounds from the number of stones left, a
  transposition table of lower and upper bounds (one preallocated array, an entry per word, replaced on
  collision),
  moves tried by the number of winning cells they create (centre first among equals), and a driver that narrows
  ``[min, max]`` by null-window searches (a binary search on the score, probing 0 first, as in MTD(f), Plaat et
  al. 1996).

Everything that runs per node is Numba ``@njit(cache=True)`` over ``int64`` bitboards with no allocation
(move lists live in a scratch array indexed by ply). Positions with fewer than 14 plies left solve in well
under a millisecond (``python -m engine.bench c4solver``), positions after 8 to 10 plies in up to seconds, the
first few plies in minutes to hours: there is no opening book.

    solver = Connect4Solver(games.make("connect4"))
    solver.score("4453")                 # a state of the game API or a Pons move string
    solver.move_scores(state)            # int[width]: -score(child) per column, ILLEGAL where full
    solver.optimal_moves(state)          # the columns (0-based actions) of best score
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .base import Agent, Decision, MoveStat

ILLEGAL = -1000
"""``move_scores`` entry of a column that cannot be played (as in Pons' ``analyze``)."""

DEFAULT_TABLE_BITS = 23  # 8M entries (64 MB), as in Pons; early positions gain from more


# ------------------------------------------------------------------------------------ bitboard kernels
# ``work`` (int64) holds the geometry, the node counter and per-ply move lists, so that a recursive call passes
# two arrays: [width, height, cells, bottom mask, board mask, partial-key bits, nodes, unused, column order
# (centre first) ..., then (move, score) pairs, ``width`` per ply].
_W, _H, _CELLS, _BOTTOM, _BOARD, _KEY_BITS, _NODES, _ORDER = 0, 1, 2, 3, 4, 5, 6, 8
# ``tt`` (int64, a prime number of entries) packs an entry in one word, so a probe touches one cache line:
# ``partial key << 16 | (lower bound + 128) << 8 | (upper bound + 128)``. The slot is ``key % size``, and the
# partial key ``key mod 2**bits`` with ``size * 2**bits >= 2**(width * (height + 1))`` makes the pair unique
# (Chinese remainder theorem, as in Pons' solver). Empty slots hold -1, which no entry equals.
_EMPTY = -1


@njit(cache=True)
def _popcount(x):
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56


@njit(cache=True)
def _winning_cells(work, position, mask):
    """Empty cells (playable or not) where ``position``'s owner would complete four in a row."""
    h = work[_H]
    r = (position << 1) & (position << 2) & (position << 3)  # vertical: three below
    for s in (h + 1, h, h + 2):  # horizontal, the two diagonals
        p = (position << s) & (position << (2 * s))
        r |= p & (position << (3 * s))
        r |= p & (position >> s)
        p = (position >> s) & (position >> (2 * s))
        r |= p & (position << s)
        r |= p & (position >> (3 * s))
    return r & (work[_BOARD] ^ mask)


@njit(cache=True)
def _can_win_next(work, position, mask):
    return (_winning_cells(work, position, mask) & ((mask + work[_BOTTOM]) & work[_BOARD])) != 0


@njit(cache=True)
def _div2(x):
    return x // 2 if x >= 0 else -((-x) // 2)  # C's truncation, as in the score formulas


@njit(cache=True)
def _tt_store(work, tt, key, lo, hi):
    i = key % tt.shape[0]
    partial = key & ((np.int64(1) << work[_KEY_BITS]) - 1)
    e = tt[i]
    if e != _EMPTY and (e >> 16) == partial:  # the same position: tighten what is known
        lo = max(lo, ((e >> 8) & 255) - 128)
        hi = min(hi, (e & 255) - 128)
    tt[i] = (partial << 16) | ((lo + 128) << 8) | (hi + 128)  # otherwise replace: recent entries matter most


@njit(cache=True)
def _negamax(work, tt, position, mask, moves, alpha, beta):
    """Score of the position if it lies in (alpha, beta); otherwise a bound on the same side
    (``r <= alpha``: score <= r; ``r >= beta``: score >= r).

    Precondition: alpha < beta and the mover cannot win with its next stone.
    """
    work[_NODES] += 1
    cells, bottom, board, w = work[_CELLS], work[_BOTTOM], work[_BOARD], work[_W]
    possible = (mask + bottom) & board
    opp_win = _winning_cells(work, position ^ mask, mask)
    forced = possible & opp_win
    if forced != 0:
        if (forced & (forced - 1)) != 0:  # two immediate threats: lost at the opponent's next stone
            return -((cells - moves) // 2)
        possible = forced
    candidates = possible & ~(opp_win >> 1)  # never play just below an opponent's winning cell
    if candidates == 0:
        return -((cells - moves) // 2)
    if moves >= cells - 2:  # the opponent cannot win with the last stone: draw
        return 0
    lo = -((cells - 2 - moves) // 2)  # the opponent cannot win before its second stone from now
    if alpha < lo:
        alpha = lo
        if alpha >= beta:
            return alpha
    hi = (cells - 1 - moves) // 2  # nor the mover before its next-but-one stone
    key = position + mask
    e = tt[key % tt.shape[0]]
    if e != _EMPTY and (e >> 16) == (key & ((np.int64(1) << work[_KEY_BITS]) - 1)):
        alpha = max(alpha, ((e >> 8) & 255) - 128)
        hi = min(hi, (e & 255) - 128)
        if alpha >= beta:
            return alpha
    if beta > hi:
        beta = hi
        if alpha >= beta:
            return beta
    # order the candidates: most winning cells created first, centre first among equals (stable insertion)
    h = work[_H]
    base = _ORDER + w + 2 * w * moves
    n = 0
    for k in range(w):
        c = work[_ORDER + k]
        move = candidates & (((np.int64(1) << h) - 1) << (c * (h + 1)))
        if move == 0:
            continue
        score = _popcount(_winning_cells(work, position | move, mask))
        j = n
        while j > 0 and work[base + 2 * j - 1] < score:
            work[base + 2 * j] = work[base + 2 * j - 2]
            work[base + 2 * j + 1] = work[base + 2 * j - 1]
            j -= 1
        work[base + 2 * j] = move
        work[base + 2 * j + 1] = score
        n += 1
    alpha0 = alpha
    for j in range(n):
        move = work[base + 2 * j]
        score = -_negamax(work, tt, position ^ mask, mask | move, moves + 1, -beta, -alpha)
        if score >= beta:
            _tt_store(work, tt, key, score, cells)
            return score
        if score > alpha:
            alpha = score
    if alpha > alpha0:
        _tt_store(work, tt, key, alpha, alpha)
    else:
        _tt_store(work, tt, key, -cells, alpha)
    return alpha


@njit(cache=True)
def _solve(work, tt, position, mask, at_least=-1000):
    """Exact score of a position whose game is not over, by null-window searches narrowing [min, max]
    (``at_least``: a lower bound known to the caller)."""
    cells = work[_CELLS]
    moves = _popcount(mask)
    if _can_win_next(work, position, mask):
        return (cells + 1 - moves) // 2
    lo = max(-((cells - moves) // 2), at_least)
    hi = (cells + 1 - moves) // 2
    while lo < hi:
        med = lo + (hi - lo) // 2
        # probe nearer zero first: most positions are decided by their sign
        if med <= 0 and _div2(lo) < med:
            med = _div2(lo)
        elif med >= 0 and _div2(hi) > med:
            med = _div2(hi)
        r = _negamax(work, tt, position, mask, moves, med, med + 1)
        if r <= med:
            hi = r
        else:
            lo = r
    return lo


@njit(cache=True)
def _column_move(work, mask, c):
    """The bit of column ``c``'s next free cell, 0 if the column is full."""
    h = work[_H]
    return (mask + work[_BOTTOM]) & (((np.int64(1) << h) - 1) << (c * (h + 1)))


@njit(cache=True)
def _move_scores(work, tt, position, mask, out):
    """Exact score of every column for the mover (``-score(child)``); ILLEGAL for a full column."""
    cells = work[_CELLS]
    moves = _popcount(mask)
    # every child scores at least -best for its mover: that bound saves most of the narrowing
    best = _solve(work, tt, position, mask)
    wins = _winning_cells(work, position, mask)
    for c in range(work[_W]):
        move = _column_move(work, mask, c)
        if move == 0:
            out[c] = ILLEGAL
        elif move & wins:
            out[c] = (cells + 1 - moves) // 2
        elif moves + 1 == cells:
            out[c] = 0
        else:
            out[c] = -_solve(work, tt, position ^ mask, mask | move, -best)


@njit(cache=True)
def _optimal_mask(work, tt, position, mask, out):
    """The root's exact score; ``out[c]`` set for the columns that reach it. Cheaper than ``_move_scores``:
    one null-window search per column, at the root's score, instead of a full solve."""
    cells = work[_CELLS]
    moves = _popcount(mask)
    best = _solve(work, tt, position, mask)
    wins = _winning_cells(work, position, mask)
    for c in range(work[_W]):
        move = _column_move(work, mask, c)
        out[c] = False
        if move == 0:
            continue
        if move & wins:
            out[c] = True  # an immediate win is the fastest win: it is the root's score
            continue
        if moves + 1 == cells:
            out[c] = best == 0
            continue
        child_pos, child_mask = position ^ mask, mask | move
        if _can_win_next(work, child_pos, child_mask):
            out[c] = -((cells - moves) // 2) >= best
            continue
        # the move is optimal iff its score -child >= best, i.e. child <= -best: one null window at -best
        out[c] = _negamax(work, tt, child_pos, child_mask, moves + 1, -best, -best + 1) <= -best
    return best


@njit(cache=True)
def _bitboards(width, height, state):
    """(position, mask) of a ``games.connect_four`` state: the mover's stones and all stones."""
    mover = (state[width * height + width] & 1) + 1
    mask = np.int64(0)
    position = np.int64(0)
    for c in range(width):
        for r in range(height):
            v = state[c * height + r]
            if v != 0:
                bit = np.int64(1) << (c * (height + 1) + r)
                mask |= bit
                if v == mover:
                    position |= bit
    return position, mask


# ------------------------------------------------------------------------------------ Python facade
def _prime_at_least(n: int) -> int:
    def is_prime(k):
        if k < 2 or k % 2 == 0:
            return k == 2
        f = 3
        while f * f <= k:
            if k % f == 0:
                return False
            f += 2
        return True

    while not is_prime(n):
        n += 1
    return n


class Connect4Solver:
    """Exact scores of Connect Four positions (any board with ``width * (height + 1) <= 63``).

    Positions are ``games.make("connect4", ...)`` states or Pons move strings (``"4453"``: 1-based columns from
    the empty board). The transposition table (``2**table_bits`` entries, rounded up to a prime) is kept
    between calls: solved positions make later ones faster. ``nodes`` counts the positions searched so far.
    """

    def __init__(self, game=None, table_bits: int = DEFAULT_TABLE_BITS):
        if game is None:
            import games

            game = games.make("connect4")
        if not hasattr(game, "width") or not str(game.name).startswith("connect4"):
            raise ValueError(f"the Connect Four solver needs a connect4 game, not {game.name}")
        if not 1 <= int(table_bits) <= 32:
            raise ValueError(f"table_bits must be from 1 to 32, got {table_bits}")
        width, height = int(game.width), int(game.height)
        if width * (height + 1) > 63:
            raise ValueError(f"the solver needs width * (height + 1) <= 63 (bitboards of 64 bits); "
                             f"{width}x{height} needs {width * (height + 1)}")
        self.game, self.width, self.height = game, width, height
        bottom = sum(1 << (c * (height + 1)) for c in range(width))
        centre = (width - 1) / 2
        order = sorted(range(width), key=lambda c: (abs(c - centre), c))
        size = _prime_at_least(2 ** int(table_bits))
        key_bits = max(1, width * (height + 1) - int(table_bits))  # size >= 2**table_bits: see ``tt``
        if key_bits > 47:
            raise ValueError(f"table_bits={table_bits} is too small for a {width}x{height} board")
        self.work = np.zeros(_ORDER + width + 2 * width * (width * height + 1), dtype=np.int64)
        self.work[:_ORDER] = [width, height, width * height, bottom, bottom * ((1 << height) - 1), key_bits, 0, 0]
        self.work[_ORDER: _ORDER + width] = order
        self.table = np.full(size, _EMPTY, dtype=np.int64)

    @property
    def nodes(self) -> int:
        return int(self.work[_NODES])

    def reset(self) -> None:
        """Forget the transposition table (e.g. to time positions independently)."""
        self.table.fill(_EMPTY)

    def bitboards(self, position) -> tuple[int, int]:
        """``(mover's stones, all stones)`` of a state or move string; ``ValueError`` if the game is over."""
        if isinstance(position, str):
            state = self.game.parse_position(position)
        else:
            state = np.asarray(position)
            if state.shape != (self.width * (self.height + 1) + 2,):
                raise ValueError(f"not a state of {self.game.name}: shape {state.shape}")
        if self.game.is_terminal(state):
            raise ValueError("the game is over in this position: there is no move to score")
        pos, mask = _bitboards(self.width, self.height, state)
        return int(pos), int(mask)

    def score(self, position) -> int:
        """Exact score from the mover's view (Pons' convention: see the module docstring)."""
        pos, mask = self.bitboards(position)
        return int(_solve(self.work, self.table, np.int64(pos), np.int64(mask)))

    def move_scores(self, position) -> np.ndarray:
        """``int64[width]``: the mover's score after each column (``-score(child)``), ``ILLEGAL`` if full."""
        pos, mask = self.bitboards(position)
        out = np.empty(self.width, dtype=np.int64)
        _move_scores(self.work, self.table, np.int64(pos), np.int64(mask), out)
        return out

    def solve_with_optimal(self, position) -> tuple[int, np.ndarray]:
        """``(score, bool[width])``: the exact score and which columns keep it (cheaper than ``move_scores``)."""
        pos, mask = self.bitboards(position)
        out = np.zeros(self.width, dtype=np.bool_)
        best = _optimal_mask(self.work, self.table, np.int64(pos), np.int64(mask), out)
        return int(best), out

    def optimal_moves(self, position) -> list[int]:
        """The actions (0-based columns) that keep the best score: fastest win, slowest loss."""
        return [int(a) for a in np.flatnonzero(self.solve_with_optimal(position)[1])]


class SolverAgent(Agent):
    """Perfect play: a move of best score (fastest win, slowest loss), ties broken by a seeded RNG.

    ``Decision.value`` is the sign of the score (+1 win, 0 draw, -1 loss for the mover) and
    ``info["score"]`` the exact score.
    """

    def __init__(self, game, seed: int | None = 0, table_bits: int = DEFAULT_TABLE_BITS):
        super().__init__(game)
        self.name = "c4solver"
        self.solver = Connect4Solver(game, table_bits=table_bits)
        self.rng = np.random.default_rng(seed)

    def choose(self, state, progress=None) -> Decision:
        best, optimal = self.solver.solve_with_optimal(state)
        choices = np.flatnonzero(optimal)
        action = int(self.rng.choice(choices))
        top = [MoveStat(int(a), value=float(np.sign(best))) for a in choices]
        return Decision(action, value=float(np.sign(best)), top=top, info={"score": best})


def make_solver_agent(game, arg, seed=0, **_):
    """``c4solver``: the perfect Connect Four player (``c4solver:BITS`` sets the table size to 2**BITS)."""
    if not str(getattr(game, "name", "")).startswith("connect4"):
        raise ValueError(f"c4solver plays Connect Four only, not {game.name}")
    try:
        bits = int(arg) if arg else DEFAULT_TABLE_BITS
    except ValueError:
        raise ValueError(f"c4solver:{arg}: the argument is the table size in bits, e.g. c4solver:24") from None
    if not 10 <= bits <= 30:
        raise ValueError(f"c4solver:{arg}: table bits must be from 10 to 30")
    return SolverAgent(game, seed=seed, table_bits=bits)

