"""The self-play worker: B games at once through ``BatchedMCTS``, one network call per search step.

AlphaZero's data generation (Silver et al. 2018): every move is chosen by a search from the current network,
with Dirichlet noise at the root (or Gumbel AlphaZero's sampled root, Danihelka et al. 2022) and a
temperature over the visit counts for the opening plies; each searched position becomes a training example
``(planes, pi, z)`` with ``pi`` the search's policy target and ``z`` the final result from the mover's view.
Resignation (AlphaGo Zero, Silver et al. 2017): a side resigns when the root value and its best child's value
fall below a threshold; a share of games is played out anyway to measure how often that would have been
wrong. With KataGo's playout-cap randomization (Wu 2019) only full searches give examples.

Each game searches at its own pace (``BatchedMCTS.start_searches`` / ``step``): a game whose search ends (sooner
when its simulations reach finished games, which need no evaluation) moves and starts the next search while the
others go on, so every network call holds a leaf of each live game.

The worker is self-contained (a game, a configuration, a network copy, a seed) so that a distributed runner can
hold one per actor: ``set_weights`` takes the learner's ``state_dict``, ``play`` returns a ``SelfPlayBatch`` of
plain numpy arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..mcts import BatchedMCTS, TimedEvaluator
from .config import SelfPlayConfig


@dataclass
class GameSummary:
    """One finished self-play game."""

    actions: list[int]
    result: int                # +1 / 0 / -1 from the first player's view (a resignation loses)
    reason: str                # "end", "resign" or "max_moves"
    playthrough: bool = False  # resignation was disabled for this game
    would_resign: tuple[bool, bool] = (False, False)  # playthrough games: the side would have resigned


@dataclass
class SelfPlayBatch:
    """Training examples and statistics from ``SelfPlayWorker.play`` (N positions, A actions)."""

    planes: np.ndarray   # float32[N, C, H, W]  network input, mover's view
    policy: np.ndarray   # float32[N, A]        search policy target pi
    value: np.ndarray    # float32[N]           value target: z (mover's view) times the discount
    result: np.ndarray   # int8[N]              undiscounted result for the mover: +1 / 0 / -1 (WDL targets)
    games: list[GameSummary] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @staticmethod
    def concatenate(batches: list[SelfPlayBatch]) -> SelfPlayBatch:
        """Join batches (e.g. from several workers); statistics that are counts or seconds are added."""
        if not batches:
            raise ValueError("no batches to concatenate")
        stats: dict = {}
        for b in batches:
            for k, v in b.stats.items():
                if isinstance(v, (int, float)):
                    stats[k] = stats.get(k, 0) + v
        return SelfPlayBatch(np.concatenate([b.planes for b in batches]), np.concatenate([b.policy for b in batches]),
                             np.concatenate([b.value for b in batches]), np.concatenate([b.result for b in batches]),
                             [g for b in batches for g in b.games], stats)


def build_net(game, cfg: SelfPlayConfig):
    """A fresh network for ``game`` with the configured architecture."""
    from nets import PolicyValueNet

    return PolicyValueNet.from_config(game.plane_shape, game.num_actions, cfg.net)


def temperature_choice(visits: np.ndarray, temperature: float, u: float) -> int:
    """Sample an action from visit counts ** (1 / T) with the uniform number ``u`` (T = 0: the most visited,
    ties broken by ``u``)."""
    counts = visits.astype(np.float64)
    if temperature == 0:
        ties = np.flatnonzero(counts == counts.max())
        return int(ties[min(int(u * len(ties)), len(ties) - 1)])
    weights = np.where(counts > 0, (counts / counts.max()) ** (1.0 / temperature), 0.0)
    cdf = np.cumsum(weights)
    a = min(int(np.searchsorted(cdf, u * cdf[-1], side="right")), len(counts) - 1)
    while weights[a] == 0:
        a -= 1
    return a


class SelfPlayWorker:
    """Plays self-play games B at a time with one network.

    Args:
        game: a ``games.Game``.
        config: the run's ``SelfPlayConfig`` (sections ``net``, ``mcts``, ``selfplay`` are used).
        net: the worker's own network (default: a fresh one from ``config.net``); the worker's evaluator moves it
            to ``device`` and eval mode, so never pass the learner's network itself.
        device: where the worker's network runs.
        evaluator: an evaluator to use instead of a network (tests, benchmarks).

    ``play(num_games, seed)`` is a pure function of the weights, the configuration, ``num_games`` and ``seed``:
    a resumed run replays an iteration exactly.
    """

    def __init__(self, game, config: SelfPlayConfig, net=None, device: str = "cpu", evaluator=None):
        self.game = game
        self.config = config
        self.batch_size = int(config.selfplay.parallel_games)
        if evaluator is None:
            from nets import PolicyValueEvaluator

            self.net = net if net is not None else build_net(game, config)
            evaluator = PolicyValueEvaluator(self.net, device=device, max_batch=max(1024, self.batch_size))
        else:
            self.net = net
        self.evaluator = evaluator
        self.search = BatchedMCTS(game, self.batch_size, config.mcts, seed=0)
        self._initial = game.initial_state()
        self._planes = np.zeros(game.plane_shape, np.float32)

    def set_weights(self, state_dict) -> None:
        """Load the learner's weights (a ``state_dict`` of tensors or numpy arrays)."""
        import torch

        state_dict = {k: torch.as_tensor(v) for k, v in state_dict.items()}
        if hasattr(self.evaluator, "load_state_dict"):
            self.evaluator.load_state_dict(state_dict)
        else:
            self.net.load_state_dict(state_dict)

    def _opening(self, rng: np.random.Generator, max_plies: int) -> tuple[np.ndarray, list[int]]:
        """A start position after n ~ uniform{0..max_plies} random plies (never a finished game)."""
        game = self.game
        while True:
            state, moves = self._initial.copy(), []
            for _ in range(int(rng.integers(0, max_plies + 1)) if max_plies > 0 else 0):
                legal = np.flatnonzero(game.legal_mask(state))
                a = int(legal[int(rng.integers(0, len(legal)))])
                game.rules.apply(game.params, state, a)
                moves.append(a)
                if game.is_terminal(state):
                    break
            if not game.is_terminal(state):
                return state, moves

    # ---------------------------------------------------------------------------------------------------------
    def play(self, num_games: int, seed: int, progress: Callable[[int, int], None] | None = None) -> SelfPlayBatch:
        """Play ``num_games`` games (B at a time) and return their examples; ``progress(games_done, positions)``
        is called after each finished game."""
        game, rules, params = self.game, self.game.rules, self.game.params
        sp = self.config.selfplay
        B = self.batch_size
        rng = np.random.default_rng([int(seed) % 2**63, 0x5E1F])
        search = self.search
        timed = TimedEvaluator(self.evaluator)
        resign_on = sp.resign_threshold > -1.0
        gumbel = self.config.mcts.gumbel
        t_start = time.perf_counter()

        # per-slot game state
        states: list[np.ndarray | None] = [None] * B
        trajectories: list[list] = [[] for _ in range(B)]  # (planes, policy, mover) of training positions
        actions: list[list[int]] = [[] for _ in range(B)]
        playthrough = np.zeros(B, np.bool_)
        would_resign = np.zeros((B, 2), np.bool_)
        active = np.zeros(B, np.bool_)
        move_rngs: list[np.random.Generator | None] = [None] * B
        started = 0
        game_seeds = rng.integers(0, 2**62, size=num_games)
        playthrough_draws = rng.random(num_games)

        out_planes, out_policy, out_value, out_result = [], [], [], []
        games: list[GameSummary] = []
        moves = searches = resigned = false_resigns = playthrough_games = 0

        def start(slot: int) -> None:
            nonlocal started
            states[slot], actions[slot] = self._opening(rng, sp.random_opening_plies)
            # the game's own stream for its temperature draws: its moves do not depend on when other games move
            move_rngs[slot] = np.random.default_rng([int(game_seeds[started]), 0x7E3])
            trajectories[slot] = []
            playthrough[slot] = (not resign_on) or playthrough_draws[started] < sp.resign_playthrough
            would_resign[slot] = False
            search.reset(slot, states[slot], seed=int(game_seeds[started]))
            active[slot] = True
            started += 1

        def finish(slot: int, result: int, reason: str) -> None:
            nonlocal resigned, false_resigns, playthrough_games
            traj = trajectories[slot]
            n = len(actions[slot])
            for ply, (planes, policy, mover) in traj:
                z = result if mover == 0 else -result
                out_planes.append(planes)
                out_policy.append(policy)
                out_value.append(z * sp.value_discount ** (n - ply - 1))
                out_result.append(z)
            if reason == "resign":
                resigned += 1
            if resign_on and playthrough[slot]:
                playthrough_games += 1
                for side in (0, 1):
                    side_result = result if side == 0 else -result
                    if would_resign[slot, side] and side_result >= 0:
                        false_resigns += 1
            games.append(GameSummary(list(actions[slot]), int(result), reason, bool(playthrough[slot] and resign_on),
                                     (bool(would_resign[slot, 0]), bool(would_resign[slot, 1]))))
            active[slot] = False
            states[slot] = None
            if progress is not None:
                progress(len(games), len(out_value))

        for slot in range(min(B, num_games)):
            start(slot)
        # Every game searches at its own pace (BatchedMCTS.start_searches): a game whose search ends moves and
        # starts its next one while the others go on, so each network call holds a leaf of every live game.
        search.start_searches(active.copy(), timed)
        while active.any():
            ended = search.step()
            if not ended.any():
                continue
            searches += int(ended.sum())
            res = search.result()
            again = np.zeros(B, np.bool_)
            for slot in np.flatnonzero(ended):
                draw = float(move_rngs[slot].random())
                state = states[slot]
                ply = len(actions[slot])
                mover = int(rules.to_play(params, state))
                if res.full_search[slot]:
                    rules.encode(params, state, self._planes)
                    trajectories[slot].append((ply, (self._planes.copy(), res.policy[slot].copy(), mover)))
                if resign_on and ply >= sp.resign_min_moves:
                    visited = res.visits[slot] > 0
                    best_q = float(res.q[slot][visited].max()) if visited.any() else float(res.value[slot])
                    if res.value[slot] < sp.resign_threshold and best_q < sp.resign_threshold:
                        if playthrough[slot]:
                            would_resign[slot, mover] = True
                        else:
                            finish(slot, -1 if mover == 0 else 1, "resign")
                            if started < num_games:
                                start(slot)
                                again[slot] = True
                            continue
                temperature = sp.temperature if ply < sp.temperature_moves else sp.final_temperature
                if gumbel:  # the sequential-halving winner: its Gumbel noise already samples the move
                    action = int(res.best_move[slot])
                else:
                    action = temperature_choice(res.visits[slot], temperature, draw)
                rules.apply(params, state, action)
                actions[slot].append(action)
                moves += 1
                outcome = int(rules.outcome(params, state))
                if outcome != 2:  # games.base.ONGOING
                    finish(slot, outcome, "end")
                    if started < num_games:
                        start(slot)
                        again[slot] = True
                elif len(actions[slot]) >= game.max_game_length:
                    finish(slot, 0, "max_moves")
                    if started < num_games:
                        start(slot)
                        again[slot] = True
                else:
                    search.advance(slot, action)
                    again[slot] = True
            if again.any():
                search.start_searches(again, timed)
        seconds = time.perf_counter() - t_start
        n = len(out_value)
        planes = np.stack(out_planes) if n else np.zeros((0, *game.plane_shape), np.float32)
        policy = np.stack(out_policy).astype(np.float32) if n else np.zeros((0, game.num_actions), np.float32)
        stats = {"games": len(games), "positions": n, "moves": moves, "searches": searches, "seconds": seconds,
                 "network_seconds": timed.seconds, "network_calls": timed.calls, "evaluations": timed.positions,
                 "resigned": resigned, "playthrough_games": playthrough_games, "false_resigns": false_resigns,
                 "first_player_wins": sum(g.result > 0 for g in games), "draws": sum(g.result == 0 for g in games),
                 "game_length": sum(len(g.actions) for g in games)}
        return SelfPlayBatch(planes, policy, np.asarray(out_value, np.float32), np.asarray(out_result, np.int8),
                             games, stats)
