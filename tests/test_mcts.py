"""The batched Numba MCTS: tactics, legality over every game, value signs, convergence to minimax, batch
independence, subtree reuse and determinism (options such as Gumbel and the playout cap: test_mcts_options.py)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import games
from agents.minimax import ExactEvaluator, Solver
from engine.mcts import (
    ROOT,
    BatchedMCTS,
    CachedEvaluator,
    MCTSConfig,
    RolloutEvaluator,
    UniformEvaluator,
    tree_seed,
)

PLAY = MCTSConfig(simulations=400, dirichlet_epsilon=0.0)


@pytest.fixture(scope="module")
def ttt():
    return games.make("tictactoe")


@pytest.fixture(scope="module")
def c4():
    return games.make("connect4")


def random_positions(game, n, seed, max_plies=None):
    """Non-terminal positions reached by uniformly random play."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        s = game.initial_state()
        for _ in range(rng.integers(0, max_plies or game.max_game_length)):
            nxt = game.apply(s, int(rng.choice(game.legal_actions(s))))
            if game.is_terminal(nxt):
                break
            s = nxt
        out.append(s)
    return out


def search(game, state, evaluator, config=PLAY, seed=0):
    mcts = BatchedMCTS(game, 1, config, seed=seed)
    mcts.set_roots([state])
    return mcts.run(evaluator)


# ------------------------------------------------------------------------------------------------ tactics
TACTICS = [
    # (game, position, the mover's move, why): tic-tac-toe entries are checked against the solver
    ("tictactoe", "a1 a2 b1 b2", "c1", "win"),          # X completes the bottom row (O threatens c2)
    ("tictactoe", "a1 a2 b1 b2 c3", "c2", "win"),       # O completes the middle row (X threatens c1)
    ("tictactoe", "a1 b2 b1", "c1", "block"),           # O must stop a1-b1-c1
    ("tictactoe", "b2 a1 c1 a3", "a2", "block"),        # X must stop a1-a2-a3
    ("connect4", "112233", "4", "win"),                 # X: four in the bottom row
    ("connect4", "121314", "1", "win"),                 # X: four in column 1
    ("connect4", "11223", "4", "block"),                # O must take column 4
    ("connect4", "12131", "1", "block"),                # O must cap column 1
]


# exact values only for tic-tac-toe: Connect Four is too big to solve in a test
TACTIC_CASES = [(*t, kind) for t in TACTICS for kind in (("rollout", "exact") if t[0] == "tictactoe" else ("rollout",))]


@pytest.mark.parametrize("name,position,move,why,evaluator_kind", TACTIC_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}-{c[4]}" for c in TACTIC_CASES])
def test_finds_the_winning_and_the_only_blocking_move(name, position, move, why, evaluator_kind):
    game = games.make(name)
    state = game.parse_position(position)
    if name == "tictactoe":
        optimal = [game.format_move(state, a) for a in Solver(game).optimal_actions(state)]
        assert move in optimal and (why == "win" or optimal == [move]), f"bad table entry {position}: {optimal}"
    evaluator = RolloutEvaluator(game) if evaluator_kind == "rollout" else ExactEvaluator(game)
    result = search(game, state, evaluator)
    best = game.format_move(state, int(result.best_move[0]))
    assert best == move, f"{why} in {position}: searched {best}, expected {move}; visits {result.visits[0]}"
    if why == "win":
        assert result.value[0] > 0.8


def test_connect_four_open_three(c4):
    """Two moves deep: after 4455, X's 3 (or 6) makes an open three that wins by force."""
    state = c4.parse_position("4455")
    result = search(c4, state, RolloutEvaluator(c4), MCTSConfig(simulations=4000, dirichlet_epsilon=0.0))
    assert c4.format_move(state, int(result.best_move[0])) in ("3", "6")
    assert result.value[0] > 0.5


