"""Teachers: players that label positions with a policy target, the moves counted as right, and a value.

``make_teacher(spec, game)`` builds one from an ``agents.make`` spec and picks the richest labels the player
can give:

* ``c4solver`` (Connect Four): the exact score of every move; the target is uniform over the optimal moves
  (fastest win, slowest loss) and the value the exact result, discounted by ``value_discount`` per ply to the
  end of perfect play (as self-play's ``selfplay.value_discount``: a faster win is worth more);
* ``minimax`` (tic-tac-toe, tiny boards): the exact value of every move, the same targets;
* ``uci:COMMAND[;MultiPV=K;...]`` (Stockfish): with MultiPV the K best moves and their scores; the target is a
  softmax of the scores (``cp_temperature`` centipawns), the value the engine's WDL expectation when
  ``UCI_ShowWDL`` is available, else a logistic of the centipawns;
* anything else (``gtp:`` GNU Go, ``alphazero:CKPT``, ``mcts:N``, ``random``): the move it plays (or its visit
  counts when it reports them) and its value when it gives one; otherwise the value is the game's result.

A ``Label`` holds the policy as (action, probability) pairs, ``best`` (the moves that count as agreeing with the
teacher) and ``value`` in [-1, 1] from the mover's view (None: take the game's result). ``exact`` teachers also
give the result class (win/draw/loss) of the position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import agents
from agents import AgentError

UCI_CP_TEMPERATURE = 100.0
"""Centipawns per unit of softmax temperature for a MultiPV policy (lc0-style soft targets)."""


@dataclass
class Label:
    """A teacher's targets for one position (see the module docstring)."""

    actions: list[int]
    probs: list[float]
    best: list[int]
    value: float | None = None
    result: int | None = None  # exact win/draw/loss (+1/0/-1) from the mover's view, when the teacher knows it
    info: dict = field(default_factory=dict)


class Teacher:
    """Base: wraps an ``agents.Agent``; ``label(state)`` asks it for a move (and whatever else it reports)."""

    exact = False

    def __init__(self, game, agent, spec: str):
        self.game, self.agent, self.spec = game, agent, spec
        self.name = spec

    def reset(self) -> None:
        self.agent.reset()

    def observe(self, state, action: int) -> None:
        self.agent.observe(state, action)

    def label(self, state) -> Label:
        d = self.agent.choose(state)
        visits = [(m.action, m.visits) for m in d.top if m.visits > 0]
        if len(visits) > 1:
            total = float(sum(v for _, v in visits))
            actions, probs = [a for a, _ in visits], [v / total for _, v in visits]
        else:
            actions, probs = [int(d.action)], [1.0]
        return Label(actions, probs, [int(d.action)], None if d.value is None else float(d.value),
                     info={"resign": bool(d.resign)})

    def close(self) -> None:
        self.agent.close()


class Connect4SolverTeacher(Teacher):
    """Exact labels from ``agents.connect4_solver`` (see the module docstring)."""

    exact = True

    def __init__(self, game, agent, spec: str, value_discount: float = 0.98):
        super().__init__(game, agent, spec)
        self.solver = agent.solver
        self.value_discount = float(value_discount)
        self.cells = int(game.width) * int(game.height)

    def label(self, state) -> Label:
        score, optimal = self.solver.solve_with_optimal(state)
        best = [int(a) for a in np.flatnonzero(optimal)]
        p = 1.0 / len(best)
        return Label(best, [p] * len(best), best, self.value_of(state, score), int(np.sign(score)),
                     info={"score": int(score)})

    def value_of(self, state, score: int) -> float:
        """sign(score) * discount ** (plies to the end of perfect play)."""
        if score == 0:
            return 0.0
        moves = int(state[-2])  # games.connect_four: [cells, heights, moves played, outcome]
        mover_stones = moves // 2
        other_stones = moves - mover_stones
        stones_at_win = (self.cells + 1) // 2 + 1 - abs(score)
        if score > 0:
            plies = 2 * (stones_at_win - mover_stones) - 1
        else:
            plies = 2 * (stones_at_win - other_stones)
        return float(np.sign(score)) * self.value_discount ** max(plies - 1, 0)


class MinimaxTeacher(Teacher):
    """Exact labels from ``agents.minimax.Solver`` (tic-tac-toe and tiny boards)."""

    exact = True

    def label(self, state) -> Label:
        values = self.agent.solver.action_values(state)
        legal = self.game.legal_mask(state)
        v = np.where(legal, values, -np.inf)
        best = [int(a) for a in np.flatnonzero(v == v.max())]
        p = 1.0 / len(best)
        top = float(v.max())
        return Label(best, [p] * len(best), best, top, int(np.sign(top)))


