"""Compiled self-play move loop: between two network calls, one call plays the moves and one gathers the leaves.

``play_step`` applies the evaluations of the last step's leaves (``engine.mcts.kernels.apply_evaluations``), and
for every tree whose search has just ended: summarises it, records the training position (search policy over
the root's legal actions), checks resignation, chooses the move (Gumbel's winner, or visit counts ** 1/T with
the game's own counter-based random draw), plays it, and either advances the tree to the new root and begins
its next search or marks the game as over. The driver (``engine.alphazero.worker``) then gathers the next leaves
(``BatchedMCTS.gather``). Python is needed only when a game ends (or a slot's buffers or tree must grow):
``play_step`` then returns ``NEEDS_DRIVER`` with each such slot's ``status`` set, and the driver starts the
next games before it gathers. (The gather stays a call of its own: linked into ``play_step`` it would be
compiled a second time, some 20 s per game.)

Per-slot game buffers (``Slots``) hold the moves and the recorded positions of the game in each slot; planes are
not stored but re-encoded from the moves when a game ends (``export_positions``), and policies are stored over
the root's edges (legal actions), so the buffers stay small for chess and 19x19 Go.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from games.base import ONGOING

from ..mcts.kernels import (
    GOLDEN,
    I_GUMBEL,
    I_MAX_LENGTH,
    I_SIMS_CHEAP,
    I_SIMS_FULL,
    STEP_TOO_MANY_ACTIONS,
    advance,
    apply_evaluations,
    begin_search,
    copy_array,
    encode_planes,
    helper,
    kernel,
    splitmix64,
    summarize,
    temperature_choice,
    unit_interval,
)
from ..mcts.tree import ROOT

NEEDS_DRIVER = -(1 << 41)
"""``play_step``: games ended, or slots need room (see ``status``)."""

# Slots.status
RUNNING = 0
ENDED = 1        # the game is over by the rules (result in Slots.result)
RESIGNED = 2     # the side to move resigned
MAX_MOVES = 3    # the move limit was reached (a draw)
NEEDS_BEGIN = 4  # the game goes on, but its buffers or tree must grow before its next search

# play_step's float and integer options
SF_TEMPERATURE = 0
SF_FINAL_TEMPERATURE = 1
SF_RESIGN_THRESHOLD = 2
NUM_SF = 3
SI_TEMPERATURE_MOVES = 0
SI_RESIGN_ON = 1
SI_RESIGN_MIN_MOVES = 2
NUM_SI = 3

# Slots.counters
C_MOVES = 0
C_SEARCHES = 1

Slots = namedtuple("Slots", [
    "seed",         # uint64[B]       the game's seed: its temperature draws are splitmix64(seed, k)
    "draws",        # int64[B]        draws taken so far
    "playthrough",  # bool[B]         resignation disabled (played out to measure false resigns)
    "would_resign", # bool[B, 2]      playthrough games: the side would have resigned
    "moves",        # int32[B]        moves played (random opening moves included)
    "actions",      # int32[B, K]     the moves
    "npos",         # int32[B]        training positions recorded
    "pos_ply",      # int32[B, K]     their plies
    "pos_mover",    # int8[B, K]      the player to move there
    "pos_edges",    # int32[B, K]     legal actions there (entries used in pos_action / pos_policy)
    "pos_action",   # int16[B, K, E]  the root's legal actions (int32 for games of more than 32,767 actions)
    "pos_policy",   # float32[B, K, E] the search policy over them
    "status",       # int8[B]         RUNNING, ENDED, RESIGNED, MAX_MOVES or NEEDS_BEGIN (set by play_step)
    "result",       # int8[B]         a finished game's result, first player's view
    "ended",        # bool[B]         scratch: trees whose search ended in this call
    "begin",        # bool[B]         scratch: trees whose next search begins in this call
    "scratch",      # game dtype[S]   scratch position
    "counters",     # int64[2]        moves played, searches ended
])
Slots.__doc__ = "Self-play games in B slots, for ``play_step`` (K: buffer capacity in moves, E: edge slots)."


def allocate_slots(batch: int, capacity: int, edges: int, state_size: int, state_dtype, num_actions: int) -> Slots:
    B, K, E = batch, capacity, edges
    action_dtype = np.int16 if num_actions <= np.iinfo(np.int16).max else np.int32
    return Slots(seed=np.zeros(B, np.uint64), draws=np.zeros(B, np.int64), playthrough=np.zeros(B, np.bool_),
                 would_resign=np.zeros((B, 2), np.bool_), moves=np.zeros(B, np.int32),
                 actions=np.zeros((B, K), np.int32), npos=np.zeros(B, np.int32), pos_ply=np.zeros((B, K), np.int32),
                 pos_mover=np.zeros((B, K), np.int8), pos_edges=np.zeros((B, K), np.int32),
                 pos_action=np.zeros((B, K, E), action_dtype), pos_policy=np.zeros((B, K, E), np.float32),
                 status=np.zeros(B, np.int8), result=np.zeros(B, np.int8), ended=np.zeros(B, np.bool_),
                 begin=np.zeros(B, np.bool_), scratch=np.zeros(state_size, state_dtype),
                 counters=np.zeros(2, np.int64))


def grow_slots(slots: Slots, capacity: int) -> Slots:
    """A copy of ``slots`` with room for ``capacity`` moves per game (long games: chess, Go)."""
    fields = slots._asdict()
    for name in ("actions", "pos_ply", "pos_mover", "pos_edges", "pos_action", "pos_policy"):
        arr = fields[name]
        new = np.zeros((arr.shape[0], capacity) + arr.shape[2:], arr.dtype)
        new[:, :arr.shape[1]] = arr
        fields[name] = new
    return Slots(**fields)


@kernel
def draw(seed, k):
    """Draw ``k`` of a game's stream: a uniform number in (0, 1) that depends on ``seed`` and ``k`` only, so a
    game's draws do not depend on when other games move, and a resumed game continues from its draw count."""
    return unit_interval(splitmix64(seed + np.uint64(k) * GOLDEN))