# ------------------------------------------------------------------------------------------------ legality
CONFIGS = {
    "puct": MCTSConfig(simulations=24),
    "gumbel": MCTSConfig(simulations=24, gumbel=True, gumbel_max_considered=4),
    "virtual-loss": MCTSConfig(simulations=24, leaves_per_tree=3),
    "kataGo": MCTSConfig(simulations=24, playout_cap=True, playout_cap_cheap_simulations=6, forced_playouts=True,
                         policy_target_pruning=True),
}


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
@pytest.mark.parametrize("name", games.list_games())
def test_never_an_illegal_move(name, config):
    """Every registered game (Go and chess join when they are registered), random positions, every mode."""
    game = games.make(name)
    states = random_positions(game, 12, seed=zlib.crc32(name.encode()), max_plies=min(game.max_game_length, 60))
    mcts = BatchedMCTS(game, len(states), CONFIGS[config], seed=3)
    mcts.set_roots(states)
    rng = np.random.default_rng(0)
    for _ in range(2):  # a search, a move with subtree reuse, a second search
        result = mcts.run(UniformEvaluator(compiled=False))
        for i in range(len(states)):
            legal = game.legal_mask(mcts.root_state(i))
            assert not result.visits[i][~legal].any()
            assert not result.policy[i][~legal].any()
            assert np.isclose(result.policy[i].sum(), 1.0, atol=1e-5)
            assert legal[result.best_move[i]]
        for t in (0.0, 1.0):
            moves = mcts.choose(t, rng)
            assert all(game.legal_mask(mcts.root_state(i))[m] for i, m in enumerate(moves))
        moves = mcts.choose(1.0, rng)
        for i, m in enumerate(moves):
            mcts.advance(i, int(m))
            if game.is_terminal(mcts.root_state(i)):
                mcts.reset(i, states[i])


def check_tree(game, mcts, b):
    """Invariants of a tree after a search: links, states, edges, visit counts and values add up."""
    t = mcts.tree
    n_nodes = mcts.tree_size(b)
    assert t.parent[b, ROOT] == -1
    for n in range(n_nodes):
        edges = mcts.edges(b, n)
        if t.flags[b, n] == 2:
            assert len(edges.actions) == 0
        else:
            np.testing.assert_array_equal(edges.actions, np.flatnonzero(game.legal_mask(t.state[b, n])))
        assert t.node_visits[b, n] == edges.visits.sum()
    for c in range(1, n_nodes):
        p, e = int(t.parent[b, c]), int(t.parent_edge[b, c])
        assert 0 <= p < c and t.child[b, p, e] == c
        np.testing.assert_array_equal(t.state[b, c], game.apply(t.state[b, p], int(t.edge_action[b, p, e])))
        sign = 1 if t.player[b, p] == t.player[b, c] else -1
        below = mcts.edges(b, c)
        if t.flags[b, c] == 1:  # expanded: one visit for its own evaluation, the rest went below
            assert t.visit_count[b, p, e] == 1 + below.visits.sum()
            total = t.raw_value[b, c] + below.value_sum.sum()
            assert abs(t.value_sum[b, p, e] - sign * total) < 1e-3 * (1 + t.visit_count[b, p, e])
        else:  # terminal (no leaf is left in flight after a search): its exact value at every visit
            assert t.flags[b, c] == 2
            assert abs(t.value_sum[b, p, e] - t.visit_count[b, p, e] * t.raw_value[b, c] * sign) < 1e-3


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_tree_invariants_through_searches_and_moves(c4, config):
    cfg = CONFIGS[config]
    mcts = BatchedMCTS(c4, 4, MCTSConfig(**{**cfg.__dict__, "simulations": 150}), seed=2)
    mcts.set_roots(random_positions(c4, 4, seed=4, max_plies=8))
    for _ in range(3):
        mcts.run(RolloutEvaluator(c4))
        for b in range(4):
            check_tree(c4, mcts, b)
        for b, a in enumerate(mcts.choose(1.0)):
            if a >= 0:
                mcts.advance(b, int(a))
            check_tree(c4, mcts, b)


