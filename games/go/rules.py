"""Go rules as Numba kernels: captures, no suicide, superko, passes, Tromp-Taylor area scoring.

Rules: J. Tromp and B. Taylor's *Tromp-Taylor rules* (area scoring: a player's score is the number of
points of her colour plus the empty points that reach only her colour) with two changes used by computer Go
since AlphaGo Zero (Silver et al., Nature 2017): suicide is illegal and the game ends after two consecutive
passes or at a maximum length (then it is scored as it stands). Repetition is forbidden by *positional
superko* by default (a move may not recreate any earlier board, the start board included); ``situational``
superko (same board with the same player to move) and ``simple`` ko (no immediate retake of a single
stone) are options for tests and for other rule sets.

Groups are kept incrementally (no flood fill per move): every stone points to its group's representative
(``group``) and to the next stone of a circular chain (``next``), and each representative holds its size
and its *pseudo-liberty* count: the number of (stone, empty neighbour) pairs, which is zero exactly when
the group has no liberty (the counting used by GNU Go and libego). Merging relabels the smaller group;
capturing walks the chain. A move's legality is decided from its four neighbours; superko compares the
64-bit Zobrist hash (Zobrist 1970) the move would produce with the hashes of all earlier boards.

``params`` (``int64``, built by :func:`make_params`) holds the board size, komi (in half points), ko rule,
maximum length, the offsets of the state's sections, a neighbour table and the Zobrist keys, so a board
size is an argument and never a global.

State (``int16[L]``, L a multiple of 4)::

    [0, 12)            header: H_PLY moves played (passes included), H_FIRST colour to move at ply 0
                       (0 black, 1 white), H_PASSES consecutive passes, H_KO simple-ko point (-1 none),
                       H_OUTCOME (ONGOING or +1/0/-1 for Black), H_CAPT_B/H_CAPT_W stones captured by
                       Black/White, H_FRAME symmetry frame of the Zobrist keys, H_SCORE2 final score x2,
                       H_LAST last action (-1 none), H_SCAN ply of the last capture (see below)
    hashes             max_moves + 1 entries of 4 int16 lanes (an int64 little-endian view in Python):
                       Zobrist hash of the board after each ply (entry 0 = start board)
    planes history     8 slots x 2 colours x W 16-bit words: bitboards of the last 8 boards (slot
                       ply % 8), the AlphaGo Zero input history, updated by flipping bits
    hash filter        a Bloom filter (Bloom 1970) of the hashes, 8+ bits per entry, two bits each: a
                       move whose hash is not in it repeats nothing, and the scan is skipped
    board              N*N cells, row 0 at the top: 0 empty, 1 black, 2 white
    group, next        representative and next stone of the chain, per stone
    libs, stones       pseudo-liberties and size, per representative

The hot kernels read the hash lanes and 16-bit bitboards directly: an ``int64`` view of an ``int16`` array
costs tens of nanoseconds to create in Numba, more than the rest of a move. A move that captures nothing
adds a stone, so it can only repeat a board older than the last capture (no board since then has more
stones than the current one): such moves scan the hashes before ``H_SCAN`` only.

Actions: point ``row * N + col`` (row 0 at the top, like the planes), ``N * N`` = pass.

The file ends with random playouts (``random_playout``, ``random_playouts``, ``play_random``) for the
benchmark and for pure Monte-Carlo players.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..base import ONGOING, Rules

EMPTY, BLACK, WHITE = 0, 1, 2  # cell values; colour index c (0 black, 1 white) has stone c + 1
_REACHED = 4  # an empty cell while ``area`` runs: 4 | the colours (1 Black, 2 White) its region reaches
HISTORY = 8  # positions per colour in the planes (AlphaGo Zero)
NUM_PLANES = 2 * HISTORY + 1

KO_POSITIONAL, KO_SITUATIONAL, KO_SIMPLE = 0, 1, 2
KO_RULES = {"positional": KO_POSITIONAL, "situational": KO_SITUATIONAL, "simple": KO_SIMPLE}

# reasons a move is illegal (legality kernels return 0 for a legal move)
LEGAL, OCCUPIED, SUICIDE, KO, SUPERKO = 0, 1, 2, 3, 4

# header fields
H_PLY, H_FIRST, H_PASSES, H_KO, H_OUTCOME, H_CAPT_B, H_CAPT_W, H_FRAME, H_SCORE2, H_LAST, H_SCAN = range(11)
HEADER = 12

# params fields
(P_SIZE, P_KOMI2, P_KO_RULE, P_MAX_MOVES, P_STATE_LEN, P_HASH, P_BITS, P_WORDS, P_BOARD, P_GROUP, P_NEXT,
 P_LIBS, P_STONES, P_NEIGH, P_DIAG, P_ZOBRIST, P_FILTER, P_FILTER_BITS) = range(18)
P_HEADER = 18

MIN_SIZE, MAX_SIZE = 5, 19

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> tuple[int, int]:
    """One step of SplitMix64 (Steele et al. 2014): fixed keys on every machine and NumPy version."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return x, z - (1 << 64) if z >= 1 << 63 else z