class UCITeacher(Teacher):
    """A UCI engine's MultiPV analysis as soft targets (see the module docstring)."""

    def __init__(self, game, agent, spec: str, cp_temperature: float = UCI_CP_TEMPERATURE):
        super().__init__(game, agent, spec)
        self.cp_temperature = float(cp_temperature)
        self.wdl = "uci_showwdl" in agent.declared
        if self.wdl:
            agent.set_option("UCI_ShowWDL", True)
        self.multipv = 1
        for key, value in agent.requested_options.items():
            if key.lower() == "multipv":
                self.multipv = int(value)

    def label(self, state) -> Label:
        from games.chess.score import cp_to_value

        lines = self.agent.analyse(state)
        pvs: dict[int, dict] = {}
        for line in lines:
            info = _parse_info(line)
            if info.get("move") is not None:
                pvs[info.get("multipv", 1)] = info  # the last line of each rank is the deepest
        if not pvs:
            raise AgentError(f"UCI engine {self.agent.name} sent no analysis (info ... pv) for "
                             f"{self.game.to_fen(state)}")
        actions, scores, best_info = [], [], pvs[min(pvs)]
        for rank in sorted(pvs):
            info = pvs[rank]
            try:
                a = self.game.parse_uci(state, info["move"])
            except Exception:  # an illegal move in the analysis: a broken engine
                raise AgentError(f"UCI engine {self.agent.name} analysed an illegal move {info['move']!r} in "
                                 f"{self.game.to_fen(state)}") from None
            if a not in actions:
                actions.append(a)
                scores.append(_cp(info))
        s = np.array(scores, dtype=np.float64) / self.cp_temperature
        w = np.exp(s - s.max())
        probs = (w / w.sum()).tolist()
        if "wdl" in best_info:
            win, draw, loss = best_info["wdl"]
            value = (win - loss) / max(win + draw + loss, 1)
        elif "mate" in best_info:
            value = 1.0 if best_info["mate"] > 0 else -1.0
        else:
            value = cp_to_value(best_info.get("cp", 0))
        return Label(actions, probs, [actions[0]], float(value), info={"cp": _cp(best_info)})


def _cp(info: dict) -> float:
    if "mate" in info:
        m = info["mate"]
        return (10000.0 - 10 * abs(m)) * (1 if m > 0 else -1)
    return float(info.get("cp", 0))


def _parse_info(line: str) -> dict:
    """multipv, score (cp or mate), wdl and the first move of the pv of one ``info`` line."""
    tokens = line.split()
    out: dict = {}
    if not tokens or tokens[0] != "info" or "pv" not in tokens:
        return out
    i = 1
    while i < len(tokens):
        key = tokens[i]
        try:
            if key == "multipv":
                out["multipv"] = int(tokens[i + 1])
                i += 2
            elif key == "score":
                kind, value = tokens[i + 1], int(tokens[i + 2])
                if kind in ("cp", "mate"):
                    out[kind] = value
                i += 3
                while i < len(tokens) and tokens[i] in ("lowerbound", "upperbound"):
                    out["bound"] = True
                    i += 1
            elif key == "wdl":
                out["wdl"] = (int(tokens[i + 1]), int(tokens[i + 2]), int(tokens[i + 3]))
                i += 4
            elif key == "pv":
                out["move"] = tokens[i + 1] if i + 1 < len(tokens) else None
                break
            else:
                i += 1
        except (IndexError, ValueError):
            return {}
    return out


def make_teacher(spec: str, game, seed: int = 0, value_discount: float = 0.98) -> Teacher:
    """The teacher of an ``agents.make`` spec (see the module docstring); ``ValueError`` for a bad spec."""
    kind = str(spec).partition(":")[0].strip().lower()
    if kind == "uci":
        from .uci import AnalysingUCIPlayer

        agent = AnalysingUCIPlayer.from_spec(game, str(spec).partition(":")[2])
        return UCITeacher(game, agent, spec)
    agent = agents.make(spec, game, seed=seed)
    if kind == "c4solver":
        return Connect4SolverTeacher(game, agent, spec, value_discount)
    if kind == "minimax":
        return MinimaxTeacher(game, agent, spec)
    return Teacher(game, agent, spec)


def value_to_result(value: float) -> int:
    """The win/draw/loss class nearest a value (thirds of [-1, 1])."""
    return 1 if value > 1 / 3 else (-1 if value < -1 / 3 else 0)


__all__ = ["Label", "Teacher", "Connect4SolverTeacher", "MinimaxTeacher", "UCITeacher", "make_teacher",
           "value_to_result"]