def test_edges_are_the_legal_actions(ttt):
    state = ttt.play_moves("b2 a1")
    mcts = BatchedMCTS(ttt, 1, PLAY)
    mcts.set_roots([state])
    mcts.run(RolloutEvaluator(ttt))
    for node in range(mcts.tree_size(0)):
        legal = ttt.legal_mask(mcts.tree.state[0, node])
        np.testing.assert_array_equal(mcts.edges(0, node).actions, np.flatnonzero(legal))


def test_chess_keeps_few_edges_per_node():
    """Chess: 4,672 actions, at most 218 legal moves: the tree keeps max_legal_actions slots per node."""
    if "chess" not in games.list_games():
        pytest.skip("chess is not registered")
    chess = games.make("chess")
    mcts = BatchedMCTS(chess, 2, MCTSConfig(simulations=16))
    assert mcts.tree.visit_count.shape[2] == chess.max_legal_actions < chess.num_actions
    result = mcts.run(UniformEvaluator(compiled=False))
    assert len(mcts.edges(0).actions) == 20 and result.visits[0].sum() == 16


# ------------------------------------------------------------------------------------------------ values
def test_values_are_for_the_player_to_move(ttt):
    """Colour symmetry of the backup: positions with X and with O to move are valued for the player to move
    (wins +1, losses -1, as the solver says), and Q(s, a) at a parent is minus the value of that child
    searched as a root by the other player."""
    cfg = MCTSConfig(simulations=4000, dirichlet_epsilon=0.0)
    solver = Solver(ttt)
    by_kind = {}  # two positions for each (player to move, exact value)
    for s in random_positions(ttt, 400, seed=3, max_plies=7):
        by_kind.setdefault((ttt.to_play(s), solver.value(s)), []).append(s)
    assert set(by_kind) == {(p, v) for p in (0, 1) for v in (-1, 0, 1)}
    states = [s for kind in sorted(by_kind) for s in by_kind[kind][:2]]
    mcts = BatchedMCTS(ttt, len(states), cfg)
    mcts.set_roots(states)
    result = mcts.run(ExactEvaluator(ttt))
    exact = np.array([solver.value(s) for s in states])
    np.testing.assert_allclose(result.value, exact, atol=0.2)
    state = ttt.play_moves("a1 b2")
    parent = search(ttt, state, ExactEvaluator(ttt), cfg)
    checked = 0
    for a in ttt.legal_actions(state):
        if parent.visits[0, a] >= 200:
            child = search(ttt, ttt.apply(state, a), ExactEvaluator(ttt), cfg)
            assert abs(parent.q[0, a] + child.value[0]) < 0.2
            checked += 1
    assert checked >= 1


def test_colour_flipped_chess_positions_search_alike():
    """White to move and its mirror image with Black to move (a back-rank mate in one): the same search,
    mirrored: the same value for the player to move, the same visit counts, the mirrored mate."""
    if "chess" not in games.list_games():
        pytest.skip("chess is not registered")
    chess = games.make("chess")
    out = []
    for fen, mate in (("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", "Ra8#"), ("r5k1/8/8/8/8/8/5PPP/6K1 b - - 0 1", "Ra1#")):
        state = chess.parse_position(fen)
        result = search(chess, state, UniformEvaluator(), MCTSConfig(simulations=300, dirichlet_epsilon=0.0))
        assert chess.format_move(state, int(result.best_move[0])) == mate
        out.append(result)
    white, black = out
    assert white.value[0] == black.value[0] and white.value[0] > 0.8
    np.testing.assert_array_equal(np.sort(white.visits[0]), np.sort(black.visits[0]))


def test_root_value_converges_to_minimax(ttt):
    """Tic-tac-toe with random rollouts: enough simulations give the minimax value and an optimal move."""
    solver = Solver(ttt)
    states = random_positions(ttt, 24, seed=0, max_plies=6)
    mcts = BatchedMCTS(ttt, len(states), MCTSConfig(simulations=20000, dirichlet_epsilon=0.0), seed=1)
    mcts.set_roots(states)
    result = mcts.run(RolloutEvaluator(ttt))
    for i, s in enumerate(states):
        assert abs(result.value[i] - solver.value(s)) < 0.2, (ttt.render(s), result.value[i], solver.value(s))
        assert int(result.best_move[i]) in solver.optimal_actions(s)