@kernel
def play_step(rules, params, variant, t, lv, cache, cf, ci, n_in, searching, s, sf, si, visits, policy, q, value,
              best, prior):
    """Apply the ``n_in`` evaluations in ``lv``, play the moves of the trees whose search ended and begin their
    next searches. Returns 0, ``NEEDS_DRIVER`` (see ``Slots.status``), -(1 + l) for an unusable evaluation of
    leaf ``l``, or ``STEP_TOO_MANY_ACTIONS``. ``visits`` .. ``prior`` are the ``summarize`` outputs ([B, A] and
    [B])."""
    if n_in > 0:
        bad = apply_evaluations(rules, params, variant, t, lv, cache, cf, ci, n_in)
        if bad < 0:
            return bad
    B = searching.shape[0]
    ended = s.ended
    any_ended = False
    for b in range(B):
        ended[b] = searching[b] and t.sims_left[b] <= 0
        if ended[b]:
            searching[b] = False
            any_ended = True
    if not any_ended:
        return 0
    summarize(variant, t, cf, ci, ended, visits, policy, q, value, best, prior, lv.work)
    begin = s.begin
    any_begin = False
    needs_driver = False
    for b in range(B):
        begin[b] = False
        if not ended[b]:
            continue
        code = _move(rules, params, t, lv, ci, s, sf, si, visits, policy, q, value, best, b)
        if code == _MOVE_TOO_MANY_ACTIONS:
            return STEP_TOO_MANY_ACTIONS
        if code == _MOVE_BEGIN:
            begin[b] = True
            any_begin = True
        else:
            needs_driver = True
    if any_begin:
        begin_search(variant, t, cf, ci, begin, lv.work, False)
        for b in range(B):
            if begin[b]:
                searching[b] = True
    return NEEDS_DRIVER if needs_driver else 0


# what _move did with a tree
_MOVE_BEGIN = 0              # moved and advanced: its next search can begin
_MOVE_DRIVER = 1             # the game is over or the slot needs room (Slots.status says which)
_MOVE_TOO_MANY_ACTIONS = 2   # the new root has more legal actions than edge slots


