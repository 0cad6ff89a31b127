"""Matches between players: the one place games between agents are played, for every program and learner.

``play_game`` plays one game through the agent interface (``agents.base.Agent``); ``play_games`` plays many
games between two agents side by side: each search step of a batched agent (``Agent.batched``: MCTS and
AlphaZero players, and the players that keep no state) covers every game where it is to move, so an AlphaZero
player makes one network call per step for all of them, each game keeping its own subtree. ``run_match`` has
every pair of players play ``games_per_pair`` games with colours alternating (side by side when both players of
the pair are batched, one after another otherwise: external GTP/UCI programs hold one game), from set starts or
random openings, each start played with both colours; ``MatchResult`` rates the players (Bradley-Terry Elo,
``engine.elo``). ``python -m engine.arena`` is the command line; the self-play run's evaluation and
``engine.supervised --arena`` play their matches here too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from agents.base import Agent, Decision

from .core import atomic_write_text
from .elo import fit_elo


@dataclass
class GameRecord:
    """One finished game: the moves, the result from the first player's view and why it ended."""

    actions: list[int]
    result: int
    reason: str = "end"  # "end", "resign", "max_moves"
    decisions: list[Decision] = field(default_factory=list)
    start: np.ndarray | None = None


def play_game(game, players: Sequence[Agent], start: np.ndarray | None = None, max_moves: int | None = None,
              on_move: Callable[[np.ndarray, int, Decision], None] | None = None) -> GameRecord:
    """Play one game between ``players[0]`` (first player) and ``players[1]``; every agent observes every move."""
    state = game.initial_state() if start is None else start.copy()
    for p in players:
        p.reset()
    actions: list[int] = []
    decisions: list[Decision] = []
    limit = game.max_game_length if max_moves is None else max_moves
    adjudicate = getattr(game, "adjudicate", None)  # Go scores a game stopped early; other games call it a draw
    while not game.is_terminal(state):
        if len(actions) >= limit:
            return GameRecord(actions, adjudicate(state) if adjudicate else 0, "max_moves", decisions, start)
        mover = game.to_play(state)
        decision = players[mover].choose(state)
        if decision.resign:
            return GameRecord(actions, -1 if mover == 0 else 1, "resign", decisions, start)
        if not game.legal_mask(state)[decision.action]:
            raise RuntimeError(
                f"{players[mover].name} chose an illegal move {decision.action} in\n{game.render(state)}")
        for p in players:
            p.observe(state, decision.action)
        if on_move is not None:
            on_move(state, decision.action, decision)
        actions.append(decision.action)
        decisions.append(decision)
        state = game.apply(state, decision.action)
    return GameRecord(actions, game.result(state), "end", decisions, start)


@dataclass
class MatchResult:
    """Results of a set of games between named players."""

    records: list[tuple[str, str, float]] = field(default_factory=list)  # (first, second, score of first)
    details: list[dict] = field(default_factory=list)  # per game: how it ended, result text, programs' scores

    def add(self, first: str, second: str, result: int) -> None:
        self.records.append((first, second, (result + 1) / 2.0))

    def score(self, name: str) -> float:
        """Mean score of ``name`` over the games it played (NaN if none)."""
        total = n = 0.0
        for first, second, s in self.records:
            if first == name:
                total, n = total + s, n + 1
            elif second == name:
                total, n = total + 1.0 - s, n + 1
        return total / n if n else float("nan")

    def table(self, anchor: str | None = None) -> list[dict]:
        ratings = fit_elo(self.records, anchor=anchor)
        rows = []
        for name, r in sorted(ratings.items(), key=lambda kv: -kv[1].elo):
            wins = sum(1 for a, b, s in self.records if (a == name and s == 1) or (b == name and s == 0))
            losses = sum(1 for a, b, s in self.records if (a == name and s == 0) or (b == name and s == 1))
            draws = r.games - wins - losses
            rows.append({"player": name, "games": r.games, "wins": wins, "draws": draws, "losses": losses,
                         "score": round(r.score / max(r.games, 1), 4), "elo": round(r.elo, 1),
                         "elo_ci95": round(r.ci95, 1) if np.isfinite(r.ci95) else None})
        return rows


