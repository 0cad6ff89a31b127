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

The kernels live in one module per concept, all re-exported here: ``layout`` (constants, ``params``, section
accessors), ``groups`` (chains, pseudo-liberties, placing and capturing), ``moves`` (legality and superko,
``apply``, planes, hash: the ``Rules`` contract), ``scoring`` (Tromp-Taylor area), ``positions`` (setup
positions and consistency checks) and ``random_games`` (random playouts for the benchmark and for pure
Monte-Carlo players).
"""

from __future__ import annotations

from ..base import Rules
from .layout import (  # noqa: F401
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
    H_SCAN,
    H_SCORE2,
    HEADER,
    HISTORY,
    KO,
    KO_POSITIONAL,
    KO_RULES,
    KO_SIMPLE,
    KO_SITUATIONAL,
    LEGAL,
    MAX_SIZE,
    MIN_SIZE,
    NUM_PLANES,
    OCCUPIED,
    P_BITS,
    P_BOARD,
    P_DIAG,
    P_FILTER,
    P_FILTER_BITS,
    P_GROUP,
    P_HASH,
    P_HEADER,
    P_KO_RULE,
    P_KOMI2,
    P_LIBS,
    P_MAX_MOVES,
    P_NEIGH,
    P_NEXT,
    P_SIZE,
    P_STATE_LEN,
    P_STONES,
    P_WORDS,
    P_ZOBRIST,
    SUICIDE,
    SUPERKO,
    WHITE,
    compose_frames,
    dihedral_sources,
    filter_bits,
    make_params,
    state_length,
)
from .moves import (  # noqa: F401
    apply,
    encode,
    init_state,
    legal_mask,
    move_status,
    outcome,
    place,
    state_hash,
    to_play,
)
from .positions import (  # noqa: F401
    board_hash,
    check_groups,
    rebuild,
    remove_libertyless,
    sync_current,
)
from .random_games import (  # noqa: F401
    is_own_eye,
    play_random,
    playout_values,
    random_playout,
    random_playouts,
    seed_playouts,
)
from .scoring import (  # noqa: F401
    area,
    score2,
)

RULES = Rules(init_state, legal_mask, apply, outcome, to_play, encode, state_hash)
"""The Go kernels of the ``games.base.Rules`` contract."""
