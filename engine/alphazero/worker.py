"""The self-play worker: B games at once through ``BatchedMCTS``, one network call per search step.

AlphaZero's data generation (Silver et al. 2018): every move is chosen by a search from the current network,
with Dirichlet noise at the root (or Gumbel AlphaZero's sampled root, Danihelka et al. 2022) and a
temperature over the visit counts for the opening plies; each searched position becomes a training example
``(planes, pi, z)`` with ``pi`` the search's policy target and ``z`` the final result from the mover's view.
Resignation (AlphaGo Zero, Silver et al. 2017): a side resigns when the root value and its best child's value
fall below a threshold; a share of games is played out anyway to measure how often that would have been
wrong. With KataGo's playout-cap randomization (Wu 2019) only full searches give examples.

Each game searches at its own pace (``BatchedMCTS.start_searches``): a game whose search ends (sooner when its
simulations reach finished games, which need no evaluation) moves and starts the next search while the others go
on, so every network call holds a leaf of each live game. Between two network calls two compiled calls do all
the work: ``engine.alphazero._moves.play_step`` applies the evaluations, records the positions, chooses and
plays the moves of the games whose search ended and begins their next searches; ``BatchedMCTS.gather`` gathers
the next leaves. Python steps in only when a game ends. (Measured on Connect Four, 64 games at once: the
Python move loop this replaced cost about 0.4 ms a network call of ~10 ms.)

The worker is self-contained (a game, a configuration, a network copy, a seed) so that a distributed runner can
hold one per actor: ``set_weights`` takes the learner's ``state_dict``, ``play`` returns a ``SelfPlayBatch`` of
plain numpy arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..config import ConfigError
from ..mcts import BatchedMCTS, TimedEvaluator, kernels
from ..mcts.search import compiled_entry
from . import _moves
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
    # KataGo's auxiliary targets (``train.ownership_weight`` / ``score_weight`` > 0), else None:
    ownership: np.ndarray | None = None   # int8[N, H, W]  final owner of each point, mover's view (+1 the mover)
    score: np.ndarray | None = None       # float32[N]     final score margin, mover's view (komi included)
    has_target: np.ndarray | None = None  # bool[N]        the game ended by the rules (a resigned one has none)

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
        aux = {}
        if all(b.ownership is not None for b in batches):
            aux = {k: np.concatenate([getattr(b, k) for b in batches]) for k in ("ownership", "score", "has_target")}
        return SelfPlayBatch(np.concatenate([b.planes for b in batches]), np.concatenate([b.policy for b in batches]),
                             np.concatenate([b.value for b in batches]), np.concatenate([b.result for b in batches]),
                             [g for b in batches for g in b.games], stats, **aux)


class _Game:
    """A self-play game between two ``play`` calls (continuous self-play, saved runs): its state, moves, the
    training positions searched so far, and how many random draws it has taken (``draws``; the draws themselves
    are ``engine.alphazero._moves.draw(game_seed, k)``, so a game's moves do not depend on when other games
    move)."""

    __slots__ = ("state", "actions", "game_seed", "playthrough", "would_resign", "positions", "draws")

    def __init__(self, state, actions, game_seed: int, playthrough: bool, would_resign=(False, False), draws=0):
        self.state = state
        self.actions = list(actions)
        self.game_seed = int(game_seed)
        self.playthrough = bool(playthrough)
        self.would_resign = [bool(would_resign[0]), bool(would_resign[1])]
        self.positions: list[tuple[int, np.ndarray, np.ndarray, int]] = []  # (ply, planes, policy, mover)
        self.draws = int(draws)


def build_net(game, cfg: SelfPlayConfig):
    """A fresh network for ``game`` with the configured architecture."""
    from nets import PolicyValueNet

    return PolicyValueNet.from_config(game.plane_shape, game.num_actions, cfg.net)


def temperature_choice(visits: np.ndarray, temperature: float, u: float) -> int:
    """Sample an action from visit counts ** (1 / T) with the uniform number ``u`` (T = 0: the most visited,
    ties broken by ``u``), with the compiled sampler of the search and self-play
    (``engine.mcts.kernels.temperature_choice``); -1 without visits."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    return int(kernels.temperature_choice(np.ascontiguousarray(visits, np.int32), float(temperature), float(u), -1))