def _random_keys(count: int, seed: int) -> np.ndarray:
    out = np.empty(count, dtype=np.int64)
    x = seed
    for i in range(count):
        x, out[i] = _splitmix64(x)
    return out


# state_hash mixes: side to move, consecutive passes, ko point and symmetry frame
_MIX_KEYS = _random_keys(8 + 1 + 4 + MAX_SIZE * MAX_SIZE + 1, 0x5EED_60)
_K_FRAME = 0   # + frame (8 keys)
_K_SIDE = 8    # White to move
_K_PASSES = 9  # + consecutive passes (0..3)
_K_KO = 13     # + ko point + 1


def dihedral_sources(size: int) -> np.ndarray:
    """``src[k, q]``: the point that symmetry ``k`` (``games.base.dihedral``) moves to point ``q``."""
    from ..base import dihedral

    idx = np.arange(size * size).reshape(size, size)
    return np.stack([dihedral(idx, k).ravel() for k in range(8)])


def compose_frames(size: int) -> np.ndarray:
    """``table[k, f]``: the frame of ``T_k o T_f`` (applying symmetry ``k`` to a state in frame ``f``)."""
    src = dihedral_sources(size)
    table = np.zeros((8, 8), dtype=np.int64)
    for k in range(8):
        for f in range(8):
            target = src[f][src[k]]  # (T_k T_f)^-1 (q) = T_f^-1 (T_k^-1 (q))
            table[k, f] = next(g for g in range(8) if np.array_equal(src[g], target))
    return table


def filter_bits(max_moves: int) -> int:
    """Size of the Bloom filter over the board hashes: a power of two, 8 bits per entry or more."""
    return max(256, 1 << int(np.ceil(np.log2(8 * (max_moves + 1)))))


def state_length(size: int, max_moves: int) -> int:
    words = (size * size + 15) // 16
    n = HEADER + 4 * (max_moves + 1) + HISTORY * 2 * words + filter_bits(max_moves) // 16 + 5 * size * size
    return (n + 3) // 4 * 4


def make_params(size: int, komi2: int, ko_rule: int, max_moves: int) -> np.ndarray:
    """The ``int64`` parameter vector of a board: layout, neighbour tables and Zobrist keys."""
    nn = size * size
    words = (nn + 15) // 16
    neigh_at = P_HEADER
    diag_at = neigh_at + 4 * nn
    zob_at = diag_at + 4 * nn
    p = np.zeros(zob_at + 8 * 2 * nn, dtype=np.int64)
    p[P_SIZE], p[P_KOMI2], p[P_KO_RULE], p[P_MAX_MOVES] = size, komi2, ko_rule, max_moves
    p[P_HASH] = HEADER
    p[P_BITS] = HEADER + 4 * (max_moves + 1)
    p[P_WORDS] = words
    p[P_FILTER] = p[P_BITS] + HISTORY * 2 * words
    p[P_FILTER_BITS] = filter_bits(max_moves)
    p[P_BOARD] = p[P_FILTER] + p[P_FILTER_BITS] // 16
    p[P_GROUP] = p[P_BOARD] + nn
    p[P_NEXT] = p[P_GROUP] + nn
    p[P_LIBS] = p[P_NEXT] + nn
    p[P_STONES] = p[P_LIBS] + nn
    p[P_STATE_LEN] = state_length(size, max_moves)
    p[P_NEIGH], p[P_DIAG], p[P_ZOBRIST] = neigh_at, diag_at, zob_at
    for q in range(nn):
        r, c = divmod(q, size)
        for k, (dr, dc) in enumerate(((-1, 0), (0, -1), (0, 1), (1, 0))):
            rr, cc = r + dr, c + dc
            p[neigh_at + 4 * q + k] = rr * size + cc if 0 <= rr < size and 0 <= cc < size else -1
        for k, (dr, dc) in enumerate(((-1, -1), (-1, 1), (1, -1), (1, 1))):
            rr, cc = r + dr, c + dc
            p[diag_at + 4 * q + k] = rr * size + cc if 0 <= rr < size and 0 <= cc < size else -1
    # keys of frame f are the frame-0 keys read through the symmetry: hashes survive transform_state
    base = _random_keys(2 * nn, 0x60_2017 + size).reshape(2, nn)
    src = dihedral_sources(size)
    for f in range(8):
        for color in range(2):
            p[zob_at + (f * 2 + color) * nn: zob_at + (f * 2 + color + 1) * nn] = base[color][src[f]]
    return p


