"""Search options: Gumbel AlphaZero, Dirichlet root noise, KataGo's playout cap, forced playouts and
policy-target pruning."""

from __future__ import annotations

import numpy as np
import pytest

import games
from agents.minimax import ExactEvaluator, Solver
from engine.mcts import BatchedMCTS, MCTSConfig, RolloutEvaluator, UniformEvaluator
from engine.mcts._core import considered_visit


@pytest.fixture(scope="module")
def ttt():
    return games.make("tictactoe")


@pytest.fixture(scope="module")
def c4():
    return games.make("connect4")


# ------------------------------------------------------------------------------------------------ Gumbel
def noisy_prior(mcts, b):
    """The prior the search used at the root of tree ``b`` (noise included), over all actions."""
    edges = mcts.edges(b)
    out = np.zeros(mcts.num_actions, np.float32)
    out[edges.actions] = edges.prior
    return out


def test_sequential_halving_schedule():
    """m = 4 actions, n = 16 simulations: two phases of 8 (each of 4 actions twice, then the best 2 four times)."""
    seq = [considered_visit(4, 16, i) for i in range(16)]
    assert seq == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [considered_visit(1, 5, i) for i in range(5)] == [0, 1, 2, 3, 4]
    # budgets smaller than m: only the first visits of the top actions
    assert [considered_visit(16, 4, i) for i in range(4)] == [0, 0, 0, 0]


def test_gumbel_root_visits_follow_sequential_halving(c4):
    cfg = MCTSConfig(simulations=16, gumbel=True, gumbel_max_considered=4)
    mcts = BatchedMCTS(c4, 8, cfg, seed=0)
    result = mcts.run(UniformEvaluator())
    for visits in result.visits:
        assert sorted(visits.tolist(), reverse=True) == [6, 6, 2, 2, 0, 0, 0]
    # different trees draw different Gumbel noise, so they consider different actions
    assert len({tuple(np.flatnonzero(v)) for v in result.visits}) > 1


class MisleadingPrior:
    """Exact values, but a prior that prefers a losing move (a3), to see the search correct it."""

    def __init__(self, game, bad_action):
        self.exact = ExactEvaluator(game)
        self.bad = bad_action

    def evaluate_states(self, states, legal):
        _, values = self.exact.evaluate_states(states, legal)
        logits = np.zeros(legal.shape, np.float32)
        logits[:, self.bad] = 3.0
        return logits, values


def test_gumbel_improves_over_the_prior(ttt):
    state = ttt.play_moves("a1 b2 b1")  # O to move; only c1 holds the draw
    solver = Solver(ttt)
    q_exact = solver.action_values(state).astype(float)
    c1, a3 = ttt.parse_move(state, "c1"), ttt.parse_move(state, "a3")
    cfg = MCTSConfig(simulations=32, gumbel=True, gumbel_scale=0.0)
    mcts = BatchedMCTS(ttt, 1, cfg)
    mcts.set_roots([state])
    result = mcts.run(MisleadingPrior(ttt, a3))
    prior, improved = result.prior[0], result.policy[0]
    legal = ttt.legal_mask(state)
    assert prior[a3] > 0.5 and improved[c1] > prior[c1]
    assert improved[a3] < prior[a3]
    assert (improved * q_exact)[legal].sum() > (prior * q_exact)[legal].sum()  # policy improvement
    assert np.isclose(improved.sum(), 1.0) and not improved[~legal].any()
    # with more simulations the sequential-halving winner is the move that holds
    mcts = BatchedMCTS(ttt, 1, MCTSConfig(simulations=200, gumbel=True, gumbel_scale=0.0))
    mcts.set_roots([state])
    result = mcts.run(MisleadingPrior(ttt, a3))
    assert result.best_move[0] == c1 and mcts.choose(1.0)[0] == c1
    assert result.policy[0, c1] > 0.5


def test_gumbel_finds_tactics_with_few_simulations(c4):
    state = c4.parse_position("11223")  # O must block column 4
    mcts = BatchedMCTS(c4, 1, MCTSConfig(simulations=48, gumbel=True, gumbel_scale=0.0))
    mcts.set_roots([state])
    result = mcts.run(RolloutEvaluator(c4, rollouts=4))
    assert c4.format_move(state, int(result.best_move[0])) == "4"


def test_gumbel_noise_is_seeded(c4):
    out = []
    for seed in (1, 1, 2):
        mcts = BatchedMCTS(c4, 4, MCTSConfig(simulations=16, gumbel=True, gumbel_max_considered=4), seed=seed)
        out.append(mcts.run(UniformEvaluator()).visits)
    np.testing.assert_array_equal(out[0], out[1])
    assert not np.array_equal(out[0], out[2])