# ------------------------------------------------------------------------------------------------ batching
@pytest.mark.parametrize("leaves", [1, 4])
def test_batched_search_equals_single_searches(c4, leaves):
    """B = 64 trees searched together behave exactly as 64 one-tree searches (noise and virtual loss on)."""
    cfg = MCTSConfig(simulations=120, leaves_per_tree=leaves)
    states = random_positions(c4, 64, seed=5, max_plies=12)
    batched = BatchedMCTS(c4, 64, cfg, seed=11)
    batched.set_roots(states)
    many = batched.run(RolloutEvaluator(c4))
    for i in range(0, 64, 9):
        single = BatchedMCTS(c4, 1, cfg)
        single.set_roots([states[i]], seeds=[tree_seed(11, i)])
        one = single.run(RolloutEvaluator(c4))
        np.testing.assert_array_equal(one.visits[0], many.visits[i])
        np.testing.assert_allclose(one.q[0], many.q[i], atol=1e-6)
        assert one.best_move[0] == many.best_move[i]
        np.testing.assert_array_equal(single.edges(0).prior, batched.edges(i).prior)  # the same noise


@pytest.mark.parametrize("gumbel", [False, True])
def test_asynchronous_searches_equal_lockstep_ones(c4, gumbel):
    """``start_searches`` / ``step``: trees started at different steps, each starting its next search when the
    last one ends, search exactly as under ``run``; each step is at most one evaluator call for all of them."""
    cfg = MCTSConfig(simulations=40, gumbel=gumbel, gumbel_max_considered=4, decisive_moves=True)
    states = random_positions(c4, 6, seed=9, max_plies=14)
    calls = []
    weights = np.sin(np.arange(3 * 6 * 7 * 7, dtype=np.float64)).reshape(3 * 6 * 7, 7)

    def evaluator(planes, legal):  # a fixed function of each position (a network stand-in)
        calls.append(len(planes))
        x = planes.reshape(len(planes), -1).astype(np.float64)
        return (x @ weights).astype(np.float32), np.tanh(x.sum(axis=1) / 10 - 1).astype(np.float32)

    lockstep = BatchedMCTS(c4, 6, cfg, seed=3)
    lockstep.set_roots(states)
    expected = [lockstep.run(evaluator), lockstep.run(evaluator)]  # two searches, the second on the same trees

    search = BatchedMCTS(c4, 6, cfg, seed=3)
    search.set_roots(states)
    for misuse in (search.step, search.gather, lambda: search.evaluate(1)):  # nothing started yet
        with pytest.raises(ValueError, match="no search under way"):
            misuse()
    late = np.arange(6) >= 3
    search.start_searches(~late, evaluator)
    with pytest.raises(ValueError, match="middle of a search"):
        search.reset(0, states[0])
    with pytest.raises(ValueError, match="asynchronous searches are under way"):
        search.run(evaluator)
    done = np.zeros(6, np.int64)
    got = {}
    calls.clear()
    steps = 0
    while (done < 2).any():
        if steps == 5:
            search.start_searches(late, evaluator)  # these trees start five steps behind
        ended = search.step()
        steps += 1
        if ended.any():
            res = search.result(np.flatnonzero(ended))  # the trees that ended, in order
            for j, i in enumerate(np.flatnonzero(ended)):
                got[i, done[i]] = (res.visits[j], res.q[j], int(res.best_move[j]), res.policy[j], res.value[j])
                done[i] += 1
            if (ended & (done < 2)).any():
                search.start_searches(ended & (done < 2), evaluator)
    assert len(calls) <= steps and not search.searching.any()
    for (i, k), (visits, q, best, policy, value) in got.items():
        np.testing.assert_array_equal(visits, expected[k].visits[i])
        np.testing.assert_allclose(q, expected[k].q[i], atol=1e-6)
        np.testing.assert_allclose(policy, expected[k].policy[i], atol=1e-6)
        assert best == expected[k].best_move[i] and value == pytest.approx(expected[k].value[i], abs=1e-6)
    everything = search.result()
    some = search.result([4, 1])  # rows in the order asked
    for j, i in enumerate([4, 1]):
        for name in ("visits", "policy", "q", "prior", "value", "best_move", "simulations"):
            np.testing.assert_array_equal(getattr(some, name)[j], getattr(everything, name)[i])
    with pytest.raises(IndexError, match="tree indices"):
        search.result([6])