# ----------------------------------------------------------------------------------------- sections
@njit(cache=True, inline="always")
def _board(params, state):
    nn = params[P_SIZE] * params[P_SIZE]
    return state[params[P_BOARD]: params[P_BOARD] + nn]


@njit(cache=True, inline="always")
def _load_hash(params, state, i):
    """Hash entry ``i`` from its four 16-bit lanes."""
    o = params[P_HASH] + 4 * i
    return ((np.int64(state[o]) & 0xFFFF) | ((np.int64(state[o + 1]) & 0xFFFF) << 16)
            | ((np.int64(state[o + 2]) & 0xFFFF) << 32) | (np.int64(state[o + 3]) << 48))


@njit(cache=True, inline="always")
def _store_hash(params, state, i, h):
    o = params[P_HASH] + 4 * i
    state[o] = h & 0xFFFF
    state[o + 1] = (h >> 16) & 0xFFFF
    state[o + 2] = (h >> 32) & 0xFFFF
    state[o + 3] = (h >> 48) & 0xFFFF


@njit(cache=True, inline="always")
def _filter_add(params, state, h):
    """Record hash ``h`` in the Bloom filter (two bits, from two independent parts of the hash)."""
    mask = params[P_FILTER_BITS] - 1
    a = (h >> 40) & mask
    b = (h >> 8) & mask
    state[params[P_FILTER] + (a >> 4)] |= 1 << (a & 15)
    state[params[P_FILTER] + (b >> 4)] |= 1 << (b & 15)


@njit(cache=True, inline="always")
def _filter_may_hold(params, state, h):
    """False when ``h`` was never recorded; True when it may have been (then the hashes are scanned)."""
    mask = params[P_FILTER_BITS] - 1
    a = (h >> 40) & mask
    b = (h >> 8) & mask
    return ((state[params[P_FILTER] + (a >> 4)] >> (a & 15)) & 1) == 1 and \
        ((state[params[P_FILTER] + (b >> 4)] >> (b & 15)) & 1) == 1


@njit(cache=True, inline="always")
def _flip_bit(params, state, slot, color, p):
    i = params[P_BITS] + (slot * 2 + color) * params[P_WORDS] + (p >> 4)
    state[i] ^= 1 << (p & 15)


@njit(cache=True, inline="always")
def _key(params, frame, color, p):
    nn = params[P_SIZE] * params[P_SIZE]
    return params[params[P_ZOBRIST] + (frame * 2 + color) * nn + p]


@njit(cache=True, inline="always")
def _neighbour(params, p, k):
    return params[params[P_NEIGH] + 4 * p + k]


# ----------------------------------------------------------------------------------------- kernels
@njit(cache=True)
def init_state(params):
    s = np.zeros(params[P_STATE_LEN], dtype=np.int16)
    _filter_add(params, s, np.int64(0))  # the empty start board
    s[H_KO] = -1
    s[H_LAST] = -1
    s[H_OUTCOME] = ONGOING
    return s


@njit(cache=True)
def to_play(params, state):
    return (state[H_FIRST] + state[H_PLY]) & 1


@njit(cache=True)
def outcome(params, state):
    return state[H_OUTCOME]