# ------------------------------------------------------------------------------------------------ noise
def test_dirichlet_noise_on_fresh_roots_and_after_reuse(c4):
    cfg = MCTSConfig(simulations=64, dirichlet_epsilon=0.25)
    mcts = BatchedMCTS(c4, 16, cfg, seed=0)
    result = mcts.run(UniformEvaluator())
    noisy = np.stack([noisy_prior(mcts, b) for b in range(16)])
    clean = result.prior
    np.testing.assert_allclose(clean, 1 / 7, rtol=1e-5)
    assert np.abs(noisy - clean).max() > 0.01
    np.testing.assert_allclose(noisy.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(noisy >= 0.75 / 7 - 1e-6)  # (1 - eps) P + eps * Dir: never below (1 - eps) P
    # noise was mixed into the root only; after advance the new root gets fresh noise at the next search
    a = int(result.best_move[0])
    below = mcts.edges(0, mcts.child(0, a))
    child_prior = np.zeros(7, np.float32)
    child_prior[below.actions] = below.prior
    mcts.advance(0, a)
    again = mcts.run(UniformEvaluator(), simulations=8)
    np.testing.assert_allclose(again.prior[0], child_prior)
    assert np.abs(noisy_prior(mcts, 0) - child_prior).max() > 0.01
    # the game's alpha by default: Connect Four's
    assert mcts.cfg_f[5] == c4.dirichlet_alpha


def test_no_noise_when_epsilon_is_zero(c4):
    mcts = BatchedMCTS(c4, 4, MCTSConfig(simulations=32, dirichlet_epsilon=0.0), seed=0)
    result = mcts.run(UniformEvaluator())
    np.testing.assert_array_equal(np.stack([noisy_prior(mcts, b) for b in range(4)]), result.prior)


# ------------------------------------------------------------------------------------------------ playout cap
def test_playout_cap_randomization(c4):
    cfg = MCTSConfig(simulations=64, playout_cap=True, playout_cap_full_prob=0.25, playout_cap_cheap_simulations=8)
    mcts = BatchedMCTS(c4, 64, cfg, seed=0)
    full = []
    for _ in range(4):
        mcts.set_roots([c4.initial_state()] * 64)
        result = mcts.run(UniformEvaluator())
        np.testing.assert_array_equal(result.simulations, np.where(result.full_search, 64, 8))
        np.testing.assert_array_equal(result.visits.sum(axis=1), result.simulations)
        noisy = np.stack([noisy_prior(mcts, b) for b in range(64)])
        noised = np.abs(noisy - result.prior).max(axis=1) > 1e-6
        np.testing.assert_array_equal(noised, result.full_search)  # noise on full searches only
        full.append(result.full_search)
    share = np.mean(full)
    assert 0.15 < share < 0.35, share  # 256 draws of p = 0.25


# ------------------------------------------------------------------------------------------------ forced playouts
def test_forced_playouts_and_policy_target_pruning(c4):
    base = dict(simulations=400, dirichlet_epsilon=0.25, dirichlet_alpha=0.3)
    states = [c4.initial_state()] * 16
    plain = BatchedMCTS(c4, 16, MCTSConfig(**base), seed=0)
    plain.set_roots(states)
    r_plain = plain.run(RolloutEvaluator(c4))
    forced = BatchedMCTS(c4, 16, MCTSConfig(**base, forced_playouts=True, policy_target_pruning=True), seed=0)
    forced.set_roots(states)
    r_forced = forced.run(RolloutEvaluator(c4))
    prior = np.stack([noisy_prior(forced, b) for b in range(16)])  # the noisy prior the search used
    total = r_forced.visits.sum(axis=1, keepdims=True)
    floor = np.sqrt(2.0 * prior * total)
    visited = r_forced.visits > 0
    # every visited root child got (nearly) its forced share
    assert np.all(r_forced.visits[visited] >= np.floor(floor[visited]) - 1)
    # low-prior children get more visits than without forcing
    low = prior < 0.125  # (1 - eps) / 7 = 0.107 is the least a child can get
    assert r_forced.visits[low].sum() > r_plain.visits[low].sum()
    # pruning: the most visited child keeps its visits, the others lose forced ones, lone visits go
    for b in range(16):
        v, pol, best = r_forced.visits[b].astype(float), r_forced.policy[b], r_forced.best_move[b]
        assert np.isclose(pol.sum(), 1.0)
        assert np.all(pol / pol[best] <= v / v[best] + 1e-6)
        assert not np.any((pol > 0) & (v <= 1))
    # the target is sharper than the raw visits it prunes
    assert np.mean(r_forced.policy.max(axis=1)) > np.mean((r_forced.visits / total).max(axis=1))


def test_pruning_only_on_full_searches(c4):
    cfg = MCTSConfig(simulations=64, playout_cap=True, playout_cap_full_prob=0.5, playout_cap_cheap_simulations=32,
                     forced_playouts=True, policy_target_pruning=True)
    mcts = BatchedMCTS(c4, 32, cfg, seed=1)
    result = mcts.run(RolloutEvaluator(c4))
    cheap = ~result.full_search
    assert cheap.any() and result.full_search.any()
    raw = result.visits[cheap] / result.visits[cheap].sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.policy[cheap], raw, rtol=1e-6)