def test_interface_and_compiled_uniform_agree(c4):
    """The uniform evaluator inside the compiled step builds the same trees as through the Python call."""
    states = random_positions(c4, 8, seed=2, max_plies=10)
    out = []
    for compiled in (True, False):
        mcts = BatchedMCTS(c4, 8, MCTSConfig(simulations=200, leaves_per_tree=2), seed=4)
        mcts.set_roots(states)
        out.append(mcts.run(UniformEvaluator(compiled=compiled)))
    np.testing.assert_array_equal(out[0].visits, out[1].visits)
    np.testing.assert_array_equal(out[0].prior, out[1].prior)


def test_deterministic_with_a_seed(c4):
    states = random_positions(c4, 6, seed=8, max_plies=10)
    runs = []
    for seed in (7, 7, 8):
        mcts = BatchedMCTS(c4, 6, MCTSConfig(simulations=150, leaves_per_tree=2), seed=seed)
        mcts.set_roots(states)
        r = mcts.run(RolloutEvaluator(c4))
        runs.append((r.visits, r.prior, mcts.choose(1.0, np.random.default_rng(seed))))
    for a, b in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[2][0])


# ------------------------------------------------------------------------------------------------ reuse
def _subtree(mcts, b, node):
    """{action path: the node's edges} of the subtree below ``node``."""
    out = {}
    stack = [(node, ())]
    while stack:
        n, path = stack.pop()
        edges = mcts.edges(b, n)
        out[path] = edges
        for a, c in zip(edges.actions, edges.child, strict=True):
            if c >= 0:
                stack.append((int(c), path + (int(a),)))
    return out


def test_subtree_reuse_keeps_the_child_statistics(c4):
    mcts = BatchedMCTS(c4, 2, MCTSConfig(simulations=300, dirichlet_epsilon=0.0), seed=0)
    mcts.set_roots([c4.initial_state(), c4.parse_position("44")])
    result = mcts.run(RolloutEvaluator(c4))
    a = int(result.best_move[0])
    before = _subtree(mcts, 0, mcts.child(0, a))
    other = _subtree(mcts, 1, ROOT)
    mcts.advance(0, a)
    assert mcts.tree_size(0) == len(before)
    after = _subtree(mcts, 0, ROOT)
    assert before.keys() == after.keys()
    for path in before:
        for name in ("actions", "visits", "value_sum", "prior"):
            np.testing.assert_array_equal(getattr(before[path], name), getattr(after[path], name))
    assert mcts.edges(0).visits.sum() == result.visits[0, a] - 1  # one visit was the child's own evaluation
    np.testing.assert_array_equal(mcts.root_state(0), c4.apply(c4.initial_state(), a))
    assert _subtree(mcts, 1, ROOT).keys() == other.keys()  # the other tree is untouched
    # the next search adds its simulations to the kept ones
    kept = mcts.edges(0).visits.sum()
    second = mcts.run(RolloutEvaluator(c4), simulations=100)
    assert second.visits[0].sum() == kept + 100


def test_advance_to_an_unexpanded_child_starts_fresh(c4):
    mcts = BatchedMCTS(c4, 1, MCTSConfig(simulations=3, dirichlet_epsilon=0.0))
    result = mcts.run(UniformEvaluator())
    a = int(np.flatnonzero(result.visits[0] == 0)[0])
    mcts.advance(0, a)
    assert mcts.tree_size(0) == 1 and mcts.edges(0).visits.sum() == 0
    assert mcts.run(UniformEvaluator()).visits[0].sum() == 3