_REASONS = {_moves.ENDED: "end", _moves.RESIGNED: "resign", _moves.MAX_MOVES: "max_moves"}


class _Collected:
    """The examples and game summaries of one ``SelfPlayWorker.play`` call, gathered as games end."""

    def __init__(self, aux: bool, resign_on: bool):
        self.aux, self.resign_on = aux, resign_on
        self.planes: list = []
        self.policy: list = []
        self.value: list = []
        self.result: list = []
        self.aux_targets: list = []
        self.games: list[GameSummary] = []
        self.positions = self.resigned = self.false_resigns = self.playthrough_games = 0

    def add(self, planes, policy, value, result, aux) -> None:
        self.planes.append(planes)
        self.policy.append(policy)
        self.value.append(value)
        self.result.append(result)
        if aux is not None:
            self.aux_targets.append(aux)
        self.positions += len(planes)

    def add_game(self, actions: list, result: int, reason: str, playthrough: bool, would_resign) -> None:
        if reason == "resign":
            self.resigned += 1
        if self.resign_on and playthrough:  # a false resignation: a side that would have resigned did not lose
            self.playthrough_games += 1
            self.false_resigns += sum(would_resign[side] and (result if side == 0 else -result) >= 0
                                      for side in (0, 1))
        self.games.append(GameSummary(actions, result, reason, playthrough and self.resign_on, would_resign))

    def batch(self, game, stats: dict) -> SelfPlayBatch:
        n, games = self.positions, self.games
        stats = {"games": len(games), "positions": n, **stats,
                 "resigned": self.resigned, "playthrough_games": self.playthrough_games,
                 "false_resigns": self.false_resigns, "first_player_wins": sum(g.result > 0 for g in games),
                 "draws": sum(g.result == 0 for g in games), "game_length": sum(len(g.actions) for g in games)}
        planes = np.concatenate(self.planes) if n else np.zeros((0, *game.plane_shape), np.float32)
        policy = np.concatenate(self.policy) if n else np.zeros((0, game.num_actions), np.float32)
        value = np.concatenate(self.value).astype(np.float32) if n else np.zeros(0, np.float32)
        result = np.concatenate(self.result).astype(np.int8) if n else np.zeros(0, np.int8)
        aux = {}
        if self.aux:
            h, w = game.plane_shape[1:]
            parts = self.aux_targets
            aux = {"ownership": np.concatenate([a[0] for a in parts]) if n else np.zeros((0, h, w), np.int8),
                   "score": np.concatenate([a[1] for a in parts]) if n else np.zeros(0, np.float32),
                   "has_target": np.concatenate([a[2] for a in parts]) if n else np.zeros(0, np.bool_)}
        return SelfPlayBatch(planes, policy, value, result, games, stats, **aux)