# ------------------------------------------------------------------------------------------------ decisive moves
class BlindPrior:
    """A network stand-in that cannot see one column: almost no prior there (and value 0 everywhere), as the
    shipped Connect Four network was for the immediate wins and blocks of positions unlike its self-play games."""

    def __init__(self, blind: int):
        self.blind = blind

    def __call__(self, planes, legal):
        logits = np.zeros(legal.shape, np.float32)
        logits[:, self.blind] = -12.0
        return logits, np.zeros(len(legal), np.float32)


BLIND_TACTICS = [
    # (position, the move, why): the evaluator is blind to that move's column, at every node
    ("121212", "1", "win"),      # X: four in column 1
    ("12121", "1", "block"),     # O must cap column 1 (any other move lets X win there)
    ("2233455", "1", "block"),   # O must take column 1: X's 2-3-4 bottom row, column 5 already capped
]


@pytest.mark.parametrize("position,move,why", BLIND_TACTICS, ids=[f"{p}-{w}" for p, _, w in BLIND_TACTICS])
@pytest.mark.parametrize("search_kind", ["puct", "gumbel", "cached"])
def test_decisive_moves_find_what_the_prior_hides(c4, position, move, why, search_kind):
    from engine.mcts import CachedEvaluator

    state = c4.parse_position(position)
    action = c4.parse_move(state, move)
    gumbel = search_kind == "gumbel"

    def best(decisive):
        cfg = MCTSConfig(simulations=400, dirichlet_epsilon=0.0, gumbel=gumbel, gumbel_scale=0.0,
                         decisive_moves=decisive)
        mcts = BatchedMCTS(c4, 1, cfg)
        mcts.set_roots([state])
        evaluator = BlindPrior(action)
        if search_kind == "cached":  # a second search from the same root reads every node from the cache
            evaluator = CachedEvaluator(evaluator, size=1 << 12)
            mcts.run(evaluator)
            mcts.reset(0, state)
        result = mcts.run(evaluator)
        return int(result.best_move[0]), result

    plain, _ = best(False)
    assert plain != action, "the blind prior should hide the move from the plain search (the test would be void)"
    found, result = best(True)
    assert found == action, f"{why} in {position}: searched {found + 1}, visits {result.visits[0]}"
    assert result.prior[0, action] == pytest.approx(1.0)  # decisive, or the only move that is not lost
    if why == "win" and not gumbel:  # (sequential halving still visits the other moves: its mean is lower)
        assert result.value[0] == pytest.approx(1.0)


def test_decisive_moves_value_a_lost_position_exactly(c4):
    """X threatens both ends of the bottom row (columns 1 and 5): every O move loses, the root is worth -1."""
    state = c4.parse_position("22334")
    cfg = MCTSConfig(simulations=64, dirichlet_epsilon=0.0, decisive_moves=True)
    mcts = BatchedMCTS(c4, 1, cfg)
    mcts.set_roots([state])
    result = mcts.run(UniformEvaluator(compiled=False))
    assert result.value[0] == pytest.approx(-1.0)
    assert (result.q[0][result.visits[0] > 0] == -1.0).all()
    np.testing.assert_allclose(result.prior[0][c4.legal_mask(state)], 1.0 / 7)  # a lost node keeps its prior


def test_decisive_moves_off_changes_nothing(c4):
    """The option off is the search as it was: same visits as a config that never mentions it."""
    state = c4.parse_position("4453")
    out = []
    for cfg in (MCTSConfig(simulations=200), MCTSConfig(simulations=200, decisive_moves=False)):
        mcts = BatchedMCTS(c4, 2, cfg, seed=3)
        mcts.set_roots([state, state])
        out.append(mcts.run(RolloutEvaluator(c4)).visits)
    np.testing.assert_array_equal(out[0], out[1])
