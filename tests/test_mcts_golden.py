"""Golden searches: fixed positions, seeds and evaluators whose results were recorded from the search as it was
before its kernels were split into composed variants. Any change to selection, noise, backup, reuse, summaries
or the self-play move loop shows up here bit for bit (a digest of every output array, and the root visits in
clear). If a change of behaviour is intended, record the new values with ``python tests/test_mcts_golden.py``
and say why in the commit."""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest

import games
from engine.mcts import BatchedMCTS, CachedEvaluator, MCTSConfig, RolloutEvaluator, UniformEvaluator


class Formula:
    """A deterministic, position-dependent evaluator (no torch): uneven priors and values from the planes."""

    def __init__(self, game):
        n_in = int(np.prod(game.plane_shape))
        i = np.arange(n_in, dtype=np.float64)[:, None]
        a = np.arange(game.num_actions, dtype=np.float64)[None, :]
        self.w_logits = np.sin(1.7 * i + 0.3 * a + 0.1 * i * a)
        self.w_value = np.cos(0.37 * np.arange(n_in))

    def __call__(self, planes, legal):
        x = planes.reshape(len(planes), -1).astype(np.float64)
        logits = x @ self.w_logits
        value = np.tanh(x @ self.w_value / 4)
        return logits.astype(np.float32), value.astype(np.float32)


def digest(result) -> str:
    h = hashlib.sha256()
    for arr in (result.visits, result.policy, result.q, result.value, result.best_move, result.prior,
                result.full_search, result.simulations):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def visits(result) -> list[dict[int, int]]:
    return [{int(a): int(v[a]) for a in np.flatnonzero(v)} for v in result.visits]


def opening(game, moves):
    s = game.initial_state()
    for m in moves:
        s = game.apply(s, m)
    return s


CASES = {
    # name: (game, opening moves, config, evaluator kind, simulations, moves played with subtree reuse)
    "c4_puct_noise": ("connect4", [3, 3, 2], dict(), "formula", 60, 1),
    "c4_leaves4": ("connect4", [3], dict(leaves_per_tree=4, dirichlet_epsilon=0.0), "formula", 64, 1),
    "c4_gumbel": ("connect4", [3, 4], dict(gumbel=True, gumbel_max_considered=4), "formula", 40, 1),
    "c4_gumbel_norescale": ("connect4", [], dict(gumbel=True, gumbel_rescale_values=False, leaves_per_tree=2),
                            "formula", 32, 0),
    "c4_katago": ("connect4", [3], dict(forced_playouts=True, policy_target_pruning=True, playout_cap=True,
                                        playout_cap_full_prob=0.5, playout_cap_cheap_simulations=10), "formula", 50, 2),
    "c4_decisive": ("connect4", [3, 3, 4, 4], dict(decisive_moves=True), "formula", 40, 1),
    "c4_cached": ("connect4", [2], dict(dirichlet_epsilon=0.0), "cached", 50, 1),
    "ttt_rollout": ("tictactoe", [4], MCTSConfig.pure(30).__dict__, "rollout", 30, 1),
    "ttt_uniform": ("tictactoe", [], dict(fpu_reduction=0.0), "uniform", 25, 0),
    "go9_puct": ("go9", [40, 30], dict(leaves_per_tree=2), "formula", 24, 1),
}