@helper
def _move(rules, params, t, lv, ci, s, sf, si, visits, policy, q, value, best, b):
    """Tree ``b``'s search has ended: record its training position (full searches), resign or choose the move
    (Gumbel's winner, or visit counts ** 1/T with the game's own draw), play it, and advance the tree."""
    s.counters[C_SEARCHES] += 1
    u = draw(s.seed[b], s.draws[b])
    s.draws[b] += 1
    root = t.state[b, ROOT]
    ply = s.moves[b]
    mover = rules.to_play(params, root)
    if t.full_search[b]:
        _record_position(t, s, policy, b, ply, mover)
    if si[SI_RESIGN_ON] != 0 and ply >= si[SI_RESIGN_MIN_MOVES] and _hopeless(visits, q, value, sf, b):
        if s.playthrough[b]:
            s.would_resign[b, mover] = True
        else:
            s.status[b] = RESIGNED
            s.result[b] = -1 if mover == 0 else 1
            return _MOVE_DRIVER
    temperature = sf[SF_TEMPERATURE] if ply < si[SI_TEMPERATURE_MOVES] else sf[SF_FINAL_TEMPERATURE]
    if ci[I_GUMBEL] != 0:  # the sequential-halving winner: its Gumbel noise already samples the move
        action = best[b]
    else:
        action = temperature_choice(visits[b], temperature, u, best[b])
    s.actions[b, ply] = action
    s.moves[b] = ply + 1
    s.counters[C_MOVES] += 1
    after = s.scratch
    copy_array(after, root)
    rules.apply(params, after, action)
    outcome = rules.outcome(params, after)
    if outcome != ONGOING:
        s.status[b] = ENDED
        s.result[b] = outcome
        return _MOVE_DRIVER
    if ply + 1 >= ci[I_MAX_LENGTH]:
        s.status[b] = MAX_MOVES
        s.result[b] = 0
        return _MOVE_DRIVER
    if advance(rules, params, t, b, action, lv.scratch_legal) == 0:
        return _MOVE_TOO_MANY_ACTIONS
    sims = max(ci[I_SIMS_FULL], ci[I_SIMS_CHEAP])
    if ply + 1 >= s.actions.shape[1] or t.num_nodes[b] + sims + 1 > t.visit_count.shape[1]:
        s.status[b] = NEEDS_BEGIN
        return _MOVE_DRIVER
    return _MOVE_BEGIN


@helper
def _record_position(t, s, policy, b, ply, mover):
    """Record the root of tree ``b`` as a training position: ply, mover, and the search policy over its edges."""
    k = s.npos[b]
    s.pos_ply[b, k] = ply
    s.pos_mover[b, k] = mover
    ne = t.num_edges[b, ROOT]
    s.pos_edges[b, k] = ne
    for e in range(ne):
        a = t.edge_action[b, ROOT, e]
        s.pos_action[b, k, e] = a
        s.pos_policy[b, k, e] = policy[b, a]
    s.npos[b] = k + 1


@helper
def _hopeless(visits, q, value, sf, b):
    """Resignation: the root value and the best visited child's Q are both below the threshold."""
    threshold = sf[SF_RESIGN_THRESHOLD]
    best_q = -np.inf
    for a in range(visits.shape[1]):
        if visits[b, a] > 0:
            best_q = max(best_q, np.float64(q[b, a]))
    if best_q == -np.inf:
        best_q = value[b]
    return value[b] < threshold and best_q < threshold


@kernel
def export_positions(rules, params, state, actions, n_moves, plies, movers, n_pos, edges, pos_action, pos_policy,
                     planes_out, policy_out):
    """Replay a game's moves from ``state`` (its initial position; changed in place) and write the planes and the
    dense policy of its ``n_pos`` recorded positions. False if a recorded mover does not match the replay."""
    p = 0
    for ply in range(n_moves + 1):
        while p < n_pos and plies[p] == ply:
            if rules.to_play(params, state) != movers[p]:
                return False
            encode_planes(rules, params, state, planes_out[p])
            for a in range(policy_out.shape[1]):
                policy_out[p, a] = 0.0
            for e in range(edges[p]):
                policy_out[p, pos_action[p, e]] = pos_policy[p, e]
            p += 1
        if ply < n_moves:
            rules.apply(params, state, actions[ply])
    return p == n_pos