@njit(cache=True)
def _merge(group, nxt, libs, stones, a, b):
    """Join groups ``a`` and ``b`` (representatives); the smaller is relabelled. Returns the new one."""
    if stones[a] < stones[b]:
        a, b = b, a
    s = b
    while True:
        group[s] = a
        s = nxt[s]
        if s == b:
            break
    na = nxt[a]
    nxt[a] = nxt[b]
    nxt[b] = na
    libs[a] += libs[b]
    stones[a] += stones[b]
    return a


@njit(cache=True)
def _remove_group(params, state, g, color, slot):
    """Take the group ``g`` of ``color`` off the board; its neighbours gain pseudo-liberties.

    Returns (stones removed, XOR of their Zobrist keys)."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    count = 0
    s = g
    while True:  # empty every stone first, so that the second pass credits only surviving groups
        board[s] = EMPTY
        h ^= _key(params, frame, color, s)
        _flip_bit(params, state, slot, color, s)
        count += 1
        s = nxt[s]
        if s == g:
            break
    while True:
        for k in range(4):
            t = _neighbour(params, s, k)
            if t >= 0 and board[t] != EMPTY:
                libs[group[t]] += 1
        s = nxt[s]
        if s == g:
            break
    return count, h


@njit(cache=True)
def _place_stone(params, state, p, color, hi, slot):
    """Put a stone of ``color`` on the empty point ``p``: merge, capture, and (only ever reached by forced
    placements) remove the own group if it is left without liberties, as Tromp-Taylor self-capture does.

    Updates hash entry ``hi``, planes slot ``slot``, the prisoners, the simple-ko point and ``H_SCAN``;
    returns the number of opposing stones captured.
    """
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    me = color + 1
    opp = 2 - color
    board[p] = me
    group[p] = p
    nxt[p] = p
    stones[p] = 1
    h = _load_hash(params, state, hi) ^ _key(params, state[H_FRAME], color, p)
    _flip_bit(params, state, slot, color, p)
    empty = 0
    for k in range(4):
        q = _neighbour(params, p, k)
        if q < 0:
            continue
        if board[q] == EMPTY:
            empty += 1
        else:
            libs[group[q]] -= 1  # p was one of q's group's liberty incidences
    libs[p] = empty
    g = p
    for k in range(4):
        q = _neighbour(params, p, k)
        if q >= 0 and board[q] == me and group[q] != g:
            g = _merge(group, nxt, libs, stones, g, group[q])
    captured = 0
    ko = -1
    for k in range(4):
        q = _neighbour(params, p, k)
        if q >= 0 and board[q] == opp and libs[group[q]] == 0:
            if stones[group[q]] == 1:
                ko = q
            n_removed, removed_hash = _remove_group(params, state, group[q], 1 - color, slot)
            captured += n_removed
            h ^= removed_hash
    g = group[p]
    if libs[g] == 0:  # self-capture: Tromp-Taylor removes the own group (legal moves never get here)
        lost, removed_hash = _remove_group(params, state, g, color, slot)
        h ^= removed_hash
        state[H_CAPT_B + 1 - color] += lost
        state[H_SCAN] = hi
    if captured > 0:
        state[H_CAPT_B + color] += captured
        state[H_SCAN] = hi  # older boards may have more stones than any board from here on
    _store_hash(params, state, hi, h)
    _filter_add(params, state, h)
    # a single stone that took a single stone and has that point as its only liberty: simple ko
    state[H_KO] = ko if (captured == 1 and board[p] == me and stones[g] == 1 and libs[g] == 1) else -1
    return captured


@njit(cache=True)
def _group_hash(params, state, g, color):
    nn = params[P_SIZE] * params[P_SIZE]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    s = g
    while True:
        h ^= _key(params, frame, color, s)
        s = nxt[s]
        if s == g:
            break
    return h


@njit(cache=True)
def _adjacent_count(params, group, board, p, g):
    n = 0
    for k in range(4):
        q = _neighbour(params, p, k)
        if q >= 0 and board[q] != EMPTY and group[q] == g:
            n += 1
    return n


@njit(cache=True)
def _repeats(params, state, h, end, step_parity):
    """Whether hash ``h`` is among entries ``[0, end)`` (only those of parity ``step_parity`` if >= 0)."""
    c0 = np.int16(h & 0xFFFF)
    c1 = np.int16((h >> 16) & 0xFFFF)
    c2 = np.int16((h >> 32) & 0xFFFF)
    c3 = np.int16((h >> 48) & 0xFFFF)
    o = params[P_HASH]
    start = 0
    step = 1
    if step_parity >= 0:
        start = step_parity
        step = 2
    for i in range(start, end, step):
        j = o + 4 * i
        if state[j] == c0 and state[j + 1] == c1 and state[j + 2] == c2 and state[j + 3] == c3:
            return True
    return False


@njit(cache=True)
def move_status(params, state, p, color):
    """``LEGAL`` or why ``color`` may not play on point ``p``: OCCUPIED, SUICIDE, KO or SUPERKO."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    if board[p] != EMPTY:
        return OCCUPIED
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    me = color + 1
    rule = params[P_KO_RULE]
    if rule == KO_SIMPLE and p == state[H_KO]:
        return KO
    alive = False
    capture_hash = np.int64(0)
    captures = False
    seen0 = -1
    seen1 = -1
    seen2 = -1
    for k in range(4):
        q = _neighbour(params, p, k)
        if q < 0:
            continue
        v = board[q]
        if v == EMPTY:
            alive = True
            continue
        g = group[q]
        if g == seen0 or g == seen1 or g == seen2:
            continue
        if k == 0:
            seen0 = g
        elif k == 1:
            seen1 = g
        else:
            seen2 = g
        if libs[g] > 4:  # more pseudo-liberties than p can account for: a liberty elsewhere
            if v == me:
                alive = True
            continue
        adjacent = _adjacent_count(params, group, board, p, g)
        if v == me:
            if libs[g] > adjacent:
                alive = True  # the friendly group keeps a liberty elsewhere
        elif libs[g] == adjacent:  # every liberty of that enemy group is p: captured
            alive = True
            if rule != KO_SIMPLE:
                captures = True
                capture_hash ^= _group_hash(params, state, g, 1 - color)
    if not alive:
        return SUICIDE
    if rule == KO_SIMPLE:
        return LEGAL
    ply = state[H_PLY]
    # without a capture the board gains a stone: only boards older than the last capture can have as many
    end = ply + 1 if captures else state[H_SCAN]
    if end <= 0:
        return LEGAL
    h = _load_hash(params, state, ply) ^ _key(params, state[H_FRAME], color, p) ^ capture_hash
    if not _filter_may_hold(params, state, h):
        return LEGAL
    parity = (ply + 1) & 1 if rule == KO_SITUATIONAL else -1  # situational: same player to move
    return SUPERKO if _repeats(params, state, h, end, parity) else LEGAL