def final_state(game, rec: GameRecord) -> np.ndarray:
    state = game.initial_state() if rec.start is None else rec.start.copy()
    for a in rec.actions:
        state = game.apply(state, a)
    return state


def program_scores(game, rec: GameRecord, players: dict[str, Agent]) -> dict[str, str]:
    """The score each player that can score (``final_score``: GTP programs) gives the final position."""
    state = final_state(game, rec)
    return {name: agent.final_score(state) for name, agent in players.items() if hasattr(agent, "final_score")}


def _winner(score_text: str) -> int | None:
    """+1 / -1 / 0 for Black from a GTP score (``B+3.5``, ``W+R``, ``0``); None if it cannot be read."""
    t = score_text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0
    if t[:2] in ("B+", "W+"):
        return 1 if t[0] == "B" else -1
    return None


def play_games(game, a: Agent, b: Agent, starts: Sequence[np.ndarray | None], a_first: Sequence[bool],
               max_moves: int | None = None, on_done: Callable[[int, GameRecord], None] | None = None,
               ) -> list[GameRecord]:
    """Games ``i = 0 .. len(starts) - 1`` between ``a`` and ``b`` side by side (``a`` moves first in game ``i``
    when ``a_first[i]``; ``starts[i]``: its position, None for the initial one). Each agent is asked once per
    turn for a move in every game where it is to move (``choose_batch``) and observes every move of every game.
    ``on_done(i, record)`` is called as each game ends. Returns the records in game order."""
    n = len(starts)
    states = [game.initial_state() if s is None else np.array(s, copy=True) for s in starts]
    for p in {id(a): a, id(b): b}.values():
        p.reset(games=n)
    records: list[GameRecord | None] = [None] * n
    actions: list[list[int]] = [[] for _ in range(n)]
    decisions: list[list[Decision]] = [[] for _ in range(n)]
    limit = game.max_game_length if max_moves is None else max_moves
    adjudicate = getattr(game, "adjudicate", None)  # Go scores a game stopped early; other games call it a draw

    def finish(i: int, result: int, reason: str) -> None:
        records[i] = GameRecord(actions[i], result, reason, decisions[i], starts[i])
        if on_done is not None:
            on_done(i, records[i])

    for i, s in enumerate(states):
        if game.is_terminal(s):
            finish(i, game.result(s), "end")
    while True:
        live = [i for i in range(n) if records[i] is None]
        if not live:
            break
        moves: dict[int, Decision] = {}
        for player, first in ((a, True), (b, False)):
            mine = [i for i in live if (game.to_play(states[i]) == 0) == (a_first[i] == first)]
            if mine:
                moves.update(zip(mine, player.choose_batch([states[i] for i in mine], games=mine), strict=True))
        for i in live:
            decision, state = moves[i], states[i]
            mover = game.to_play(state)
            if decision.resign:
                finish(i, -1 if mover == 0 else 1, "resign")
                continue
            if not game.legal_mask(state)[decision.action]:
                name = (a if (mover == 0) == a_first[i] else b).name
                raise RuntimeError(f"{name} chose an illegal move {decision.action} in\n{game.render(state)}")
            for p in {id(a): a, id(b): b}.values():
                p.observe(state, decision.action, game=i)
            actions[i].append(decision.action)
            decisions[i].append(decision)
            states[i] = game.apply(state, decision.action)
            if game.is_terminal(states[i]):
                finish(i, game.result(states[i]), "end")
            elif len(actions[i]) >= limit:
                finish(i, adjudicate(states[i]) if adjudicate else 0, "max_moves")
    return records