EXPECTED = {
    # recorded from the search before the refactor (see the module docstring)
    'c4_puct_noise': [([{0: 18, 2: 16, 3: 2, 4: 1, 5: 22, 6: 1},
                        {0: 13, 1: 1, 2: 19, 3: 3, 4: 1, 5: 22, 6: 1},
                        {0: 12, 1: 4, 2: 18, 3: 3, 5: 22, 6: 1}],
                       '7b7595741745e38a'),
                      ([{1: 22, 2: 41, 3: 1, 4: 1, 5: 1, 6: 11},
                        {0: 13, 2: 9, 3: 31, 4: 16, 5: 1, 6: 8},
                        {0: 27, 1: 3, 2: 6, 3: 16, 4: 1, 5: 1, 6: 8}],
                       'edede38176f88e16')],
    'c4_leaves4': [([{0: 3, 1: 8, 2: 26, 3: 1, 4: 1, 5: 24, 6: 1},
                     {0: 3, 1: 8, 2: 26, 3: 1, 4: 1, 5: 24, 6: 1},
                     {0: 3, 1: 8, 2: 26, 3: 1, 4: 1, 5: 24, 6: 1}],
                    '74badc42902f8449'),
                   ([{0: 22, 1: 20, 3: 13, 4: 8, 6: 8}, {0: 31, 3: 23, 6: 35}, {0: 9, 1: 17, 3: 5, 4: 18, 6: 15}],
                    'bd94a933c8949bc9')],
    'c4_gumbel': [([{2: 15, 3: 15, 5: 5, 6: 5}, {1: 15, 3: 5, 4: 15, 6: 5}, {1: 15, 3: 5, 4: 15, 6: 5}],
                   '06270bcc54fc898f'),
                  ([{0: 5, 1: 14, 2: 1, 3: 16, 4: 16, 5: 1, 6: 1},
                    {0: 1, 1: 1, 2: 5, 3: 5, 4: 26, 5: 16},
                    {0: 5, 1: 26, 2: 1, 4: 1, 5: 6, 6: 15}],
                   'f13b7f2bac52826a')],
    'c4_gumbel_norescale': [([{0: 1, 1: 1, 2: 12, 3: 1, 4: 1, 5: 4, 6: 12},
                              {0: 1, 1: 12, 2: 1, 3: 1, 4: 4, 5: 1, 6: 12},
                              {0: 1, 1: 12, 2: 4, 3: 1, 4: 12, 5: 1, 6: 1}],
                             '81f7c7c5cf09790f')],
    'c4_katago': [([{2: 9, 5: 1},
                    {0: 5, 1: 6, 2: 20, 3: 5, 4: 3, 5: 7, 6: 4},
                    {1: 6, 2: 12, 3: 17, 4: 3, 5: 7, 6: 5}],
                   'c5919093a2162092'),
                  ([{0: 14, 1: 11, 3: 8, 4: 5, 5: 3, 6: 17},
                    {0: 14, 1: 24, 2: 6, 3: 8, 6: 17},
                    {0: 14, 1: 5, 2: 19, 3: 10, 6: 18}],
                   'a0d4d987ca9ee763'),
                  ([{1: 3, 2: 48, 5: 8, 6: 4}, {2: 49, 3: 3, 4: 3, 5: 8}, {2: 17, 5: 10}], 'f35cda64fdca51a6')],
    'c4_decisive': [([{1: 8, 3: 1, 4: 1, 5: 29, 6: 1}, {1: 9, 2: 19, 3: 1, 4: 1, 6: 10}, {1: 9, 2: 20, 3: 1, 6: 10}],
                     '52ab4202a27b015a'),
                    ([{2: 46, 4: 1},
                      {0: 5, 1: 10, 2: 8, 3: 15, 4: 3, 5: 12, 6: 5},
                      {0: 6, 1: 11, 2: 6, 3: 15, 4: 2, 5: 13, 6: 6}],
                     'f62b830079e46b76')],
    'c4_cached': [([{0: 23, 2: 1, 3: 17, 4: 1, 5: 1, 6: 7},
                    {0: 23, 2: 1, 3: 17, 4: 1, 5: 1, 6: 7},
                    {0: 23, 2: 1, 3: 17, 4: 1, 5: 1, 6: 7}],
                   'edb45da6e4f89aa3'),
                  ([{1: 4, 2: 54, 4: 1, 5: 12, 6: 1},
                    {1: 1, 2: 57, 4: 1, 5: 6, 6: 1},
                    {1: 1, 2: 57, 4: 1, 5: 6, 6: 1}],
                   'bdec80a2c41e0274')],
    'ttt_rollout': [([{0: 1, 1: 1, 2: 1, 3: 3, 5: 1, 6: 4, 7: 4, 8: 15},
                      {0: 3, 1: 1, 2: 7, 3: 1, 5: 1, 6: 5, 7: 1, 8: 11},
                      {0: 1, 1: 2, 2: 6, 3: 2, 5: 2, 6: 2, 7: 4, 8: 11}],
                     'ae204a8806590713'),
                    ([{0: 6, 1: 1, 2: 1, 5: 1, 6: 8, 7: 13, 8: 2},
                      {0: 10, 1: 1, 2: 1, 3: 1, 5: 1, 7: 2, 8: 18},
                      {0: 3, 1: 1, 2: 2, 3: 1, 5: 7, 6: 1, 8: 18}],
                     '9a5e9419eb24ce6d')],
    'ttt_uniform': [([{0: 3, 1: 3, 2: 2, 3: 3, 4: 3, 5: 4, 6: 3, 7: 2, 8: 2},
                      {0: 2, 1: 2, 2: 3, 3: 2, 4: 3, 5: 3, 6: 2, 7: 5, 8: 3},
                      {0: 2, 1: 4, 2: 3, 3: 3, 4: 2, 5: 3, 6: 2, 7: 3, 8: 3}],
                     'c030df7467090be7')],
    'go9_puct': [([{43: 2, 44: 22}, {43: 2, 44: 22}, {43: 2, 44: 22}], '9ad4a2b8bdd74d59'),
                 ([{4: 22, 15: 9, 21: 1, 32: 2, 63: 11},
                   {0: 12, 4: 16, 23: 4, 32: 2, 63: 11},
                   {4: 22, 21: 4, 32: 6, 63: 13}],
                  '68b4477a452cc8e0')],
    'selfplay_puct': ([[2, 0, 2, 3, 2, 6, 2],
                       [5, 6, 2, 6, 2, 0, 2, 3, 2],
                       [6, 2, 6, 5, 3, 2, 3, 2, 0, 2],
                       [6, 2, 6, 2, 4, 2, 0, 2]],
                      '00f00948ef4cd7c8'),
    'selfplay_gumbel': ([[2, 0, 1, 3, 2, 3, 2, 0, 2],
                         [1, 3, 2, 0, 1, 0, 2, 0, 2, 0],
                         [1, 0, 1, 5, 5, 1, 1, 0, 2, 0, 2, 0],
                         [5, 5, 2, 0, 4, 3, 1, 3, 4, 1, 1, 1, 1, 1, 2, 0, 2, 0, 2]],
                        '66ff7ff894a773f3'),
}