@njit(cache=True)
def legal_mask(params, state, out):
    nn = params[P_SIZE] * params[P_SIZE]
    if state[H_OUTCOME] != ONGOING:
        out[:] = False
        return 0
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    color = (state[H_FIRST] + state[H_PLY]) & 1
    n = 1
    for p in range(nn):
        ok = board[p] == EMPTY and move_status(params, state, p, color) == LEGAL
        out[p] = ok
        n += ok
    out[nn] = True  # pass
    return n


@njit(cache=True)
def area(params, state):
    """Tromp-Taylor area: (black, white) = stones plus the empty points that reach only that colour.

    Allocates nothing, so the search kernels compiled without reference counting (``engine.mcts``) can end a
    game: the empty cells of the board itself hold the colours their region reaches (``_REACHED`` plus bit 0
    for Black, bit 1 for White) while the reach spreads by alternate forward and backward sweeps until no cell
    changes, and are emptied again before returning (the state is left as it was). At the end of a game the
    empty regions are small and two or three sweeps settle them."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    black = 0
    white = 0
    for p in range(nn):
        v = board[p]
        if v == BLACK:
            black += 1
        elif v == WHITE:
            white += 1
    if black + white == nn:
        return black, white
    for p in range(nn):  # each empty cell starts with the colours of its own neighbours
        if board[p] == EMPTY:
            reach = 0
            for k in range(4):
                t = _neighbour(params, p, k)
                if t >= 0 and board[t] < _REACHED:
                    reach |= board[t]
            board[p] = _REACHED | reach
    changed = True
    forward = True
    while changed:
        changed = False
        for i in range(nn):
            p = i if forward else nn - 1 - i
            v = board[p]
            if v < _REACHED or v == _REACHED | BLACK | WHITE:
                continue
            reach = v
            for k in range(4):
                t = _neighbour(params, p, k)
                if t >= 0 and board[t] >= _REACHED:
                    reach |= board[t]
            if reach != v:
                board[p] = reach
                changed = True
        forward = not forward
    for p in range(nn):
        v = board[p]
        if v >= _REACHED:
            if v == _REACHED | BLACK:
                black += 1
            elif v == _REACHED | WHITE:
                white += 1
            board[p] = EMPTY
    return black, white


@njit(cache=True)
def score2(params, state):
    """Twice the Tromp-Taylor score (Black minus White, komi included): an integer even for half komi."""
    black, white = area(params, state)
    return 2 * (black - white) - params[P_KOMI2]


@njit(cache=True)
def _finish(params, state):
    s = score2(params, state)
    state[H_SCORE2] = s
    state[H_OUTCOME] = 1 if s > 0 else (-1 if s < 0 else 0)


@njit(cache=True)
def apply(params, state, action):
    """Play ``action`` (legal) for the player to move; a point that is not legal is still played, with
    Tromp-Taylor self-capture and no repetition check (the ``force`` of the rules tests)."""
    nn = params[P_SIZE] * params[P_SIZE]
    ply = state[H_PLY]
    words = 2 * params[P_WORDS]
    slot_at = params[P_BITS] + (ply % HISTORY) * words
    new_slot = (ply + 1) % HISTORY
    new_at = params[P_BITS] + new_slot * words
    for w in range(words):
        state[new_at + w] = state[slot_at + w]
    o = params[P_HASH] + 4 * ply
    for w in range(4):
        state[o + 4 + w] = state[o + w]
    color = (state[H_FIRST] + ply) & 1
    if action == nn:
        state[H_PASSES] += 1
        state[H_KO] = -1
    else:
        state[H_PASSES] = 0
        _place_stone(params, state, action, color, ply + 1, new_slot)
    state[H_PLY] = ply + 1
    state[H_LAST] = action
    if state[H_PASSES] >= 2 or ply + 1 >= params[P_MAX_MOVES]:
        _finish(params, state)


@njit(cache=True)
def place(params, state, p, color):
    """Edit the current position: put a stone of ``color`` on the empty point ``p`` (captures and
    self-capture apply; no legality check, no move recorded, the player to move is unchanged)."""
    ply = state[H_PLY]
    return _place_stone(params, state, p, color, ply, ply % HISTORY)


@njit(cache=True)
def encode(params, state, out):
    """AlphaGo Zero planes ``[17, N, N]``: the mover's stones in the last 8 positions (now first), the
    opponent's stones in the same positions, then all ones when Black is to move. Positions before the
    start are all zero."""
    n = params[P_SIZE]
    nn = n * n
    words = params[P_WORDS]
    ply = state[H_PLY]
    me = (state[H_FIRST] + ply) & 1
    for k in range(HISTORY):
        if k > ply:
            out[k] = 0.0
            out[HISTORY + k] = 0.0
            continue
        slot = (ply - k) % HISTORY
        mine = params[P_BITS] + (slot * 2 + me) * words
        theirs = params[P_BITS] + (slot * 2 + 1 - me) * words
        for p in range(nn):
            r = p // n
            c = p - r * n
            out[k, r, c] = (state[mine + (p >> 4)] >> (p & 15)) & 1
            out[HISTORY + k, r, c] = (state[theirs + (p >> 4)] >> (p & 15)) & 1
    out[2 * HISTORY] = 1.0 if me == 0 else 0.0


@njit(cache=True)
def state_hash(params, state):
    """Identity of what the network sees: the last 8 boards (Zobrist, position-dependent mix), side to
    move, consecutive passes, ko point and symmetry frame. The older superko history is not included."""
    ply = state[H_PLY]
    h = np.int64(0)
    for k in range(min(ply + 1, HISTORY)):
        x = np.uint64(_load_hash(params, state, ply - k))
        r = np.uint64(7 * k + 1)
        h ^= np.int64((x << r) | (x >> (np.uint64(64) - r)))
    h ^= _MIX_KEYS[_K_FRAME + state[H_FRAME]]
    if (state[H_FIRST] + ply) & 1:
        h ^= _MIX_KEYS[_K_SIDE]
    h ^= _MIX_KEYS[_K_PASSES + min(state[H_PASSES], 3)]
    h ^= _MIX_KEYS[_K_KO + state[H_KO] + 1]
    return h


RULES = Rules(init_state, legal_mask, apply, outcome, to_play, encode, state_hash)


# ----------------------------------------------------------------------------------------- setup
@njit(cache=True)
def rebuild(params, state):
    """Recompute groups, chains and pseudo-liberties from the board cells (setup positions and symmetry
    transforms; not on the hot path). Returns the number of groups without a liberty."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    done = np.zeros(nn, dtype=np.bool_)
    stack = np.empty(nn, dtype=np.int64)
    dead = 0
    for p in range(nn):
        group[p] = 0
        nxt[p] = 0
        libs[p] = 0
        stones[p] = 0
    for p in range(nn):
        if board[p] == EMPTY or done[p]:
            continue
        v = board[p]
        done[p] = True
        stack[0] = p
        top = 1
        last = p
        group[p] = p
        nxt[p] = p
        count = 0
        pseudo = 0
        while top > 0:
            top -= 1
            s = stack[top]
            count += 1
            for k in range(4):
                t = _neighbour(params, s, k)
                if t < 0:
                    continue
                if board[t] == EMPTY:
                    pseudo += 1
                elif board[t] == v and not done[t]:
                    done[t] = True
                    group[t] = p
                    nxt[t] = nxt[last]  # splice into the chain after the last stone added
                    nxt[last] = t
                    last = t
                    stack[top] = t
                    top += 1
        libs[p] = pseudo
        stones[p] = count
        if pseudo == 0:
            dead += 1
    return dead


