"""Experience replay that stores each frame once, with n-step returns and prioritized sampling.

Layout (as in DQN's original replay, Mnih et al. 2015, and Dopamine's circular buffer): every observation the
environment returns is one *slot*, holding only the newest frame (an 84x84 uint8 Atari frame, or a CartPole
vector), the action taken from it, the reward and the terminal flag that followed, and two boundary flags:
``first`` (the observation opens an episode) and ``last`` (the episode ended here: nothing was taken from it).
Stacks of ``stack`` frames are built when a batch is sampled, so 1M Atari transitions take about 7 GB instead of
the 28-56 GB of storing stacks. A stack never reaches across an episode boundary: frames before the episode's
first observation are zeros, exactly what the environments put in the stack after a reset.

Parallel environments write interleaved streams, so the capacity is split into ``num_streams`` contiguous
circular buffers, one per environment; a global slot index is ``stream * stream_capacity + position``.

A transition starting at slot ``i`` uses the n-step return of Sutton (1988) / Hessel et al. (2018):
``G = sum_{k<m} gamma^k r_{i+k}`` over the ``m <= n`` steps until the first terminal flag, episode end or
``n``; the bootstrap discount is ``gamma^m`` (0 after a terminal flag, so a truncated episode is still
bootstrapped from its final observation) and the next observation is slot ``i + m``.

Prioritized replay (Schaul et al. 2016, proportional variant): slot ``i`` is drawn with probability
``P(i) = p_i / sum_j p_j`` where ``p_i = (|delta_i| + eps)^alpha``; new transitions get the largest priority
seen so far; importance weights ``w_i = (N P(i))^-beta / max_j w_j`` correct the bias, with ``beta`` annealed
to 1 by the caller. Sum and min trees over the slots are Numba kernels; slots that cannot start a transition
(not yet complete, at an episode end, or whose history was overwritten) hold priority 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["ReplayBuffer", "Batch", "SequenceBatch"]


# ----------------------------------------------------------------------------------------------------------------
# Sum / min trees: a complete binary tree in one array, leaves at [size, 2 * size), root at 1.


@njit(cache=True)
def _tree_set(sum_tree, min_tree, leaf, value):
    i = leaf + sum_tree.shape[0] // 2
    sum_tree[i] = value
    min_tree[i] = value if value > 0.0 else np.inf  # empty slots must not set the largest importance weight
    i //= 2
    while i >= 1:
        sum_tree[i] = sum_tree[2 * i] + sum_tree[2 * i + 1]
        min_tree[i] = min(min_tree[2 * i], min_tree[2 * i + 1])
        i //= 2


@njit(cache=True)
def _tree_find(sum_tree, mass):
    """The leaf whose prefix-sum interval holds ``mass`` (0 <= mass < total)."""
    half = sum_tree.shape[0] // 2
    i = 1
    while i < half:
        left = sum_tree[2 * i]
        if mass < left or sum_tree[2 * i + 1] <= 0.0:
            i = 2 * i
        else:
            mass -= left
            i = 2 * i + 1
    return i - half


# ----------------------------------------------------------------------------------------------------------------
# Slot geometry and transition validity.


@njit(cache=True)
def _age(pos, count, cap, i):
    """Logical age of position ``i`` in a stream: 0 = oldest stored slot, count - 1 = newest; -1 when empty."""
    if count < cap:
        return i if i < count else -1
    return (i - pos) % cap


@njit(cache=True)
def _walk(first, terminal, last, base, cap, i, age, count, n_step):
    """Length m of the n-step walk from position i and whether it ended on a terminal flag (-1: incomplete)."""
    for k in range(n_step):
        if age + k + 1 > count - 1:
            return -1, False  # the next observation is not stored yet
        j = base + (i + k) % cap
        if terminal[j]:
            return k + 1, True
        nxt = base + (i + k + 1) % cap
        if first[nxt]:
            # The stream was restarted (a checkpoint) before this episode's next observation: the walk stops
            # at the last observation it has, or the slot cannot start a transition at all.
            return (k, False) if k > 0 else (-1, False)
        if last[nxt]:
            return k + 1, False
    return n_step, False


@njit(cache=True)
def _valid_start(first, last, terminal, pos, count, cap, stack, n_step, g):
    """Whether global slot g starts a usable transition; returns its walk length (0 when not)."""
    stream = g // cap
    i = g - stream * cap
    base = stream * cap
    age = _age(pos[stream], count[stream], cap, i)
    if age < 0 or last[g]:
        return 0
    for k in range(stack - 1):  # the frame history must be stored back to the stack's depth or an episode start
        if first[base + (i - k) % cap]:
            break
        if age - k - 1 < 0:
            return 0
    m, _ = _walk(first, terminal, last, base, cap, i, age, count[stream], n_step)
    return m if m > 0 else 0


@njit(cache=True)
def _copy_row(src, dst):
    # An element loop, not ``dst[:] = src``: LLVM vectorizes it, and it copies a uint8 Atari frame about 10x
    # faster than numba's slice assignment (which made the sampling of a 64-transition batch take 3-8 ms).
    for t in range(src.shape[0]):
        dst[t] = src[t]


@njit(cache=True)
def _zero_row(dst):
    for t in range(dst.shape[0]):
        dst[t] = 0


@njit(cache=True)
def _gather_stack(frames, first, base, cap, i, stack, out):
    """Write frames [i - stack + 1 .. i] of one stream into out[stack, F], zeros before an episode start."""
    _copy_row(frames[base + i], out[stack - 1])
    stop = first[base + i]
    for k in range(1, stack):
        if stop:
            _zero_row(out[stack - 1 - k])
        else:
            j = base + (i - k) % cap
            _copy_row(frames[j], out[stack - 1 - k])
            stop = first[j]


@njit(cache=True)
def _fill_batch(frames, actions, rewards, first, last, terminal, pos, count, cap, stack, n_step, gamma,
                reward_clip, idx, obs, next_obs, act, ret, disc):
    for b in range(idx.shape[0]):
        g = idx[b]
        stream = g // cap
        i = g - stream * cap
        base = stream * cap
        age = _age(pos[stream], count[stream], cap, i)
        m, done = _walk(first, terminal, last, base, cap, i, age, count[stream], n_step)
        total = 0.0
        scale = 1.0
        for k in range(m):
            r = rewards[base + (i + k) % cap]
            if reward_clip > 0.0:
                r = min(max(r, -reward_clip), reward_clip)
            total += scale * r
            scale *= gamma
        ret[b] = total
        disc[b] = 0.0 if done else scale
        act[b] = actions[g]
        _gather_stack(frames, first, base, cap, i, stack, obs[b])
        _gather_stack(frames, first, base, cap, (i + m) % cap, stack, next_obs[b])


@njit(cache=True)
def _check_starts(first, last, terminal, pos, count, cap, stack, n_step, candidates, ok):
    for b in range(candidates.shape[0]):
        ok[b] = _valid_start(first, last, terminal, pos, count, cap, stack, n_step, candidates[b]) > 0


@njit(cache=True)
def _count_valid(first, last, terminal, pos, count, cap, stack, n_step):
    n = 0
    for g in range(first.shape[0]):
        if _valid_start(first, last, terminal, pos, count, cap, stack, n_step, g) > 0:
            n += 1
    return n


@njit(cache=True)
def _sample_prioritized(sum_tree, uniforms, out, probs):
    """Stratified proportional sampling: one draw in each of ``len(out)`` equal slices of the total mass."""
    total = sum_tree[1]
    batch = out.shape[0]
    half = sum_tree.shape[0] // 2
    segment = total / batch
    for b in range(batch):
        u = uniforms[b]
        for _ in range(64):  # a draw can land on a zero leaf only through rounding at a slice edge
            mass = min((b + u) * segment, total * (1.0 - 1e-12))
            g = _tree_find(sum_tree, mass)
            p = sum_tree[g + half]
            if p > 0.0:
                break
            u = (u + 0.6180339887498949) % 1.0
        out[b] = g
        probs[b] = p / total


@njit(cache=True)
def _add(frames, actions, rewards, first, last, terminal, pos, count, cap, streams, new_frames, new_actions,
         new_rewards, new_first, new_last, new_terminal, stack, n_step, sum_tree, min_tree, max_priority,
         prioritized):
    for k in range(new_frames.shape[0]):  # item k goes to stream streams[k] (in order: a stream may repeat)
        s = streams[k]
        base = s * cap
        i = pos[s]
        g = base + i
        _copy_row(new_frames[k], frames[g])
        actions[g] = new_actions[k]
        rewards[g] = new_rewards[k]
        first[g] = new_first[k]
        last[g] = new_last[k]
        terminal[g] = new_terminal[k]
        pos[s] = (i + 1) % cap
        if count[s] < cap:
            count[s] += 1
        if not prioritized:
            continue
        _tree_set(sum_tree, min_tree, g, 0.0)  # incomplete until its successors arrive
        # Oldest slots whose frame history was just overwritten can no longer start a transition.
        for k in range(1, stack):
            h = base + (i + k) % cap
            if sum_tree[h + sum_tree.shape[0] // 2] > 0.0 and \
                    _valid_start(first, last, terminal, pos, count, cap, stack, n_step, h) == 0:
                _tree_set(sum_tree, min_tree, h, 0.0)
        # Transitions whose n-step walk the new slot completes get the largest priority (only these can be
        # valid with priority 0: an updated priority is at least eps^alpha).
        age = count[s] - 1
        half = sum_tree.shape[0] // 2
        for j in range(1, n_step + 1):
            if age - j < 0:
                break
            q = base + (i - j) % cap
            if sum_tree[q + half] == 0.0 and _valid_start(first, last, terminal, pos, count, cap, stack, n_step, q):
                _tree_set(sum_tree, min_tree, q, max_priority)


@njit(cache=True)
def _set_priorities(sum_tree, min_tree, idx, values):
    for b in range(idx.shape[0]):
        if sum_tree[idx[b] + sum_tree.shape[0] // 2] > 0.0:  # never revive a slot overwritten since sampling
            _tree_set(sum_tree, min_tree, idx[b], values[b])


@njit(cache=True)
def _fill_sequences(frames, actions, rewards, first, last, terminal, pos, count, cap, stack, gamma, reward_clip,
                    idx, length, obs, act, rew, disc, mask):
    """DRQN sequences: observations t = 0..length, with a mask on the steps still inside the episode."""
    for b in range(idx.shape[0]):
        g = idx[b]
        stream = g // cap
        i = g - stream * cap
        base = stream * cap
        age = _age(pos[stream], count[stream], cap, i)
        alive = True
        _gather_stack(frames, first, base, cap, i, stack, obs[b, 0])
        for t in range(length):
            j = (i + t) % cap
            if alive and age + t + 1 <= count[stream] - 1 and not last[base + j]:
                r = rewards[base + j]
                if reward_clip > 0.0:
                    r = min(max(r, -reward_clip), reward_clip)
                rew[b, t] = r
                act[b, t] = actions[base + j]
                mask[b, t] = 1.0
                disc[b, t] = 0.0 if terminal[base + j] else gamma
                _gather_stack(frames, first, base, cap, (j + 1) % cap, stack, obs[b, t + 1])
                if terminal[base + j] or last[base + (j + 1) % cap]:
                    alive = False
            else:
                alive = False
                rew[b, t] = 0.0
                act[b, t] = 0
                mask[b, t] = 0.0
                disc[b, t] = 0.0
                for k in range(stack):
                    _copy_row(obs[b, t, k], obs[b, t + 1, k])


# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Batch:
    """A sampled batch: stacked observations ``[B, stack, *frame]``, n-step returns and bootstrap discounts."""

    obs: np.ndarray
    actions: np.ndarray  # int64 [B]
    returns: np.ndarray  # float32 [B], sum_{k<m} gamma^k r (rewards clipped when asked)
    discounts: np.ndarray  # float32 [B], gamma^m, or 0 after a terminal flag
    next_obs: np.ndarray
    weights: np.ndarray  # float32 [B], importance weights (ones for uniform sampling)
    indices: np.ndarray  # int64 [B], global slots, for update_priorities


@dataclass
class SequenceBatch:
    """DRQN sequences: ``obs[B, T + 1, stack, *frame]``; step t uses obs t and t + 1; ``mask`` 0 past the end."""

    obs: np.ndarray
    actions: np.ndarray  # int64 [B, T]
    rewards: np.ndarray  # float32 [B, T]
    discounts: np.ndarray  # float32 [B, T], gamma or 0 after a terminal flag
    mask: np.ndarray  # float32 [B, T]
    weights: np.ndarray
    indices: np.ndarray


class ReplayBuffer:
    """Circular replay of single frames with episode flags; stacks, n-step returns and priorities at sample time.

    Each call of :meth:`add` appends one slot to every stream: ``frames[S, *frame_shape]`` (the newest frame of
    each environment's observation), the ``actions`` taken from it, the ``rewards`` and ``terminals`` that
    followed (``terminal`` also marks a life loss when the protocol asks for it), ``firsts`` (observation after
    a reset) and ``lasts`` (final observation of an episode; its action, reward and terminal are ignored).
    """

    def __init__(self, capacity: int, frame_shape: tuple[int, ...], *, frame_dtype=np.uint8, num_streams: int = 1,
                 stack: int = 1, n_step: int = 1, gamma: float = 0.99, prioritized: bool = False,
                 alpha: float = 0.5, priority_eps: float = 1e-6, reward_clip: float = 0.0,
                 seed: int | None = 0):
        if capacity < num_streams * (stack + n_step + 1):
            raise ValueError(f"replay capacity {capacity} is too small for {num_streams} streams "
                             f"(needs at least {num_streams * (stack + n_step + 1)})")
        if n_step < 1 or stack < 1:
            raise ValueError("n_step and stack must be >= 1")
        self.stream_capacity = capacity // num_streams
        self.capacity = self.stream_capacity * num_streams
        self.num_streams = num_streams
        self.frame_shape = tuple(frame_shape)
        self.frame_dtype = np.dtype(frame_dtype)
        self.stack, self.n_step, self.gamma = stack, n_step, float(gamma)
        self.prioritized, self.alpha, self.priority_eps = prioritized, float(alpha), float(priority_eps)
        self.reward_clip = float(reward_clip)
        frame_size = int(np.prod(self.frame_shape)) if self.frame_shape else 1
        self.frames = np.zeros((self.capacity, frame_size), dtype=self.frame_dtype)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.first = np.zeros(self.capacity, dtype=np.bool_)
        self.last = np.zeros(self.capacity, dtype=np.bool_)
        self.terminal = np.zeros(self.capacity, dtype=np.bool_)
        self.pos = np.zeros(num_streams, dtype=np.int64)
        self.count = np.zeros(num_streams, dtype=np.int64)
        leaves = 1 << max(0, int(np.ceil(np.log2(self.capacity)))) if prioritized else 1
        self.sum_tree = np.zeros(2 * leaves, dtype=np.float64)
        self.min_tree = np.full(2 * leaves, np.inf, dtype=np.float64)
        self.max_priority = 1.0
        self.rng = np.random.default_rng(seed)

    # -- writing ------------------------------------------------------------------------------------------------

    def add(self, frames, actions, rewards, terminals, firsts, lasts) -> None:
        self.add_streams(np.arange(self.num_streams), frames, actions, rewards, terminals, firsts, lasts)

    def add_streams(self, streams, frames, actions, rewards, terminals, firsts, lasts) -> None:
        """Append slot k to stream ``streams[k]``, in order (a stream may appear several times: a block of
        steps written time-major, as an Ape-X actor sends them for its own streams)."""
        streams = np.asarray(streams, np.int64).reshape(-1)
        k = streams.shape[0]
        if k and (streams.min() < 0 or streams.max() >= self.num_streams):
            raise ValueError(f"stream ids must be in [0, {self.num_streams}), got {streams.min()}..{streams.max()}")
        frames = np.asarray(frames, dtype=self.frame_dtype).reshape(k, -1)
        _add(self.frames, self.actions, self.rewards, self.first, self.last, self.terminal, self.pos, self.count,
             self.stream_capacity, streams, frames, np.asarray(actions, np.int64).reshape(k),
             np.asarray(rewards, np.float32).reshape(k), np.asarray(firsts, np.bool_).reshape(k),
             np.asarray(lasts, np.bool_).reshape(k), np.asarray(terminals, np.bool_).reshape(k),
             self.stack, self.n_step, self.sum_tree, self.min_tree, self.max_priority, self.prioritized)

    def newest_slot(self, stream: int, back: int = 0) -> int:
        """Global index of the slot written ``back`` slots before the newest one of ``stream``."""
        return int(stream * self.stream_capacity + (self.pos[stream] - 1 - back) % self.stream_capacity)

    def __len__(self) -> int:
        return int(self.count.sum())

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.frames, self.actions, self.rewards, self.first, self.last, self.terminal,
                                      self.sum_tree, self.min_tree))

    # -- sampling -----------------------------------------------------------------------------------------------

    def num_valid(self) -> int:
        """How many slots can start a transition now (a full scan: for tests and small buffers)."""
        return int(_count_valid(self.first, self.last, self.terminal, self.pos, self.count, self.stream_capacity,
                                self.stack, self.n_step))

    def valid_start(self, g: int) -> bool:
        """Whether global slot ``g`` can start a transition now."""
        return self._valid(g) > 0

    def _valid(self, g: int) -> int:
        return int(_valid_start(self.first, self.last, self.terminal, self.pos, self.count, self.stream_capacity,
                                self.stack, self.n_step, g))

    def _allocate(self, batch_size: int, *lead: int):
        shape = (batch_size, *lead, self.stack, self.frames.shape[1])
        return np.empty(shape, dtype=self.frame_dtype)

    def _draw(self, batch_size: int, beta: float):
        idx = np.empty(batch_size, dtype=np.int64)
        if self.prioritized:
            if self.sum_tree[1] <= 0.0:
                raise RuntimeError("replay holds no complete transition yet")
            probs = np.empty(batch_size, dtype=np.float64)
            _sample_prioritized(self.sum_tree, self.rng.random(batch_size), idx, probs)
            min_prob = self.min_tree[1] / self.sum_tree[1]
            weights = (probs / min_prob) ** (-beta)  # (N P(i))^-beta / max_j (N P(j))^-beta: N cancels
            return idx, weights.astype(np.float32)
        filled = 0
        for _ in range(1000):  # rejection sampling: almost every stored slot is a valid start
            # Draw among the stored slots only (a stream holds positions [0, count) until it wraps around).
            size = 2 * batch_size + 8
            streams = self.rng.integers(0, self.num_streams, size=size)
            positions = (self.rng.random(size) * self.count[streams]).astype(np.int64)
            candidates = streams * self.stream_capacity + positions
            ok = np.empty(candidates.shape[0], dtype=np.bool_)
            _check_starts(self.first, self.last, self.terminal, self.pos, self.count, self.stream_capacity,
                          self.stack, self.n_step, candidates, ok)
            good = candidates[ok][:batch_size - filled]
            idx[filled:filled + good.shape[0]] = good
            filled += good.shape[0]
            if filled == batch_size:
                return idx, np.ones(batch_size, dtype=np.float32)
        raise RuntimeError("replay holds no complete transition yet")

    def sample(self, batch_size: int, beta: float = 0.4) -> Batch:
        idx, weights = self._draw(batch_size, beta)
        return self.transitions(idx, weights)

    def transitions(self, indices, weights=None) -> Batch:
        """The transitions starting at the given global slots (each must be a valid start); ``weights`` default
        to ones. Ape-X actors use it to compute initial priorities of their own transitions."""
        idx = np.asarray(indices, np.int64).reshape(-1)
        batch_size = idx.shape[0]
        weights = np.ones(batch_size, np.float32) if weights is None else weights
        obs, next_obs = self._allocate(batch_size), self._allocate(batch_size)
        act = np.empty(batch_size, dtype=np.int64)
        ret = np.empty(batch_size, dtype=np.float32)
        disc = np.empty(batch_size, dtype=np.float32)
        _fill_batch(self.frames, self.actions, self.rewards, self.first, self.last, self.terminal, self.pos,
                    self.count, self.stream_capacity, self.stack, self.n_step, self.gamma, self.reward_clip, idx,
                    obs, next_obs, act, ret, disc)
        shape = (batch_size, self.stack, *self.frame_shape)
        return Batch(obs.reshape(shape), act, ret, disc, next_obs.reshape(shape), weights, idx)

    def sample_sequences(self, batch_size: int, length: int, beta: float = 0.4) -> SequenceBatch:
        """Sequences of ``length`` steps from random starts (Hausknecht & Stone 2015, bootstrapped random updates)."""
        idx, weights = self._draw(batch_size, beta)
        obs = self._allocate(batch_size, length + 1)
        act = np.empty((batch_size, length), dtype=np.int64)
        rew = np.empty((batch_size, length), dtype=np.float32)
        disc = np.empty((batch_size, length), dtype=np.float32)
        mask = np.empty((batch_size, length), dtype=np.float32)
        _fill_sequences(self.frames, self.actions, self.rewards, self.first, self.last, self.terminal, self.pos,
                        self.count, self.stream_capacity, self.stack, self.gamma, self.reward_clip, idx, length,
                        obs, act, rew, disc, mask)
        return SequenceBatch(obs.reshape(batch_size, length + 1, self.stack, *self.frame_shape), act, rew, disc,
                             mask, weights, idx)

    def update_priorities(self, indices, td_errors) -> None:
        """Set ``p_i = (|delta_i| + eps)^alpha`` for the sampled slots."""
        if not self.prioritized:
            return
        values = (np.abs(np.asarray(td_errors, dtype=np.float64)) + self.priority_eps) ** self.alpha
        self.max_priority = max(self.max_priority, float(values.max(initial=0.0)))
        _set_priorities(self.sum_tree, self.min_tree, np.asarray(indices, np.int64), values)

    def priorities(self) -> np.ndarray:
        """Current priority of every slot (0 for slots that cannot start a transition)."""
        leaves = self.sum_tree.shape[0] // 2
        return self.sum_tree[leaves:leaves + self.capacity].copy()

    # -- persistence ----------------------------------------------------------------------------------------------

    _ARRAYS = ("frames", "actions", "rewards", "first", "last", "terminal", "pos", "count", "sum_tree", "min_tree")

    def state_dict(self) -> dict:
        state = {name: getattr(self, name) for name in self._ARRAYS}
        state["max_priority"] = np.array(self.max_priority)
        state["rng"] = np.frombuffer(json.dumps(self.rng.bit_generator.state).encode(), dtype=np.uint8)
        return state

    def load_state_dict(self, state: dict) -> None:
        for name in self._ARRAYS:
            have, want = np.asarray(state[name]), getattr(self, name)
            if have.shape != want.shape or have.dtype != want.dtype:
                raise ValueError(f"replay field {name}: saved {have.dtype}{list(have.shape)} does not match this "
                                 f"buffer's {want.dtype}{list(want.shape)}")
            want[...] = have
        self.max_priority = float(state["max_priority"])
        self.rng.bit_generator.state = json.loads(np.asarray(state["rng"], np.uint8).tobytes().decode())
