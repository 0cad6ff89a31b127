"""Optional Go input features (``games.make("go9", features="kata")``), after KataGo's (Wu 2019, §5.1 and
Appendix A: "input features", their ablation gave 1.55x): the 17 AlphaGo Zero planes of ``rules.encode``, then

    17  stones (either colour) whose group has exactly 1 liberty
    18  ... exactly 2 liberties
    19  ... 3 or more liberties
    20  the simple-ko point the player to move may not take back at once (``H_KO``)
    21  komi from the mover's view (+komi for White, -komi for Black) / 20, on every point (KataGo's scale)

The side to move is plane 16 of the basic encoding. Liberties are counted exactly (distinct empty neighbours of
the group), not the pseudo-liberties the rules keep. ``encode_kata`` allocates nothing: plane 20 holds a stamp per
empty point while the liberties are counted and is cleared before the ko point is written.
"""

from __future__ import annotations

from numba import njit

from .rules import (
    EMPTY,
    H_FIRST,
    H_KO,
    H_PLY,
    NUM_PLANES,
    P_BOARD,
    P_GROUP,
    P_KOMI2,
    P_NEIGH,
    P_NEXT,
    P_SIZE,
    RULES,
    encode,
)

LIB1, LIB2, LIB3, KO_PLANE, KOMI_PLANE = range(NUM_PLANES, NUM_PLANES + 5)
KATA_PLANES = NUM_PLANES + 5
KOMI_SCALE = 20.0
FEATURES = ("basic", "kata")


@njit(cache=True)
def encode_kata(params, state, out):
    """The planes above into ``out[22, N, N]`` (the first 17 from ``rules.encode``)."""
    encode(params, state, out)
    n = params[P_SIZE]
    nn = n * n
    board = state[params[P_BOARD]: params[P_BOARD] + nn]
    group = state[params[P_GROUP]: params[P_GROUP] + nn]
    nxt = state[params[P_NEXT]: params[P_NEXT] + nn]
    neigh = params[P_NEIGH]
    for plane in range(LIB1, KATA_PLANES):
        out[plane] = 0.0
    stamp = out[KO_PLANE]
    for g in range(nn):
        if board[g] == EMPTY or group[g] != g:
            continue
        libs = 0
        s = g
        while True:  # count each empty neighbour of the chain once: stamp it with the group's id
            for k in range(4):
                t = params[neigh + 4 * s + k]
                if t >= 0 and board[t] == EMPTY and stamp[t // n, t % n] != g + 1:
                    stamp[t // n, t % n] = g + 1
                    libs += 1
            s = nxt[s]
            if s == g:
                break
        plane = LIB1 if libs <= 1 else (LIB2 if libs == 2 else LIB3)
        s = g
        while True:
            out[plane, s // n, s % n] = 1.0
            s = nxt[s]
            if s == g:
                break
    stamp[:] = 0.0
    ko = state[H_KO]
    if ko >= 0:
        stamp[ko // n, ko % n] = 1.0
    mover = (state[H_FIRST] + state[H_PLY]) & 1
    komi = params[P_KOMI2] / 2.0
    out[KOMI_PLANE] = (komi if mover == 1 else -komi) / KOMI_SCALE


KATA_RULES = RULES._replace(encode=encode_kata)
"""Go's kernels with ``encode_kata`` as the encoder (the search compiles against whichever it is given)."""

__all__ = ["FEATURES", "KATA_PLANES", "KATA_RULES", "encode_kata"]