@njit(cache=True)
def board_hash(params, state):
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    frame = state[H_FRAME]
    h = np.int64(0)
    for p in range(nn):
        if board[p] != EMPTY:
            h ^= _key(params, frame, board[p] - 1, p)
    return h


@njit(cache=True)
def sync_current(params, state):
    """After editing the board cells of the current ply: hash entry and planes slot from the board."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    words = params[P_WORDS]
    slot = state[H_PLY] % HISTORY
    at = params[P_BITS] + slot * 2 * words
    for w in range(2 * words):
        state[at + w] = 0
    for p in range(nn):
        if board[p] != EMPTY:
            _flip_bit(params, state, slot, board[p] - 1, p)
    h = board_hash(params, state)
    _store_hash(params, state, state[H_PLY], h)
    _filter_add(params, state, h)


@njit(cache=True)
def remove_libertyless(params, state):
    """Take off every group without a liberty (an invalid setup, as gomill does); returns stones removed."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    doomed = np.zeros(nn, dtype=np.bool_)
    for p in range(nn):
        if board[p] != EMPTY and libs[group[p]] == 0:
            doomed[p] = True
    removed = 0
    for p in range(nn):
        if doomed[p]:
            board[p] = EMPTY
            removed += 1
    rebuild(params, state)
    sync_current(params, state)
    return removed