def test_advance_rejects_illegal_actions(c4):
    from games import IllegalMove

    mcts = BatchedMCTS(c4, 1, PLAY)
    mcts.set_roots([c4.parse_position("111111")])
    with pytest.raises(IllegalMove):
        mcts.advance(0, 0)  # column 1 is full
    with pytest.raises(IllegalMove):
        mcts.advance(0, 9)


def test_pool_grows_when_reuse_needs_it(ttt):
    mcts = BatchedMCTS(ttt, 1, MCTSConfig(simulations=50, max_nodes=20, dirichlet_epsilon=0.0))
    for _ in range(3):
        r = mcts.run(RolloutEvaluator(ttt))
        assert r.simulations[0] == 50 or ttt.is_terminal(mcts.root_state(0))
        mcts.advance(0, int(r.best_move[0]))
    assert mcts.tree.visit_count.shape[1] > 20


# ------------------------------------------------------------------------------------------------ choice
def test_choose_with_temperature(c4):
    mcts = BatchedMCTS(c4, 1, MCTSConfig(simulations=200, dirichlet_epsilon=0.0))
    result = mcts.run(RolloutEvaluator(c4))
    visits = result.visits[0].astype(float)
    rng = np.random.default_rng(0)
    assert mcts.choose(0.0, rng)[0] == np.argmax(visits)
    counts = np.bincount([mcts.choose(1.0, rng)[0] for _ in range(4000)], minlength=7)
    np.testing.assert_allclose(counts / 4000, visits / visits.sum(), atol=0.03)
    sharp = np.bincount([mcts.choose(0.25, rng)[0] for _ in range(2000)], minlength=7)
    assert sharp[np.argmax(visits)] / 2000 > counts[np.argmax(visits)] / 4000


def test_finished_games_give_no_move(ttt):
    mcts = BatchedMCTS(ttt, 2, PLAY)
    mcts.set_roots([ttt.play_moves("a1 a2 b1 b2 c1"), ttt.initial_state()])
    result = mcts.run(RolloutEvaluator(ttt))
    assert result.best_move[0] == -1 and result.visits[0].sum() == 0 and result.value[0] == -1.0
    assert mcts.choose(1.0)[0] == -1 and result.best_move[1] >= 0


# ------------------------------------------------------------------------------------------------ evaluators
class CountingEvaluator:
    def __init__(self):
        self.positions = 0

    def __call__(self, planes, legal):
        self.positions += len(planes)
        logits = planes[:, 0].reshape(len(planes), -1)[:, : legal.shape[1]] * 0.5  # depends on the position
        return logits.astype(np.float32), np.tanh(planes[:, 0].sum(axis=(1, 2)) * 0.1 - 0.2).astype(np.float32)


def test_cache_saves_evaluations_and_changes_nothing(c4):
    states = [c4.initial_state(), c4.parse_position("4")]
    plain, counting = CountingEvaluator(), CountingEvaluator()
    cached = CachedEvaluator(counting, size=1 << 12)
    results = []
    for ev in (plain, cached):
        mcts = BatchedMCTS(c4, 2, MCTSConfig(simulations=300, dirichlet_epsilon=0.0), seed=0)
        for _ in range(2):  # the second search of the same roots finds every position in the cache
            mcts.set_roots(states)
            results.append(mcts.run(ev))
    np.testing.assert_array_equal(results[0].visits, results[2].visits)
    np.testing.assert_allclose(results[1].q, results[3].q, atol=1e-6)
    assert cached.hits > 0 and counting.positions < plain.positions
    assert cached.hits + cached.misses >= 2 * 300


def test_cache_called_directly(c4):
    counting = CountingEvaluator()
    cached = CachedEvaluator(counting, size=1 << 12)
    planes = np.stack([c4.encode(s) for s in random_positions(c4, 5, seed=1)])
    legal = np.ones((5, 7), bool)
    a = cached(planes, legal)
    b = cached(planes, legal)
    np.testing.assert_array_equal(a[0], b[0])
    assert counting.positions == 5 and cached.hits == 5


