"""Time controls of the GTP and UCI engines under a fake clock: a move never takes more than it is given, on
every path (a search that ignores its budget, a command that waited in the queue, terminal and forced positions,
a clock given for the other side only). The real sessions are in test_gtp.py / test_uci.py."""

from __future__ import annotations

import io

import pytest

import games
from agents.base import Agent, Decision, MoveStat
from engine.gtp import GtpEngine
from engine.timing import MoveTimer
from engine.uci import UciEngine


class FakeClock:
    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Ticking(Agent):
    """A search that costs ``step`` fake seconds a chunk and reports after each; with ``obey=False`` it ignores
    its ``seconds`` budget, so that only the engine's progress callback can stop it."""

    def __init__(self, game, clock: FakeClock, step: float = 0.05, obey: bool = False):
        super().__init__(game)
        self.clock, self.step, self.obey = clock, step, obey
        self.calls: list[dict] = []

    def choose(self, state, progress=None, *, simulations=None, seconds=None):
        self.calls.append({"simulations": simulations, "seconds": seconds, "start": self.clock.t})
        legal = [a for a in self.game.legal_actions(state)]
        action = legal[0]
        top = [MoveStat(legal[0], 10, 0.5, 0.1, [legal[0]]), MoveStat(legal[-1], 9, 0.5, 0.0, [legal[-1]])]
        for chunk in range(100_000):
            self.clock.t += self.step
            report = {"simulations": 10 * (chunk + 1), "top": top, "pvs": [[action]], "value": 0.1,
                      "tree_nodes": chunk, "max_depth": 1}
            if progress is not None and progress(report):
                break
            if self.obey and seconds is not None and self.clock.t - self.calls[-1]["start"] >= seconds:
                break
            if simulations is not None and 10 * (chunk + 1) >= simulations:
                break
        return Decision(action, value=0.1, top=top, info={"simulations": 10 * (chunk + 1), "pv": [action]})


def test_move_timer_deadline_and_margin():
    clock = FakeClock(10.0)
    timer = MoveTimer.starting(2.0, start=9.0, fixed=0.2, now=clock)  # the command arrived a second ago
    assert timer.deadline == pytest.approx(9.0 + 2.0 - 0.2 - 0.1)
    assert timer.left() == pytest.approx(0.7) and not timer.expired()
    clock.t = 10.7
    assert timer.expired() and timer.left() == 0.0
    assert MoveTimer.starting(None, now=clock).left() is None and not MoveTimer.starting(None, now=clock).expired()


# ------------------------------------------------------------------------------------------- GTP
def _gtp(clock, **kw):
    made = {}
    obey = kw.pop("obey", False)

    def make(game, first):
        made["agent"] = Ticking(game, clock, step=0.01, obey=obey)
        return made["agent"], "ticking"

    engine = GtpEngine(make, out=io.StringIO(), log=io.StringIO(), now=clock, resign_threshold=-1.0, **kw)
    return engine, made


@pytest.mark.parametrize("settings", ["0 5 1", "0 1 1", "30 0 0", "0 10 5", "2 5 1"])
def test_gtp_genmove_never_exceeds_its_time(settings):
    """time_settings 0 5 1 took 5.45 s: the move's time counts from the command's arrival and a search that
    does not stop by itself is stopped by the deadline, with the lag kept back: never more than the time left
    in the period (in main time: the main time left and one period)."""
    clock = FakeClock()
    engine, made = _gtp(clock, lag=0.2)
    assert engine.execute(f"time_settings {settings}") == "=\n\n"
    c = engine.session.clock
    for colour in "bwbwbwbwbw":
        seconds, stones = c.left[0 if colour == "b" else 1]
        bound = seconds if stones > 0 else seconds + (c.byo_time if c.byo_stones else 0.0)
        received = clock.t
        clock.t += 0.3  # the command waited in the queue: that time is the move's too
        assert engine.execute(f"genmove {colour}", received=received).startswith("= ")
        used = clock.t - received
        assert used <= bound - 0.2 + 1e-9, (settings, colour, used, bound)
        if settings == "0 5 1":
            assert used <= 4.8
        clock.t += 1.0  # the opponent thinks


def test_gtp_time_flag_and_simulations_budgets():
    clock = FakeClock()
    engine, made = _gtp(clock, seconds=2.0, lag=0.2)
    received = clock.t
    engine.execute("genmove b", received=received)
    call = made["agent"].calls[-1]
    assert 0 < call["seconds"] <= 2.0 - 0.2 and clock.t - received <= 2.0 - 0.2 + 1e-9
    engine2, made2 = _gtp(FakeClock(), simulations=123)
    engine2.execute("genmove b")
    assert made2["agent"].calls[-1]["simulations"] == 123 and made2["agent"].calls[-1]["seconds"] is None


def test_gtp_forced_pass_takes_no_search():
    clock = FakeClock()
    engine, made = _gtp(clock, size=5)
    rows = ["XXXXX", "X.X.X", "XXXXX", "X.X.X", "XXXXX"]
    engine.session.start = engine.game.state_from_board(rows, to_play="W")
    engine.session.states = [engine.session.start]
    calls = len(made["agent"].calls)
    assert engine.execute("genmove w") == "= pass\n\n"  # White's only legal move
    assert len(made["agent"].calls) == calls