def run_case(name):
    game_name, moves, options, kind, sims, reuse = CASES[name]
    game = games.make(game_name)
    cfg = MCTSConfig(**{**options, "simulations": sims})
    evaluator = {"formula": lambda: Formula(game), "cached": lambda: CachedEvaluator(Formula(game), 1 << 10),
                 "rollout": lambda: RolloutEvaluator(game, rollouts=2), "uniform": UniformEvaluator}[kind]()
    mcts = BatchedMCTS(game, 3, cfg, seed=11)
    mcts.set_roots([opening(game, moves)] * 3)
    out = []
    for move in range(reuse + 1):
        result = mcts.run(evaluator)
        out.append((visits(result), digest(result)))
        if move < reuse:
            for b, a in enumerate(mcts.choose(temperature=1.0)):
                mcts.advance(b, int(a))
    return out


def run_selfplay(search):
    """Self-play games of the compiled move loop (``engine.alphazero._moves.play_step``)."""
    from engine.alphazero import SelfPlayWorker, make_config

    game = games.make("connect4")
    cfg = make_config(None, ["game.name=connect4", "mcts.simulations=12", "selfplay.parallel_games=3",
                             "selfplay.temperature_moves=6", "selfplay.random_opening_plies=1",
                             f"mcts.gumbel={'true' if search == 'gumbel' else 'false'}",
                             "mcts.gumbel_max_considered=4", "mcts.playout_cap=true",
                             "mcts.playout_cap_cheap_simulations=4", "selfplay.resign_threshold=-0.9"])
    batch = SelfPlayWorker(game, cfg, evaluator=Formula(game)).play(4, seed=5)
    h = hashlib.sha256(np.ascontiguousarray(batch.policy).tobytes() + np.ascontiguousarray(batch.value).tobytes())
    return [list(g.actions) for g in batch.games], h.hexdigest()[:16]


@pytest.mark.parametrize("name", list(CASES))
def test_golden_search(name):
    assert run_case(name) == EXPECTED[name]


@pytest.mark.parametrize("search", ["puct", "gumbel"])
def test_golden_selfplay(search):
    assert run_selfplay(search) == EXPECTED[f"selfplay_{search}"]


if __name__ == "__main__":  # print the values to record
    names = sys.argv[1:] or list(CASES) + ["selfplay_puct", "selfplay_gumbel"]
    for name in names:
        value = run_selfplay(name.split("_")[1]) if name.startswith("selfplay_") else run_case(name)
        print(f"    {name!r}: {value!r},", flush=True)  # (then wrap the lines: pprint.pformat(width=114))
