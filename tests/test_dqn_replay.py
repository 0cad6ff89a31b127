"""Replay: frame stacks never cross episodes, n-step returns, prioritized sampling and its updates, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from engine.dqn.replay import ReplayBuffer


def fill_streams(replay: ReplayBuffer, steps: int, seed: int = 0, p_end: float = 0.15, p_life: float = 0.0):
    """Play fake episodes into every stream; frame = (episode id + 1, time + 1) so a stack can be checked.

    Returns a per-slot log {global slot: (episode, t, reward, terminal, last)} of what is currently stored.
    """
    rng = np.random.default_rng(seed)
    streams = replay.num_streams
    episode = np.arange(streams)
    next_episode = streams
    t = np.zeros(streams, dtype=int)
    first = np.ones(streams, dtype=bool)
    last = np.zeros(streams, dtype=bool)
    log = {}
    for _ in range(steps):
        frames = np.stack([(episode % 250) + 1, t + 1], axis=1).astype(np.uint8)
        actions = rng.integers(0, 4, size=streams)
        rewards = rng.integers(-3, 4, size=streams).astype(np.float32)
        ending = ~last & (rng.random(streams) < p_end)  # the next observation is this episode's final one
        terminal = ending & (rng.random(streams) < 0.5)  # terminated, else truncated (bootstrapped)
        terminal |= ~last & (rng.random(streams) < p_life)  # a life lost: terminal for learning, game goes on
        for s in range(streams):
            g = s * replay.stream_capacity + int(replay.pos[s])
            log[g] = (int(episode[s]), int(t[s]), float(rewards[s]), bool(terminal[s]), bool(last[s]))
        replay.add(frames, actions, rewards, terminal, first, last)
        for s in range(streams):
            if last[s]:
                episode[s] = next_episode
                next_episode += 1
                t[s] = 0
            else:
                t[s] += 1
        first, last = last.copy(), ending
    return log


def decode(stack: np.ndarray):
    """[(episode, t) or None for a zero frame] for a stack [stack, 2]."""
    return [None if not frame.any() else (int(frame[0]) - 1, int(frame[1]) - 1) for frame in stack]


@pytest.mark.parametrize("streams, prioritized", [(1, False), (3, False), (2, True)])
def test_stacks_never_cross_episode_boundaries(streams, prioritized):
    replay = ReplayBuffer(240, (2,), num_streams=streams, stack=4, n_step=3, gamma=0.9, prioritized=prioritized,
                          seed=1)
    fill_streams(replay, 500, seed=2)  # wraps around the buffer several times
    assert replay.num_valid() > 0
    for _ in range(30):
        batch = replay.sample(64)
        for b in range(64):
            for stack in (batch.obs[b], batch.next_obs[b]):
                frames = decode(stack)
                newest = frames[-1]
                assert newest is not None
                # Zero frames only at the front, and only when the episode is younger than the stack.
                real = [f for f in frames if f is not None]
                zeros = len(frames) - len(real)
                assert frames[:zeros] == [None] * zeros
                assert zeros == max(0, 3 - newest[1])
                episodes = {f[0] for f in real}
                assert len(episodes) == 1, frames  # one episode per stack
                assert [f[1] for f in real] == list(range(newest[1] - len(real) + 1, newest[1] + 1))
            start, end = decode(batch.obs[b])[-1], decode(batch.next_obs[b])[-1]
            assert start[0] == end[0] and 1 <= end[1] - start[1] <= 3


def test_sampled_slots_are_all_valid_and_never_final_observations():
    replay = ReplayBuffer(100, (2,), stack=4, n_step=2, seed=0)
    log = fill_streams(replay, 260, seed=5, p_end=0.3)
    batch = replay.sample(2000)
    for g in np.unique(batch.indices):
        assert replay.valid_start(int(g))
        assert not log[int(g)][4]  # never a final observation (nothing was done from it)
    # The oldest slots have lost their frame history to the newest writes.
    oldest = int(replay.pos[0])
    for age in range(4):
        slot = (oldest + age) % 100
        if min(log[slot][1], 3) > age:  # history older than the oldest slot would be needed
            assert not replay.valid_start(slot)


def test_n_step_returns_on_hand_made_episodes():
    gamma = 0.5
    replay = ReplayBuffer(64, (1,), stack=1, n_step=3, gamma=gamma, seed=0)
    # Episode A: rewards 1, 2, 4, 8 then terminal; episode B: rewards 1, 1 then truncated (no terminal flag).
    steps = [  # frame, action, reward, terminal, first, last
        (1, 0, 1.0, False, True, False), (2, 1, 2.0, False, False, False), (3, 0, 4.0, False, False, False),
        (4, 1, 8.0, True, False, False), (5, 0, 0.0, False, False, True),
        (11, 0, 1.0, False, True, False), (12, 0, 1.0, False, False, False), (13, 0, 0.0, False, False, True),
        (21, 0, 0.0, False, True, False),  # next episode's first observation (its outcome is not known yet)
    ]
    for frame, action, reward, terminal, first, last in steps:
        replay.add([[frame]], [action], [reward], [terminal], [first], [last])
    expected = {  # slot: (return, discount, next frame)
        0: (1 + 0.5 * 2 + 0.25 * 4, 0.125, 4), 1: (2 + 0.5 * 4 + 0.25 * 8, 0.0, 5), 2: (4 + 0.5 * 8, 0.0, 5),
        3: (8.0, 0.0, 5), 5: (1 + 0.5 * 1, 0.25, 13), 6: (1.0, 0.5, 13),
    }
    assert replay.num_valid() == len(expected)  # slots 4, 7 (final) and 8 (incomplete) cannot start one
    batch = replay.sample(400)
    seen = set()
    for b in range(400):
        g = int(batch.indices[b])
        ret, disc, nxt = expected[g]
        assert batch.returns[b] == pytest.approx(ret)
        assert batch.discounts[b] == pytest.approx(disc)
        assert batch.next_obs[b, 0, 0] == nxt and batch.obs[b, 0, 0] == steps[g][0]
        assert batch.actions[b] == steps[g][1]
        seen.add(g)
    assert seen == set(expected)


def test_reward_clipping_and_life_loss_terminal_keep_the_stack():
    replay = ReplayBuffer(32, (1,), stack=2, n_step=3, gamma=1.0, reward_clip=1.0, seed=0)
    # A life is lost after the second step (terminal flag) but the game goes on: the stack continues.
    for frame, reward, terminal, first in [(1, 5.0, False, True), (2, -7.0, True, False), (3, 2.0, False, False),
                                           (4, 0.0, False, False), (5, 0.0, False, False), (6, 0.0, False, False)]:
        replay.add([[frame]], [0], [reward], [terminal], [first], [False])
    batch = replay.sample(300)
    for b in range(300):
        start = int(batch.obs[b, -1, 0])
        if start == 1:
            assert batch.returns[b] == 0.0 and batch.discounts[b] == 0.0  # clip(5) + clip(-7), cut at the life loss
        if start == 2:
            assert batch.returns[b] == -1.0 and batch.discounts[b] == 0.0
        if start == 3:
            assert list(batch.obs[b, :, 0]) == [2, 3]  # across the life loss: same game, same episode
            assert batch.returns[b] == 1.0 and batch.discounts[b] == 1.0 and batch.next_obs[b, -1, 0] == 6


@pytest.mark.parametrize("prioritized", [False, True])
def test_a_restarted_stream_cuts_the_walk_without_a_final_observation(prioritized):
    # Environments restarted at a checkpoint: the unfinished episode has no final observation.
    replay = ReplayBuffer(32, (1,), stack=2, n_step=3, gamma=0.5, prioritized=prioritized, seed=0)
    for frame, first in [(1, True), (2, False), (3, False), (11, True), (12, False), (13, False), (14, False)]:
        replay.add([[frame]], [0], [1.0], [False], [first], [False])
    batch = replay.sample(300)
    for b in range(300):
        start, nxt = int(batch.obs[b, -1, 0]), int(batch.next_obs[b, -1, 0])
        assert start != 3  # its successor was never stored
        if start < 10:
            assert nxt == 3 and batch.returns[b] == pytest.approx({1: 1.5, 2: 1.0}[start])
        assert (start < 10) == (nxt < 10)
    assert set(np.unique(batch.obs[:, -1, 0])) == {1, 2, 11}
    if prioritized:
        assert set(np.flatnonzero(replay.priorities())) == {0, 1, 3}


def test_prioritized_sampling_matches_priorities_and_updates():
    replay = ReplayBuffer(64, (1,), stack=1, n_step=1, prioritized=True, alpha=1.0, priority_eps=0.0, seed=3)
    for t in range(40):
        replay.add([[t]], [0], [0.0], [False], [t == 0], [False])
    valid = np.flatnonzero(replay.priorities() > 0)
    assert list(valid) == list(range(39))  # slot 39 waits for its successor
    assert np.all(replay.priorities()[valid] == 1.0)  # new transitions get the maximum priority
    target = np.arange(1, 40, dtype=float)  # priority of slot i: i + 1
    replay.update_priorities(valid, target)
    counts = np.zeros(64)
    draws = 400
    for _ in range(draws):
        batch = replay.sample(100, beta=0.5)
        np.add.at(counts, batch.indices, 1)
        expected_w = ((target.min() / (batch.indices + 1.0)) ** 0.5)
        np.testing.assert_allclose(batch.weights, expected_w, rtol=1e-5)
    freq = counts[:39] / counts.sum()
    prob = target / target.sum()
    # 40,000 stratified draws: every frequency within 5 standard errors of its probability.
    assert np.all(np.abs(freq - prob) < 5 * np.sqrt(prob * (1 - prob) / 40_000) + 1e-3)
    chi2 = ((counts[:39] - prob * counts.sum()) ** 2 / (prob * counts.sum())).sum()
    assert chi2 < 90  # 38 degrees of freedom; stratification only lowers it
    # Updating moves the mass: now only slot 5 matters.
    replay.update_priorities(valid, np.where(valid == 5, 1000.0, 1e-9))
    batch = replay.sample(256)
    assert np.mean(batch.indices == 5) > 0.95
    assert replay.max_priority == 1000.0
    replay.add([[40]], [0], [0.0], [False], [False], [False])
    assert replay.priorities()[39] == 1000.0  # the newly complete transition gets the maximum


def test_prioritized_slots_lose_priority_when_overwritten():
    replay = ReplayBuffer(16, (1,), stack=4, n_step=2, prioritized=True, seed=0)
    for t in range(50):
        replay.add([[t]], [0], [0.0], [False], [t == 0], [False])
        for g in range(16):
            assert (replay.priorities()[g] > 0) == replay.valid_start(g), (t, g)


def test_sequences_for_drqn_stop_at_episode_end():
    replay = ReplayBuffer(64, (1,), stack=1, n_step=1, gamma=0.9, seed=0)
    for frame, reward, terminal, first, last in [(1, 1.0, False, True, False), (2, 2.0, True, False, False),
                                                 (3, 0.0, False, False, True), (4, 3.0, False, True, False),
                                                 (5, 0.0, False, False, False)]:
        replay.add([[frame]], [frame % 2], [reward], [terminal], [first], [last])
    batch = replay.sample_sequences(200, length=3)
    for b in range(200):
        start = int(batch.obs[b, 0, 0, 0])
        if start == 1:
            assert list(batch.mask[b]) == [1, 1, 0] and list(batch.rewards[b]) == [1, 2, 0]
            assert list(batch.discounts[b]) == pytest.approx([0.9, 0.0, 0.0])
            assert list(batch.obs[b, :3, 0, 0]) == [1, 2, 3]
        if start == 4:
            assert list(batch.mask[b]) == [1, 0, 0] and batch.obs[b, 1, 0, 0] == 5


def test_state_dict_round_trip_resumes_sampling():
    replay = ReplayBuffer(200, (2,), num_streams=2, stack=4, n_step=3, prioritized=True, seed=7)
    fill_streams(replay, 150, seed=1)
    replay.update_priorities(np.arange(10), np.linspace(0.1, 3, 10))
    copy = ReplayBuffer(200, (2,), num_streams=2, stack=4, n_step=3, prioritized=True, seed=99)
    copy.load_state_dict({k: np.array(v) for k, v in replay.state_dict().items()})
    a, b = replay.sample(32), copy.sample(32)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.obs, b.obs)
    wrong = ReplayBuffer(100, (2,), num_streams=2, stack=4, n_step=3, prioritized=True)
    with pytest.raises(ValueError, match="replay field frames"):
        wrong.load_state_dict(replay.state_dict())


def test_atari_frames_take_one_byte_per_pixel():
    replay = ReplayBuffer(1000, (84, 84), stack=4, n_step=3)
    per_transition = replay.nbytes / replay.capacity
    assert 7056 <= per_transition < 7056 + 32  # 1M transitions: about 7 GB