def random_openings(game, count: int, plies: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` positions after ``plies`` uniformly random moves (never a finished game)."""
    out = []
    while len(out) < count:
        s = game.initial_state()
        for _ in range(plies):
            legal = np.flatnonzero(game.legal_mask(s))
            if legal.size == 0:
                break
            s = game.apply(s, int(rng.choice(legal)))
        if not game.is_terminal(s):
            out.append(s)
    return out


def run_match(game, players: dict[str, Agent], games_per_pair: int, save_dir: Path | None = None,
              progress: bool | Callable[[int], None] = True, max_moves: int | None = None,
              starts: Sequence[np.ndarray] | None = None, final_score: bool = False) -> MatchResult:
    """Every pair of players plays ``games_per_pair`` games, colours alternating; game ``g`` of a pair starts
    from ``starts[(g // 2) % len(starts)]`` when given (so each start is played with both colours). A pair of
    batched agents plays its games side by side (``play_games``), others one game after another. ``progress``:
    a progress bar (True), none (False) or a function called with the number of games finished. With
    ``final_score`` (Go) the players that can score a position (GTP programs) score each finished game too; the
    result stays the game's own (Tromp-Taylor), and ``details`` notes where a program's winner differs from it."""
    from rich.progress import Progress

    names = list(players)
    pairs = list(itertools.combinations(names, 2))
    result = MatchResult()
    finished = 0
    with Progress(transient=True, disable=progress is not True) as bar:
        task = bar.add_task("arena", total=len(pairs) * games_per_pair)

        def done(first: str, second: str) -> None:
            nonlocal finished
            finished += 1
            bar.update(task, advance=1, description=f"{first} vs {second}")
            if callable(progress):
                progress(finished)

        for a, b in pairs:
            firsts = [(a, b) if g % 2 == 0 else (b, a) for g in range(games_per_pair)]
            game_starts = [starts[(g // 2) % len(starts)] if starts else None for g in range(games_per_pair)]
            if players[a].batched and players[b].batched:
                records = play_games(game, players[a], players[b], game_starts, [f == a for f, _ in firsts],
                                     max_moves, on_done=lambda g, rec, firsts=firsts: done(*firsts[g]))
                for (first, second), rec in zip(firsts, records, strict=True):  # in game order
                    _record(game, result, players, first, second, rec, save_dir, final_score)
            else:
                for g, (first, second) in enumerate(firsts):
                    rec = play_game(game, [players[first], players[second]], start=game_starts[g],
                                    max_moves=max_moves)
                    _record(game, result, players, first, second, rec, save_dir, final_score)
                    done(first, second)
    return result


def _record(game, result: MatchResult, players: dict[str, Agent], first: str, second: str, rec: GameRecord,
            save_dir: Path | None, final_score: bool) -> None:
    """Add a finished game to ``result`` (and its record to ``save_dir``)."""
    result.add(first, second, rec.result)
    detail = {"first": first, "second": second, "result": rec.result, "ended by": rec.reason,
              "moves": len(rec.actions)}
    if hasattr(game, "result_string"):
        state = final_state(game, rec)
        detail["score"] = game.result_string(state) if rec.reason != "resign" else \
            ("B+R" if rec.result > 0 else "W+R")
    if final_score and rec.reason != "resign":
        scores = program_scores(game, rec, {first: players[first], second: players[second]})
        detail["program scores"] = scores
        detail["disagree"] = sorted(n for n, t in scores.items() if _winner(t) != rec.result)
    result.details.append(detail)
    if save_dir is not None:
        tags = {"first": first, "second": second, "result": rec.result, "ended by": rec.reason}
        for name, text in detail.get("program scores", {}).items():
            tags[f"final_score by {name}"] = text
        path = save_dir / f"{len(result.records):04d}-{_slug(first)}-vs-{_slug(second)}"
        path = path.with_suffix(game.record_extension)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, game.format_record(rec.actions, tags, rec.start))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]