@njit(cache=True)
def check_groups(params, state):
    """Consistency of the incremental structures with a fresh rebuild (for tests): True when they agree."""
    nn = params[P_SIZE] * params[P_SIZE]
    fresh = state.copy()
    rebuild(params, fresh)
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    libs = state[params[P_LIBS]: params[P_LIBS] + nn]
    stones = state[params[P_STONES]: params[P_STONES] + nn]
    fgroup = fresh[params[P_GROUP]: params[P_GROUP] + nn]
    flibs = fresh[params[P_LIBS]: params[P_LIBS] + nn]
    fstones = fresh[params[P_STONES]: params[P_STONES] + nn]
    for p in range(nn):
        if board[p] == EMPTY:
            continue
        for q in range(nn):  # same partition into groups
            if board[q] != EMPTY and (group[p] == group[q]) != (fgroup[p] == fgroup[q]):
                return False
        if libs[group[p]] != flibs[fgroup[p]] or stones[group[p]] != fstones[fgroup[p]]:
            return False
    if _load_hash(params, state, state[H_PLY]) != board_hash(params, state):
        return False
    return True


# ----------------------------------------------------------------------------------------- random playouts
# The Monte-Carlo Go policy of Brügmann (1993) and MoGo (Gelly et al. 2006): uniform over the legal moves
# that do not fill one's own eye, pass when none is left, to the end of the game (two passes or the
# maximum length), scored by Tromp-Taylor. The picker keeps a list of empty points and draws from it,
# moving a rejected point out of the drawing range (libego's trick), so it never builds the whole legal
# mask; the list is rebuilt only after captures. These kernels live in this file because Numba's cache
# tracks only the source file of each function: a playout compiled in another file would keep running
# stale copies of these rules after an edit here.