def test_rollout_and_exact_evaluators_on_states(ttt):
    won_for_mover = ttt.play_moves("a1 a2 b1 b2")    # X to move, wins at c1 in every rollout that takes it
    lost = ttt.play_moves("a1 a2 b1 b2 c3")         # O to move... O wins at c2: mover wins
    states = np.stack([won_for_mover, lost])
    legal = np.stack([ttt.legal_mask(s) for s in states])
    _, exact = ExactEvaluator(ttt).evaluate_states(states, legal)
    np.testing.assert_array_equal(exact, [1, 1])
    _, values = RolloutEvaluator(ttt, rollouts=400, seed=0).evaluate_states(states, legal)
    assert np.all(values > 0.0) and np.all(np.abs(values) <= 1)


@pytest.mark.parametrize("bad", ["shape", "nan", "range"])
def test_bad_evaluations_are_reported(c4, bad):
    def evaluator(planes, legal):
        n = len(planes)
        logits = np.zeros((n, 7), np.float32)
        values = np.zeros(n, np.float32)
        if bad == "shape":
            return logits[:, :5], values
        if bad == "nan":
            logits[0, 2] = np.nan
        else:
            values[0] = 3.0
        return logits, values

    mcts = BatchedMCTS(c4, 2, PLAY)
    with pytest.raises(ValueError, match="evaluator"):
        mcts.run(evaluator)


def test_config_section_from_yaml_keys():
    from engine.config import ConfigError, from_dict

    cfg = from_dict(MCTSConfig, {"simulations": 64, "gumbel": True, "c_init": 2})
    assert cfg.simulations == 64 and cfg.gumbel and cfg.c_init == 2.0
    with pytest.raises(ConfigError, match="simulation"):
        from_dict(MCTSConfig, {"simulation": 3})
    with pytest.raises(ConfigError, match="leaves_per_tree"):
        from_dict(MCTSConfig, {"leaves_per_tree": 0})
    assert cfg.for_play().dirichlet_epsilon == 0.0 and cfg.for_play().gumbel_scale == 0.0


def test_a_stale_cache_index_does_not_stop_the_search(tmp_path):
    """Numba may fail to re-save a kernel's cache index (ReferenceError); the compiled kernel is used anyway and
    the stale index is dropped."""
    from types import SimpleNamespace

    from engine.mcts import search as search_mod

    index = tmp_path / "kernel.nbi"
    index.write_bytes(b"stale")
    entry = object()

    class Kernel:
        overloads = {}
        _cache = SimpleNamespace(_cache_file=SimpleNamespace(_index_path=str(index)))

        def compile(self, sig):
            self.overloads[sig] = SimpleNamespace(entry_point=entry)
            raise ReferenceError("underlying object has vanished")

    assert search_mod.compiled_entry(Kernel(), np.zeros(3), 1) is entry
    assert not index.exists()


def test_a_stale_cache_index_that_fails_the_compile_is_dropped_and_the_kernel_compiled_again(tmp_path):
    """Loading from a stale index can fail before anything is compiled (seen after Go's scoring kernels changed):
    the index is dropped and the kernel compiled again, instead of a KeyError."""
    from types import SimpleNamespace

    from engine.mcts import search as search_mod

    index = tmp_path / "kernel.nbi"
    index.write_bytes(b"stale")
    entry = object()

    class Kernel:
        overloads = {}
        _cache = SimpleNamespace(_cache_file=SimpleNamespace(_index_path=str(index)))
        calls = 0

        def compile(self, sig):
            self.calls += 1
            if index.exists():  # the stale index breaks the compile itself
                raise ReferenceError("underlying object has vanished")
            self.overloads[sig] = SimpleNamespace(entry_point=entry)
            return entry

    kernel = Kernel()
    assert search_mod.compiled_entry(kernel, np.zeros(2), 7) is entry
    assert kernel.calls == 2 and not index.exists()
