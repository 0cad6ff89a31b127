"""A hand-written chess evaluator for the search when no trained network is available: material and a few
positional terms, resolved by a quiescence search, with a prior from a one-ply search.

Pure MCTS with random rollouts (``agents.make("mcts:N", chess)``) is weak and slow in chess: a random game
lasts hundreds of plies and its result says little about the position it started from. This evaluator
replaces the rollout with the classical static evaluation of chess programs (Shannon 1950, "Programming a
computer for playing chess": material first, then mobility and pawn structure), here material in centipawns
(pawn 100, knight 320, bishop 330, rook 500, queen 900) plus small hand-set bonuses (central knights and
bishops, advanced and central pawns, rooks on the seventh rank, a sheltered king while queens and pieces
remain and a central king once they are gone, interpolated by the material left). Only captures and
promotions are searched below a leaf (**quiescence search**, Beal 1990, "A generalised quiescence search
algorithm": the side to move may stand pat or capture, every move when in check, alpha-beta with the most
valuable victim first and delta pruning), so a leaf in the middle of an exchange is scored after the
exchange.

For a leaf the evaluator searches every legal move one ply deep with that quiescence search (**a one-ply
search**) and returns

* **value**: the best child's score for the player to move, mapped to [-1, 1] by ``tanh(score / 543)``:
  the inverse of the centipawn scale ``games.chess.score`` (an expected score of ``1 / (1 + exp(-0.00368
  cp))``, Lichess's model) with which ``engine.uci`` reports values, so the engine reports about the
  material score it searched with; checkmate is -1 or +1;
* **prior**: ``softmax((child score - best score) / 150)``, clipped at -12 nats: moves that lose material
  get little of the search, moves that win it most.

It is ``agents.make("mcts-material:N", chess)`` (N simulations per move) and the fallback player of
``python -m engine.uci`` without a checkpoint. All of it is Numba over the chess rules' bitboards.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from games.chess import rules as R
from games.chess import tables as T
from games.chess.bits import lsb, popcount
from games.chess.score import CP_PER_ATANH

from .base import Agent

__all__ = ["MaterialEvaluator", "PIECE_VALUES", "CP_PER_VALUE", "evaluate_position", "search_position",
           "make_material_mcts"]

PIECE_VALUES = np.array([100, 320, 330, 500, 900, 0], dtype=np.int64)
"""Centipawns of pawn, knight, bishop, rook, queen, king."""
CP_PER_VALUE = CP_PER_ATANH
"""value = tanh(cp / CP_PER_VALUE): the centipawn scale of ``games.chess.score`` (Lichess's win-rate model)."""
PRIOR_SCALE = 150.0
"""Centipawns per nat of the one-ply prior."""
MATE = 30000
MAX_QPLY = 16
EVASION_PLIES = 3
"""Quiescence plies below the leaf at which a check is answered by every evasion (deeper: scored statically)."""
PRIOR_CLIP = 12.0


def _square_tables() -> tuple[np.ndarray, np.ndarray]:
    """Bonuses in centipawns by piece and square for white (a1 = 0); black reads square ^ 56. Two sets:
    with pieces on the board (index 0) and in the endgame (index 1); only pawns and kings differ."""
    rank = np.arange(64) // 8
    file = np.arange(64) % 8
    centre = np.maximum(np.abs(file - 3.5), np.abs(rank - 3.5)) - 0.5  # 0 on d4-e5 .. 3 on the rim
    table = np.zeros((2, 6, 64))
    pawn = 6.0 * np.clip(rank - 1, 0, 6) + np.where((file >= 3) & (file <= 4) & (rank >= 2) & (rank <= 4), 12, 0)
    table[0, R.PAWN] = pawn
    table[1, R.PAWN] = 14.0 * np.clip(rank - 1, 0, 6)  # passed or not, pawns race in the endgame
    table[:, R.KNIGHT] = 10.0 * (1.5 - centre)
    table[:, R.BISHOP] = 5.0 * (1.5 - centre)
    table[:, R.ROOK] = np.where(rank == 6, 15.0, 0.0)
    table[:, R.QUEEN] = 3.0 * (1.5 - centre)
    table[0, R.KING] = -15.0 * rank + np.where((file >= 2) & (file <= 5), -10.0, 5.0) * (rank == 0)
    table[1, R.KING] = 12.0 * (1.5 - centre)
    return table.astype(np.int64), np.array([0, 1, 1, 2, 4, 0], dtype=np.int64)


_TABLE, _PHASE_WEIGHT = _square_tables()
_FULL_PHASE = 24  # all pieces on the board: knights and bishops count 1, rooks 2, queens 4


@njit(cache=True)
def evaluate_position(board, table, phase_weight, values):
    """Static score in centipawns of ``board`` for the side to move (no search)."""
    score = np.int64(0)
    phase = np.int64(0)
    mg = np.int64(0)
    eg = np.int64(0)
    for colour in range(2):
        sign = 1 if colour == 0 else -1
        flip = 0 if colour == 0 else 56
        own = board[R.WHITE_BB + colour]
        for piece in range(6):
            bb = board[piece] & own
            if bb == 0:
                continue
            count = popcount(bb)
            score += sign * values[piece] * count
            phase += phase_weight[piece] * count
            while bb:
                sq = lsb(bb) ^ flip
                bb &= bb - 1
                mg += sign * table[0, piece, sq]
                eg += sign * table[1, piece, sq]
    phase = min(phase, _FULL_PHASE)  # interpolate between the two tables by the pieces left
    blend = mg * phase + eg * (_FULL_PHASE - phase)
    # rounded towards zero, so that a position and its colour mirror score the same
    score += blend // _FULL_PHASE if blend >= 0 else -((-blend) // _FULL_PHASE)
    # two bishops
    for colour in range(2):
        if popcount(board[R.BISHOP] & board[R.WHITE_BB + colour]) >= 2:
            score += 30 if colour == 0 else -30
    return score if board[R.SIDE] == 0 else -score


@njit(cache=True)
def _victim(board, move, values):
    """Centipawns gained by a move's capture and promotion (material only)."""
    to = (move >> 6) & 63
    gain = 0
    if move & R.FLAG_EP:
        gain = 100
    else:
        bit = np.int64(1) << to
        if board[R.WHITE_BB + 1 - board[R.SIDE]] & bit:
            for t in range(5):
                if board[t] & bit:
                    gain = values[t]
                    break
    promo = (move >> 12) & 7
    if promo:
        gain += values[promo] - 100
    return gain



@njit(cache=True)
def _add_if_legal(P, b, scratch, m, us, moves, n):
    for w in range(R.BOARD_SIZE):
        scratch[w] = b[w]
    R.make(P, scratch, m)
    own = scratch[R.WHITE_BB + us]
    ksq = lsb(scratch[R.KING] & own)
    them_bb = scratch[R.WHITE_BB + 1 - us]
    if R._attacked(P, scratch, ksq, us, them_bb, own | them_bb):
        return n
    moves[n] = m
    return n + 1


@njit(cache=True)
def noisy_moves(P, b, moves, scratch):
    """The legal captures (en passant included) and queen promotions of board ``b`` into ``moves``; returns
    their number. Pseudo-legal generation, then each move is made on ``scratch`` and kept if the king is safe
    (quiescence nodes have few such moves, so this beats filtering the full legal list)."""
    us = b[R.SIDE]
    own = b[R.WHITE_BB + us]
    them_bb = b[R.WHITE_BB + 1 - us]
    occ = own | them_bb
    n = 0
    for piece in range(R.KNIGHT, R.KING + 1):
        pieces = b[piece] & own
        while pieces:
            fr = lsb(pieces)
            pieces &= pieces - 1
            if piece == R.KNIGHT:
                att = P[T.KNIGHT + fr]
            elif piece == R.BISHOP:
                att = R.bishop_attacks(P, fr, occ)
            elif piece == R.ROOK:
                att = R.rook_attacks(P, fr, occ)
            elif piece == R.QUEEN:
                att = R.bishop_attacks(P, fr, occ) | R.rook_attacks(P, fr, occ)
            else:
                att = P[T.KING + fr]
            att &= them_bb
            while att:
                to = lsb(att)
                att &= att - 1
                n = _add_if_legal(P, b, scratch, fr | (to << 6) | (piece << 15), us, moves, n)
    last_rank = 7 - 7 * us
    step = 8 - 16 * us
    pawns = b[R.PAWN] & own
    while pawns:
        fr = lsb(pawns)
        pawns &= pawns - 1
        att = P[T.PAWN_ATT + us * 64 + fr] & them_bb
        while att:
            to = lsb(att)
            att &= att - 1
            promo = R.QUEEN if (to >> 3) == last_rank else 0
            n = _add_if_legal(P, b, scratch, fr | (to << 6) | (promo << 12), us, moves, n)
        ahead = fr + step
        if (ahead >> 3) == last_rank and not (occ >> ahead) & 1:
            n = _add_if_legal(P, b, scratch, fr | (ahead << 6) | (R.QUEEN << 12), us, moves, n)
    ep = b[R.EP]
    if ep >= 0:
        cands = P[T.PAWN_ATT + (1 - us) * 64 + ep] & b[R.PAWN] & own
        while cands:
            fr = lsb(cands)
            cands &= cands - 1
            n = _add_if_legal(P, b, scratch, fr | (ep << 6) | R.FLAG_EP, us, moves, n)
    return n


_OPEN = 1 << 40  # "the node has moves to search" (never a score)


@njit(cache=True)
def _open_node(P, work, ply, alpha, beta, best, count, index, table, phase_weight, values, counter):
    """Set up quiescence node ``ply`` (board ``work[0][ply]``): its score if it needs no search (no legal move,
    stand pat at or above beta, nothing worth capturing), else ``_OPEN`` with its ordered moves in
    ``work[1][ply]``. Captures that give a more valuable piece for a defended one are left out (the static
    exchange would lose them); every evasion is searched when in check near the leaf."""
    boards, moves, keys, no_mask = work
    counter[0] += 1
    b = boards[ply]
    check = R.in_check(P, b)
    if check and ply < EVASION_PLIES:
        n = R.generate(P, b, R.MODE_LIST, moves[ply], no_mask)
        if n == 0:
            return -MATE + ply + 1
        stand = -MATE
    else:
        check = False  # deep in the quiescence search a check is scored statically
        stand = evaluate_position(b, table, phase_weight, values)
        if stand >= beta[ply] or ply >= MAX_QPLY - 1:
            return stand
        if stand > alpha[ply]:
            alpha[ply] = stand
        n = noisy_moves(P, b, moves[ply], boards[MAX_QPLY])
    best[ply] = stand
    us = b[R.SIDE]
    them_bb = b[R.WHITE_BB + 1 - us]
    occ = b[R.WHITE_BB] | b[R.BLACK_BB]
    m = 0
    for i in range(n):
        mv = moves[ply, i]
        gain = _victim(b, mv, values)
        if not check:
            if stand + gain + 200 <= alpha[ply]:  # delta pruning: even this capture cannot reach alpha
                continue
            piece = (mv >> 15) & 7
            to = (mv >> 6) & 63
            if values[piece] > gain and R._attacked(P, b, to, us, them_bb, occ ^ (np.int64(1) << (mv & 63))):
                continue
        # insertion by key: most valuable victim first, then least valuable attacker
        key = gain * 8 - ((mv >> 15) & 7)
        j = m
        while j > 0 and keys[ply, j - 1] < key:
            moves[ply, j] = moves[ply, j - 1]
            keys[ply, j] = keys[ply, j - 1]
            j -= 1
        moves[ply, j] = mv
        keys[ply, j] = key
        m += 1
    if m == 0:
        return stand
    count[ply] = m
    index[ply] = 0
    return _OPEN


@njit(cache=True)
def quiesce(P, work, alpha0, beta0, table, phase_weight, values, counter):
    """Quiescence search (fail-soft alpha-beta over captures and promotions) of ``work[0][0]`` for the side to
    move in the window (alpha0, beta0); iterative, with one stack entry per ply in ``work``."""
    boards = work[0]
    moves = work[1]
    alpha = np.empty(MAX_QPLY + 1, dtype=np.int64)
    beta = np.empty(MAX_QPLY + 1, dtype=np.int64)
    best = np.empty(MAX_QPLY + 1, dtype=np.int64)
    count = np.empty(MAX_QPLY + 1, dtype=np.int64)
    index = np.empty(MAX_QPLY + 1, dtype=np.int64)
    alpha[0] = alpha0
    beta[0] = beta0
    r = _open_node(P, work, 0, alpha, beta, best, count, index, table, phase_weight, values, counter)
    if r != _OPEN:
        return r
    ply = 0
    while True:
        if index[ply] < count[ply]:
            mv = moves[ply, index[ply]]
            index[ply] += 1
            child = boards[ply + 1]
            for w in range(R.BOARD_SIZE):
                child[w] = boards[ply, w]
            R.make(P, child, mv)
            alpha[ply + 1] = -beta[ply]
            beta[ply + 1] = -alpha[ply]
            r = _open_node(P, work, ply + 1, alpha, beta, best, count, index, table, phase_weight, values, counter)
            if r == _OPEN:
                ply += 1
                continue
            score = -r
        else:
            if ply == 0:
                return best[0]
            ply -= 1
            score = -best[ply + 1]
        if score > best[ply]:
            best[ply] = score
            if score > alpha[ply]:
                alpha[ply] = score
                if score >= beta[ply]:
                    index[ply] = count[ply]  # cut-off


@njit(cache=True)
def search_position(P, state, work, table, phase_weight, values, child_scores, child_moves, counter):
    """One-ply search with quiescence below: every legal move's score (mover's view) into ``child_scores`` and
    ``child_moves``; returns the number of moves (0: no legal move). ``work``: ``_workspace()``."""
    boards, moves, keys, no_mask = work
    n = R.generate(P, state, R.MODE_LIST, child_moves, no_mask)
    # captures first (most valuable victim), so that the best score, and with it the window, rises early
    for i in range(n):
        mv = child_moves[i]
        key = _victim(state, mv, values) * 8 - ((mv >> 15) & 7)
        j = i
        while j > 0 and keys[0, j - 1] < key:
            child_moves[j] = child_moves[j - 1]
            keys[0, j] = keys[0, j - 1]
            j -= 1
        child_moves[j] = mv
        keys[0, j] = key
    top = -MATE - 1
    for i in range(n):
        child = boards[0]
        for w in range(R.BOARD_SIZE):
            child[w] = state[w]
        R.make(P, child, child_moves[i])
        # each move's own score (the prior needs them all), exact down to the margin below the best at which a
        # move's prior is clipped anyway (fail-soft: a bound below it)
        lower = max(top - np.int64(PRIOR_CLIP * PRIOR_SCALE), -MATE - 1)
        score = -quiesce(P, work, -MATE - 1, -lower, table, phase_weight, values, counter)
        child_scores[i] = score
        if score > top:
            top = score
    return n


def _workspace():
    """Buffers of the quiescence search: boards (the last one is scratch for legality tests), move lists and
    ordering keys per ply, an empty action mask."""
    return (np.zeros((MAX_QPLY + 1, 16), dtype=np.int64), np.zeros((MAX_QPLY + 1, 256), dtype=np.int64),
            np.zeros((MAX_QPLY + 1, 256), dtype=np.int64), np.zeros(0, dtype=np.bool_))


@njit(cache=True)
def _evaluate_batch(P, states, work, table, phase_weight, values, logits, out_values, counter):
    scores = np.zeros(256, dtype=np.int64)
    mv = np.zeros(256, dtype=np.int64)
    for i in range(states.shape[0]):
        s = states[i]
        n = search_position(P, s, work, table, phase_weight, values, scores, mv, counter)
        if n == 0:
            out_values[i] = -1.0 if R.in_check(P, s) else 0.0
            continue
        best = scores[:n].max()
        us = s[R.SIDE]
        for j in range(n):
            logits[i, R.move_to_action(us, mv[j])] = max((scores[j] - best) / PRIOR_SCALE, -PRIOR_CLIP)
        if best >= MATE - 100:
            out_values[i] = 1.0
        elif best <= -MATE + 100:
            out_values[i] = -1.0
        else:
            out_values[i] = np.tanh(best / CP_PER_VALUE)


class MaterialEvaluator:
    """The evaluator of this module for ``engine.mcts`` (chess only): ``evaluate_states(states, legal)`` ->
    (logits, values) for the player to move. ``nodes`` counts quiescence nodes searched."""

    def __init__(self, game):
        if not getattr(game, "name", "").startswith("chess"):
            raise ValueError(f"the material evaluator plays chess only, not {game.name}")
        self.game = game
        self._counter = np.zeros(1, dtype=np.int64)
        self._work = _workspace()

    @property
    def nodes(self) -> int:
        return int(self._counter[0])

    def evaluate_states(self, states, legal):
        states = np.ascontiguousarray(states)
        n = states.shape[0]
        logits = np.full((n, self.game.num_actions), -30.0, dtype=np.float32)
        values = np.zeros(n, dtype=np.float32)
        _evaluate_batch(self.game.params, states, self._work, _TABLE, _PHASE_WEIGHT, PIECE_VALUES, logits, values,
                        self._counter)
        return logits, values

    def score(self, state) -> int:
        """The one-ply search score of a position in centipawns for the side to move."""
        scores = np.zeros(256, dtype=np.int64)
        mv = np.zeros(256, dtype=np.int64)
        n = search_position(self.game.params, np.ascontiguousarray(state), self._work, _TABLE, _PHASE_WEIGHT,
                            PIECE_VALUES, scores, mv, self._counter)
        if n == 0:
            return -MATE if self.game.is_check(state) else 0
        return int(scores[:n].max())

    def static(self, state) -> int:
        """The static score (no search) in centipawns for the side to move."""
        return int(evaluate_position(np.ascontiguousarray(state), _TABLE, _PHASE_WEIGHT, PIECE_VALUES))


class MaterialMixEvaluator:
    """A chess network's priors with a leaf value mixed from the network's and this module's one-ply quiescence
    search: ``(1 - mix) * v_network + mix * v_material`` (AlphaGo mixed its value network with rollouts the same
    way, Silver et al. 2016, and found the mix stronger than either). The quiescence search sees the captures a
    small network misses; the network judges everything else. Other attributes are the network evaluator's."""

    def __init__(self, game, network, mix: float):
        if not 0.0 <= float(mix) <= 1.0:
            raise ValueError(f"the material mix is from 0 to 1, got {mix}")
        self.game, self.network, self.mix = game, network, float(mix)
        self.material = MaterialEvaluator(game)

    def evaluate_states(self, states, legal):
        planes = np.stack([self.game.encode(s) for s in states])
        logits, value = self.network(planes, legal)
        _, material = self.material.evaluate_states(states, legal)
        return logits, ((1.0 - self.mix) * value + self.mix * material).astype(np.float32)

    def __getattr__(self, name):
        if name in ("game", "network", "mix", "material"):  # not set yet (copy, pickle)
            raise AttributeError(name)
        return getattr(self.network, name)


def make_material_mcts(game, arg, seed=0, simulations=None, time_limit=None, **_) -> Agent:
    """``mcts-material[:N]``: MCTS with ``MaterialEvaluator`` (chess), N simulations per move (800 by default);
    ``time_limit`` (seconds) searches that long a move instead."""
    from engine.mcts import MCTSConfig

    from .mcts import MCTSAgent

    try:
        n = int(arg) if arg else int(simulations or 800)
    except ValueError:
        raise ValueError(f"mcts-material:{arg}: the argument is the number of simulations per move, "
                         "e.g. mcts-material:800") from None
    if n < 1:
        raise ValueError(f"mcts-material:{arg}: simulations must be >= 1")
    return MCTSAgent(game, MaterialEvaluator(game), MCTSConfig(simulations=n, dirichlet_epsilon=0.0), seed=seed,
                     name=f"mcts-material:{n}", time_limit=time_limit)