def test_gtp_players_are_warmed_up_before_the_clock_starts():
    """The first move after install got 4 simulations in 2.4 s (compilation inside the move): a player is
    searched once when it is built, at start-up and for a new board size, outside any move's time."""
    clock = FakeClock()
    engine, made = _gtp(clock)
    assert len(made["agent"].calls) == 1 and made["agent"].calls[0]["simulations"] <= 16
    engine.execute("boardsize 13")
    assert len(made["agent"].calls) == 1  # the 13x13 player is a new one, warmed up too
    assert made["agent"].game.size == 13


# ------------------------------------------------------------------------------------------- UCI
def _uci(clock, agent_cls=Ticking, **kw):
    game = games.make("chess")
    holder = {}

    def build(values):
        holder["agent"] = agent_cls(game, clock, **kw)
        return holder["agent"]

    out = io.StringIO()
    engine = UciEngine(game, build, False, 30, out=out, err=io.StringIO(), now=clock, warm_up=False)
    engine.wait_ready()
    return engine, holder, out


def _go(engine, clock, command: str) -> tuple[float, list[str]]:
    before = len(engine.out.getvalue().splitlines())
    received = clock.t
    engine.handle(command, received=received)
    engine._search_thread.join(60)
    lines = engine.out.getvalue().splitlines()[before:]
    assert sum(x.startswith("bestmove") for x in lines) == 1
    return clock.t - received, lines


@pytest.mark.parametrize("go, limit", [("go movetime 200", 0.2), ("go movetime 500", 0.5),
                                       ("go wtime 1000 btime 1000", 1.0), ("go wtime 1000", 1.0),
                                       ("go btime 1000", 1.0), ("go wtime 60000 winc 1000 movestogo 1", 60.0)])
def test_uci_go_never_exceeds_its_time(go, limit):
    """movetime 200 answered after 1,041 ms; wtime 1000 with Black to move and no btime searched 10.2 s."""
    clock = FakeClock()
    engine, holder, _ = _uci(clock)
    for position in ("position startpos", "position startpos moves e2e4",
                     "position fen 6k1/5ppp/8/8/8/8/5PPP/R5K1 w - - 0 1"):  # mate in one
        engine.handle(position)
        used, lines = _go(engine, clock, go)
        assert used <= limit, (go, position, used)


def test_uci_clock_of_the_other_side_only_is_reported_and_used():
    clock = FakeClock()
    engine, holder, _ = _uci(clock)
    engine.handle("position startpos moves e2e4")
    used, lines = _go(engine, clock, "go wtime 1000")
    assert "info string no clock for the side to move: using the other side's" in lines
    assert used <= 1000 / 25


def test_uci_terminal_and_forced_positions_answer_without_searching():
    clock = FakeClock()
    engine, holder, _ = _uci(clock)
    engine.handle("position startpos moves f2f3 e7e5 g2g4 d8h4")  # White is mated
    used, lines = _go(engine, clock, "go movetime 1000")
    assert lines[-1] == "bestmove (none)" and used == 0 and not holder["agent"].calls
    engine.handle("position fen 7k/8/8/8/8/8/6q1/K7 w - - 0 1")  # Kb1 is White's only move
    board_moves = engine.game.legal_actions(engine.states[-1])
    assert len(board_moves) == 1
    used, lines = _go(engine, clock, "go wtime 5000 btime 5000")
    assert lines[-1].startswith("bestmove ") and used == 0 and not holder["agent"].calls


def test_search_chunks_never_overrun_when_simulations_get_expensive(monkeypatch):
    """In a mate-in-1 position most simulations are free until exploration gets expensive again: chunks sized
    on the last (cheap) chunk overran a 500 ms budget by up to 400 ms. Sized on the slowest cost seen, the
    search ends within one report interval of its deadline."""
    import numpy as np

    import agents.mcts as mcts_mod

    clock = FakeClock(0.0)
    monkeypatch.setattr(mcts_mod.time, "perf_counter", clock)

    class Result:
        def __init__(self, n):
            self.simulations = np.array([n])

    class CostlySearch:
        """50 us a simulation, then 0.3 us for the next 200,000 (the mate found), then 50 us again."""

        def __init__(self):
            self.done = 0
            self.config = mcts_mod.MCTSConfig()  # one leaf per call

        def run(self, evaluator, n):
            for _ in range(n):
                clock.t += 0.3e-6 if 500 <= self.done < 200_500 else 50e-6
                self.done += 1
            return Result(n)

        def tree_size(self, tree):
            return 0

    agent = object.__new__(mcts_mod.MCTSAgent)
    agent.search, agent.evaluator, agent.max_tree_nodes, agent.report_every = CostlySearch(), None, None, 0.02
    agent._run_chunks(None, 0.5, None, clock())
    assert clock.t <= 0.5 + 0.02 + 1e-6, clock.t