@njit(cache=True)
def is_own_eye(params, board, p, color):
    """An empty point whose neighbours are all ``color`` and whose diagonals hold at most one enemy stone
    (none on the edge): filling it would only hurt, so random play leaves it."""
    me = color + 1
    for k in range(4):
        q = params[params[P_NEIGH] + 4 * p + k]
        if q >= 0 and board[q] != me:
            return False
    enemy = 0
    off = 0
    for k in range(4):
        q = params[params[P_DIAG] + 4 * p + k]
        if q < 0:
            off = 1
        elif board[q] != EMPTY and board[q] != me:
            enemy += 1
    return enemy + off < 2


@njit(cache=True)
def _collect_empty(board, nn, empties):
    n = 0
    for p in range(nn):
        if board[p] == EMPTY:
            empties[n] = p
            n += 1
    return n


@njit(cache=True)
def play_random(params, state, max_moves):
    """Play up to ``max_moves`` random moves on ``state`` (in place), stopping at the end of the game;
    returns the number of moves played."""
    nn = params[P_SIZE] * params[P_SIZE]
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    empties = np.empty(nn, dtype=np.int64)
    n_empty = _collect_empty(board, nn, empties)
    played = 0
    while state[H_OUTCOME] == ONGOING and played < max_moves:
        played += 1
        color = to_play(params, state)
        k = n_empty
        chosen = nn
        while k > 0:
            i = np.random.randint(k)
            p = empties[i]
            if not is_own_eye(params, board, p, color) and move_status(params, state, p, color) == LEGAL:
                chosen = p
                break
            k -= 1  # move the rejected point past the drawing range
            empties[i] = empties[k]
            empties[k] = p
        if chosen == nn:
            apply(params, state, nn)
            continue
        captured = state[H_CAPT_B] + state[H_CAPT_W]
        apply(params, state, chosen)
        if state[H_CAPT_B] + state[H_CAPT_W] != captured:
            n_empty = _collect_empty(board, nn, empties)
        else:
            n_empty -= 1
            empties[i] = empties[n_empty]
    return played


@njit(cache=True)
def random_playout(params, state):
    """Play random moves on ``state`` (in place) to the end of the game; returns the outcome for Black."""
    play_random(params, state, params[P_MAX_MOVES] + 1)
    return state[H_OUTCOME]


@njit(cache=True)
def random_playouts(params, start, n_games):
    """``n_games`` playouts from ``start``: (black wins, white wins, draws, total moves)."""
    work = start.copy()
    wins_b = 0
    wins_w = 0
    draws = 0
    moves = 0
    for _ in range(n_games):
        for i in range(start.shape[0]):  # an explicit loop: Numba's slice assignment is many times slower
            work[i] = start[i]
        r = random_playout(params, work)
        if r > 0:
            wins_b += 1
        elif r < 0:
            wins_w += 1
        else:
            draws += 1
        moves += work[H_PLY] - start[H_PLY]
    return wins_b, wins_w, draws, moves



@njit(cache=True)
def playout_values(params, states, out):
    """Pure Monte-Carlo evaluation: the result of one random playout (the policy above) from each of
    ``states``, for the player to move there (+1 win, 0 draw, -1 loss); the states are left unchanged."""
    work = np.empty(states.shape[1], dtype=states.dtype)
    for l in range(states.shape[0]):
        for i in range(states.shape[1]):
            work[i] = states[l, i]
        mover = to_play(params, work)
        r = random_playout(params, work)
        out[l] = r if mover == 0 else -r


@njit(cache=True)
def seed_playouts(seed):
    """Seed the generator the playouts draw from (Numba keeps its own, apart from NumPy's)."""
    np.random.seed(seed)
