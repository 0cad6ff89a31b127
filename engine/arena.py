"""Arena: pit players against each other, alternating colours, and rate them (Bradley-Terry Elo).

    python -m engine.arena tictactoe minimax random --games 20
    python -m engine.arena connect4 mcts:200 mcts:1000 random --games 10 --save runs/arena
    python -m engine.arena connect4 alphazero mcts:1000 --games 100 --json
    python -m engine.arena connect4 c4solver alphazero --games 20 --start 5554224333 --start 1233722555
    python -m engine.arena go mcts:2000 "gtp:/usr/games/gnugo --mode gtp --level 1 --chinese-rules" \
        --game-option size=9 --games 10 --final-score --save runs/vs-gnugo
    python -m engine.arena chess mcts-material:800 "uci:/usr/games/stockfish;Skill Level=0" --games 20 --save runs/sf

Players are agent specs (``agents.make``): ``random``, ``minimax``, ``mcts:N`` (pure MCTS, N rollout
simulations per move), ``alphazero[:CHECKPOINT]`` (the shipped checkpoint of the game by default), and for Go
and chess external programs (``gtp:COMMAND``, ``uci:COMMAND[;NAME=VALUE...]`` with UCI options and ``go``
limits such as ``Skill Level=0`` or ``movetime=100``, see ``agents.uci_player``). With two players they play
``--games`` games; with more, every pair does (round robin). Games are saved in the game's record format with
``--save DIR``.
``--start POSITION`` (repeatable, in the game's notation) starts the games from set positions, each played
twice with the colours swapped; deterministic players then meet in varied games, and the exact Connect Four
player ``c4solver``, which has no opening book, skips the openings it would need hours to solve.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import agents as agents_mod
from agents.base import Agent, AgentError, Decision

from .cli import UserError, add_common_args, add_threads_arg, emit, make_game, pin_threads_of, run_main, seed_everything
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


def run_match(game, players: dict[str, Agent], games_per_pair: int, save_dir: Path | None = None,
              progress: bool = True, max_moves: int | None = None,
              starts: Sequence[np.ndarray] | None = None, final_score: bool = False) -> MatchResult:
    """Every pair of players plays ``games_per_pair`` games, colours alternating; game ``g`` of a pair starts
    from ``starts[(g // 2) % len(starts)]`` when given (so each start is played with both colours). With
    ``final_score`` (Go) the players that can score a position (GTP programs) score each finished game too; the
    result stays the game's own (Tromp-Taylor), and ``details`` notes where a program's winner differs from it."""
    from rich.progress import Progress

    names = list(players)
    pairs = list(itertools.combinations(names, 2))
    result = MatchResult()
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("arena", total=len(pairs) * games_per_pair)
        for a, b in pairs:
            for g in range(games_per_pair):
                first, second = (a, b) if g % 2 == 0 else (b, a)
                start = starts[(g // 2) % len(starts)] if starts else None
                rec = play_game(game, [players[first], players[second]], start=start, max_moves=max_moves)
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
                    path.write_text(game.format_record(rec.actions, tags, rec.start))
                bar.update(task, advance=1, description=f"{first} vs {second}")
    return result


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40]


def format_table(rows: list[dict]) -> str:
    head = f"{'player':<28} {'games':>5} {'W':>5} {'D':>5} {'L':>5} {'score':>7} {'Elo':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        ci = "fixed" if r["elo_ci95"] == 0 else ("?" if r["elo_ci95"] is None else f"±{r['elo_ci95']:.0f}")
        lines.append(f"{r['player']:<28} {r['games']:>5} {r['wins']:>5} {r['draws']:>5} {r['losses']:>5} "
                     f"{100 * r['score']:>6.1f}% {r['elo']:>6.0f} {ci:>5}")
    return "\n".join(lines)


def main(argv=None):
    from nets.precision import add_precision_argument, check_precision

    p = argparse.ArgumentParser(prog="python -m engine.arena", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", help="game name (tictactoe, connect4, go, chess)")
    p.add_argument("players", nargs="+", help="two or more player specs (random, minimax, mcts:N, alphazero[:CKPT])")
    p.add_argument("--games", type=int, default=10, help="games per pair of players (colours alternate)")
    p.add_argument("--game-option", action="append", default=[], metavar="KEY=VALUE",
                   help="game options, e.g. size=9 komi=7.5")
    p.add_argument("--simulations", type=int, default=None, help="search budget for search players that take one")
    p.add_argument("--anchor", default=None,
                   help="player whose Elo is fixed at 0 (default: random if playing, else the last player)")
    p.add_argument("--save", type=Path, default=None, help="folder for the game records")
    p.add_argument("--max-moves", type=int, default=None,
                   help="stop a game after this many moves: a draw (Go: scored by Tromp-Taylor as it stands)")
    p.add_argument("--final-score", action="store_true",
                   help="Go: also ask GTP players to score each game (final_score) and report where their winner "
                        "differs from Tromp-Taylor's")
    p.add_argument("--start", action="append", default=[], metavar="POSITION",
                   help="start the games from this position (the game's notation; repeatable, each start is "
                        "played with both colours)")
    add_precision_argument(p)
    add_common_args(p)
    add_threads_arg(p)
    args = p.parse_args(argv)
    check_precision(args.precision, "--precision")
    pin_threads_of(args)
    if len(args.players) < 2:
        raise UserError("the arena needs at least two players")
    if args.games < 1:
        raise UserError(f"--games must be at least 1, got {args.games}")
    seed_everything(args.seed)
    game = make_game(args.game, args.game_option)
    starts = [game.parse_position(text) for text in args.start]  # a bad position: IllegalMove, one line
    for text, state in zip(args.start, starts, strict=True):
        if game.is_terminal(state):
            raise UserError(f"--start {text!r}: the game is already over in this position")
    players: dict[str, Agent] = {}
    for i, spec in enumerate(args.players):
        name = spec if spec not in players else f"{spec}#{i + 1}"
        kwargs = {"seed": args.seed + i, "precision": args.precision}
        if args.simulations is not None:
            kwargs["simulations"] = args.simulations
        try:
            players[name] = agents_mod.make(spec, game, **kwargs)
        except (ValueError, FileNotFoundError, AgentError) as err:
            for agent in players.values():
                agent.close()
            raise UserError(f"player {spec!r}: {err}") from None
    try:
        result = run_match(game, players, args.games, args.save, progress=not args.json, max_moves=args.max_moves,
                           starts=starts, final_score=args.final_score)
    except AgentError as err:
        raise UserError(f"the match stopped: {err} (games finished so far are saved)" if args.save
                        else f"the match stopped: {err}") from None
    finally:
        for agent in players.values():
            agent.close()
    anchor = args.anchor or ("random" if "random" in players else list(players)[-1])
    if anchor not in players:
        raise UserError(f"--anchor {anchor!r} is not one of the players: {', '.join(players)}")
    rows = result.table(anchor=anchor)
    out = {"game": game.name, "games_per_pair": args.games, "anchor": anchor, "table": rows,
           "games": [{"first": a, "second": b, "score_first": s, **{k: v for k, v in d.items() if k not in (
               "first", "second")}} for (a, b, s), d in zip(result.records, result.details, strict=True)]}
    text = format_table(rows)
    if args.final_score:
        scored = [d for d in result.details if "program scores" in d]
        split = [d for d in scored if d["disagree"]]
        out["final_score_disagreements"] = len(split)
        text += f"\nfinal_score: {len(scored)} games scored by the GTP players, {len(split)} with another winner " \
                "than Tromp-Taylor"
        for d in split:
            text += f"\n  {d['first']} vs {d['second']}: Tromp-Taylor {d.get('score')}, " + ", ".join(
                f"{n} {t}" for n, t in d["program scores"].items())
    emit(out, args.json, text)


if __name__ == "__main__":
    run_main(main)