class SelfPlayWorker:
    """Plays self-play games B at a time with one network.

    Args:
        game: a ``games.Game``.
        config: the run's ``SelfPlayConfig`` (sections ``net``, ``mcts``, ``selfplay`` are used).
        net: the worker's own network (default: a fresh one from ``config.net``); the worker's evaluator moves it
            to ``device`` and eval mode, so never pass the learner's network itself.
        device: where the worker's network runs.
        evaluator: an evaluator to use instead of a network (tests, benchmarks).

    ``play(num_games, seed)`` is a pure function of the weights, the configuration, ``num_games``, ``seed`` and
    the games carried over from the last call (``pending``; the run saves them with ``pending_arrays`` and
    restores them with ``load_pending``): a resumed run replays an iteration exactly.
    """

    def __init__(self, game, config: SelfPlayConfig, net=None, device: str = "cpu", evaluator=None,
                 continuous: bool | None = None):
        self.game = game
        self.config = config
        self.batch_size = int(config.selfplay.parallel_games)
        self.continuous = bool(config.selfplay.continuous if continuous is None else continuous)
        self.pending: list[_Game] = []  # continuous self-play: games under way, continued by the next play
        if evaluator is None:
            from nets import PolicyValueEvaluator

            self.net = net if net is not None else build_net(game, config)
            evaluator = PolicyValueEvaluator(self.net, device=device, max_batch=max(1024, self.batch_size),
                                             precision=config.run.precision)
        else:
            self.net = net
        self.evaluator = evaluator
        self.aux = config.aux_targets
        if self.aux and not game.has_ownership:
            raise ConfigError(f"train.ownership_weight / score_weight: {game.name} has no ownership or score targets "
                              f"(Go has); set them to 0")
        self.search = BatchedMCTS(game, self.batch_size, config.mcts, seed=0)
        self._initial = game.initial_state()
        self._planes = np.zeros(game.plane_shape, np.float32)
        B, A, E = self.batch_size, game.num_actions, self.search.num_edges
        self._slots = _moves.allocate_slots(B, min(game.max_game_length, 256), E, self._initial.shape[0],
                                            self._initial.dtype, A)
        self._summary = (np.zeros((B, A), np.int32), np.zeros((B, A), np.float32), np.zeros((B, A), np.float32),
                         np.zeros(B, np.float32), np.zeros(B, np.int64), np.zeros((B, A), np.float32))
        self._options = (np.zeros(_moves.NUM_SF, np.float64), np.zeros(_moves.NUM_SI, np.int64))
        self._export_entry = None

    def set_weights(self, state_dict) -> None:
        """Load the learner's weights (a ``state_dict`` of tensors or numpy arrays)."""
        import torch

        state_dict = {k: torch.as_tensor(v) for k, v in state_dict.items()}
        if hasattr(self.evaluator, "load_state_dict"):
            self.evaluator.load_state_dict(state_dict)
        else:
            self.net.load_state_dict(state_dict)

    def pending_arrays(self) -> dict[str, np.ndarray]:
        """The games under way as flat arrays (``np.savez``): moves, search policies of the training positions and
        per-game flags; planes, states and movers are recomputed from the moves by ``load_pending``."""
        A = self.game.num_actions
        g = self.pending
        return {
            "moves": np.asarray([a for x in g for a in x.actions], np.int32),
            "move_counts": np.asarray([len(x.actions) for x in g], np.int32),
            "plies": np.asarray([p[0] for x in g for p in x.positions], np.int32),
            "position_counts": np.asarray([len(x.positions) for x in g], np.int32),
            "policy": (np.stack([p[2] for x in g for p in x.positions]).astype(np.float32)
                       if any(x.positions for x in g) else np.zeros((0, A), np.float32)),
            "flags": np.asarray([[x.game_seed, x.draws, x.playthrough, *x.would_resign] for x in g],
                                np.int64).reshape(len(g), 5),
        }

    def load_pending(self, arrays) -> None:
        """Restore games saved by ``pending_arrays`` (replaying their moves); raises ``ValueError`` naming what
        does not fit this game."""
        game, rules, params = self.game, self.game.rules, self.game.params
        try:
            moves, move_counts = np.asarray(arrays["moves"]), np.asarray(arrays["move_counts"])
            plies, position_counts = np.asarray(arrays["plies"]), np.asarray(arrays["position_counts"])
            policy, flags = np.asarray(arrays["policy"], np.float32), np.asarray(arrays["flags"])
        except KeyError as err:
            raise ValueError(f"saved games under way lack {err}") from None
        G = len(move_counts)
        if (flags.shape != (G, 5) or len(position_counts) != G or move_counts.sum() != len(moves)
                or position_counts.sum() != len(plies) or policy.shape != (len(plies), game.num_actions)):
            raise ValueError(f"saved games under way do not fit together or do not fit {game.name} "
                             f"({game.num_actions} actions)")
        pending = []
        m = p = 0
        for k in range(G):
            acts = [int(a) for a in moves[m:m + move_counts[k]]]
            want = {int(x): j for j, x in enumerate(plies[p:p + position_counts[k]])}
            g = _Game(self._initial.copy(), [], int(flags[k, 0]), bool(flags[k, 2]), flags[k, 3:5], int(flags[k, 1]))
            for ply, a in enumerate(acts):
                if ply in want:
                    rules.encode(params, g.state, self._planes)
                    g.positions.append((ply, self._planes.copy(), policy[p + want[ply]].copy(),
                                        int(rules.to_play(params, g.state))))
                if not game.legal_mask(g.state)[a]:
                    raise ValueError(f"saved game {k + 1} under way has an illegal move {a} at ply {ply + 1}")
                rules.apply(params, g.state, a)
                g.actions.append(a)
            if game.is_terminal(g.state) or len(g.positions) != len(want):
                raise ValueError(f"saved game {k + 1} under way is over or lacks positions")
            pending.append(g)
            m += move_counts[k]
            p += position_counts[k]
        self.pending = pending

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
    def _load(self, slot: int, g: _Game) -> None:
        """Put game ``g`` into ``slot`` of the compiled move loop's buffers."""
        s = self._slots
        n = len(g.actions)
        if n + 1 > s.actions.shape[1]:
            self._slots = s = _moves.grow_slots(s, min(max(2 * s.actions.shape[1], n + 1), self.game.max_game_length))
        E = s.pos_action.shape[2]
        s.seed[slot] = np.uint64(g.game_seed % 2**64)
        s.draws[slot] = g.draws
        s.playthrough[slot] = g.playthrough
        s.would_resign[slot] = g.would_resign
        s.moves[slot] = n
        s.actions[slot, :n] = g.actions
        s.npos[slot] = len(g.positions)
        s.status[slot] = _moves.RUNNING
        for k, (ply, _, policy, mover) in enumerate(g.positions):
            acts = np.flatnonzero(policy)
            if len(acts) > E:
                raise ValueError(f"a saved search policy has {len(acts)} actions, more than the {E} legal moves a "
                                 f"{self.game.name} position can have")
            s.pos_ply[slot, k], s.pos_mover[slot, k], s.pos_edges[slot, k] = ply, mover, len(acts)
            s.pos_action[slot, k, :len(acts)] = acts
            s.pos_policy[slot, k, :len(acts)] = policy[acts]

    def _export(self, slot: int, final: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The recorded positions of the game in ``slot``: planes [n, C, H, W] and dense search policies [n, A];
        the position after the last move is written to ``final`` if given."""
        s, game = self._slots, self.game
        n = int(s.npos[slot])
        planes = np.zeros((n, *game.plane_shape), np.float32)
        policy = np.zeros((n, game.num_actions), np.float32)
        state = self._initial.copy() if final is None else final
        state[:] = self._initial
        args = (game.rules, game.params, state, s.actions[slot], int(s.moves[slot]), s.pos_ply[slot],
                s.pos_mover[slot], n, s.pos_edges[slot], s.pos_action[slot], s.pos_policy[slot], planes, policy)
        if self._export_entry is None:  # (looked up once: Numba's dispatch on these types costs ~0.5 ms a game)
            self._export_entry = compiled_entry(_moves.export_positions, *args)
        if not self._export_entry(*args):
            raise RuntimeError(f"self-play slot {slot}: the recorded positions do not match the game's moves")
        return planes, policy

    def _unload(self, slot: int) -> _Game:
        """The game in ``slot`` as a ``_Game`` (carried over to the next call)."""
        s = self._slots
        n = int(s.moves[slot])
        g = _Game(self.search.root_state(slot), s.actions[slot, :n].tolist(), int(s.seed[slot]),
                  bool(s.playthrough[slot]), s.would_resign[slot].tolist(), int(s.draws[slot]))
        planes, policy = self._export(slot)
        g.positions = [(int(s.pos_ply[slot, k]), planes[k], policy[k], int(s.pos_mover[slot, k]))
                       for k in range(len(planes))]
        return g

    def play(self, num_games: int, seed: int, progress: Callable[[int, int], None] | None = None) -> SelfPlayBatch:
        """Play until ``num_games`` games are finished (B at a time) and return their examples;
        ``progress(games_done, positions)`` is called after each finished game.

        Continuous (``selfplay.continuous``): the games left under way carry over to the next call (``pending``),
        which continues them first, on fresh trees (the weights may have changed); a freed slot always starts a
        new game. Otherwise exactly ``num_games`` games are started and played to the end."""
        sp = self.config.selfplay
        B = self.batch_size
        rng = np.random.default_rng([int(seed) % 2**63, 0x5E1F])
        search = self.search
        timed = TimedEvaluator(self.evaluator)
        resign_on = sp.resign_threshold > -1.0
        continuous = self.continuous
        t_start = time.perf_counter()
        sf, si = self._set_options(resign_on)
        live = np.zeros(B, np.bool_)
        queue = list(self.pending) if continuous else []  # carried-over games, continued first
        self.pending = []
        started = 0
        out = _Collected(self.aux, resign_on)

        def more() -> bool:
            if queue:
                return True
            return len(out.games) < num_games if continuous else started < num_games

        def start(slot: int) -> None:
            nonlocal started
            if queue:
                g = queue.pop(0)
                tree_seed = int(np.random.default_rng([g.game_seed, len(g.actions), 0x7EE]).integers(0, 2**62))
            else:
                g = self._new_game(rng, resign_on)
                tree_seed = g.game_seed
                started += 1
            self._load(slot, g)
            search.reset(slot, g.state, seed=tree_seed)
            live[slot] = True

        def finish(slot: int, result: int, reason: str) -> None:
            self._collect(out, slot, result, reason)
            live[slot] = False
            if progress is not None:
                progress(len(out.games), out.positions)

        for slot in range(B):
            if not more():
                break
            start(slot)
        # Between two network calls, one compiled call (_moves.play_step) applies the evaluations, plays the moves
        # of the games whose search ended and begins their next searches, and one gathers the next leaves: every
        # game searches at its own pace and each network call holds a leaf of every live game. Python steps in
        # only when a game ends (to start the next one) or a slot must grow.
        n = 0
        if live.any():
            search.start_searches(live.copy(), timed)
            play_step = search.driver(_moves.play_step, self._slots, sf, si, *self._summary)
        while live.any():
            code = play_step(n, self._slots, sf, si, *self._summary)
            if code == _moves.NEEDS_DRIVER:
                again = self._tend_slots(finish, start, more)
                if continuous and len(out.games) >= num_games:
                    break
                if again.any():
                    search.start_searches(again, timed)
            n = search.gather()
            if n > 0:
                search.evaluate(n)
            elif live.any() and not search.searching.any():
                raise RuntimeError("self-play: games under way but no search (a bug in the move loop)")
        if continuous:
            # the games under way carry over; their searches in flight are dropped (the next call starts afresh)
            search.abandon_searches()
            self.pending = [self._unload(b) for b in range(B) if live[b]] + queue
        moves, searches = (int(x) for x in self._slots.counters)
        stats = {"moves": moves, "searches": searches, "seconds": time.perf_counter() - t_start,
                 "pending_games": len(self.pending), "network_seconds": timed.seconds,
                 "network_calls": timed.calls, "evaluations": timed.positions}
        return out.batch(self.game, stats)

    def _set_options(self, resign_on: bool) -> tuple[np.ndarray, np.ndarray]:
        """The compiled move loop's options of this call (``selfplay.*``), its counters zeroed."""
        sp = self.config.selfplay
        sf, si = self._options
        sf[_moves.SF_TEMPERATURE] = sp.temperature
        sf[_moves.SF_FINAL_TEMPERATURE] = sp.final_temperature
        sf[_moves.SF_RESIGN_THRESHOLD] = sp.resign_threshold
        si[_moves.SI_TEMPERATURE_MOVES] = sp.temperature_moves
        si[_moves.SI_RESIGN_ON] = int(resign_on)
        si[_moves.SI_RESIGN_MIN_MOVES] = sp.resign_min_moves
        self._slots.counters[:] = 0
        return sf, si

    def _new_game(self, rng: np.random.Generator, resign_on: bool) -> _Game:
        """A new game: its random opening, its seed and whether it plays on past a resignation."""
        sp = self.config.selfplay
        state, actions = self._opening(rng, sp.random_opening_plies)
        game_seed = int(rng.integers(0, 2**62))
        playthrough = (not resign_on) or float(rng.random()) < sp.resign_playthrough
        return _Game(state, actions, game_seed, playthrough)

    def _tend_slots(self, finish, start, more) -> np.ndarray:
        """The slots the compiled loop handed back: grow a slot that is full, finish an ended game and start the
        next one in its slot. Returns the slots whose search must begin."""
        again = np.zeros(self.batch_size, np.bool_)
        for slot in np.flatnonzero(self._slots.status != _moves.RUNNING).tolist():
            s = self._slots  # (start may grow the buffers)
            status = int(s.status[slot])
            s.status[slot] = _moves.RUNNING
            if status == _moves.NEEDS_BEGIN:
                if s.moves[slot] >= s.actions.shape[1]:
                    self._slots = _moves.grow_slots(s, min(2 * s.actions.shape[1], self.game.max_game_length))
                again[slot] = True
                continue
            finish(slot, int(s.result[slot]), _REASONS[status])
            if more():
                start(slot)
                again[slot] = True
        return again

    def _collect(self, out: _Collected, slot: int, result: int, reason: str) -> None:
        """The examples and summary of the game that ended in ``slot`` (``result`` for the first player)."""
        sp = self.config.selfplay
        s = self._slots
        final = self._initial.copy()
        planes, policy = self._export(slot, final)
        n, k = int(s.moves[slot]), len(planes)
        z = np.where(s.pos_mover[slot, :k] == 0, result, -result)
        aux = self._aux_targets(final, s.pos_mover[slot, :k], reason == "end") if self.aux else None
        out.add(planes, policy, z * sp.value_discount ** (n - s.pos_ply[slot, :k] - 1.0), z, aux)
        would_resign = (bool(s.would_resign[slot, 0]), bool(s.would_resign[slot, 1]))
        out.add_game(s.actions[slot, :n].tolist(), int(result), reason, bool(s.playthrough[slot]), would_resign)

    def _aux_targets(self, final: np.ndarray, movers: np.ndarray, by_rules: bool):
        """KataGo's targets of a game's positions from its final position: ownership ``int8[k, H, W]`` and score
        margin ``float32[k]`` from each mover's view, and whether they exist (not for a resigned game)."""
        k = len(movers)
        sign = np.where(movers == 0, 1, -1).astype(np.int8)
        if not by_rules:
            return (np.zeros((k, *self.game.plane_shape[1:]), np.int8), np.zeros(k, np.float32),
                    np.zeros(k, np.bool_))
        own = self.game.ownership(final).astype(np.int8)
        margin = float(self.game.score_margin(final))
        return own[None] * sign[:, None, None], (margin * sign).astype(np.float32), np.ones(k, np.bool_)
