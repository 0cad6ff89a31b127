"""Leela Zero's analysis extension of GTP, for Sabaki and Lizzie.

``lz-analyze [colour] [interval] [minmoves N] [maxmoves N]`` streams ``info move D4 visits 120 winrate 5432
prior 1234 order 0 pv D4 Q16 ...`` lines (one line per interval, winrate and prior in 1/10000, from the view of
the player analysed) until the next command arrives, and ``lz-genmove_analyze`` does the same while choosing a
move (in the move's time), then answers ``play D4``. Input is read by a thread while the search runs in chunks,
so a new command stops an analysis within a chunk (about 50 ms).
"""

from __future__ import annotations

import re

from agents.base import MoveStat

from .handlers import COLOURS, Handlers
from .protocol import STREAMED, GtpFailure, number


class AnalysisHandlers(Handlers):
    """``lz-analyze`` and ``lz-genmove_analyze``."""

    def cmd_lz_analyze(self, args):
        s, engine = self.session, self.engine
        tags = analyze_tags(args)
        colour = tags["colour"] if tags["colour"] is not None else s.side_to_move()
        state, _ = s.ready(s.state, colour, insert_pass=False)
        engine.write(f"={engine.cid}\n")
        self._tune_report(tags)
        try:
            progress = self._streamer(state, tags, stop_on_input=True)
            while not engine.inbox.pending():
                cap = s.simulation_cap()
                if cap <= 1:  # the tree is as large as allowed: wait for the next command
                    engine.inbox.wait_pending()
                    break
                s.choose(state, progress, {"simulations": cap})
        finally:
            engine.write("\n")
        return STREAMED

    def cmd_lz_genmove_analyze(self, args):
        s, engine = self.session, self.engine
        tags = analyze_tags(args)
        if tags["colour"] is None:
            raise GtpFailure("syntax error: usage lz-genmove_analyze COLOUR [INTERVAL]")
        state, _ = s.ready(s.state, tags["colour"], insert_pass=False)
        engine.write(f"={engine.cid}\n")
        self._tune_report(tags)
        try:
            progress = self._streamer(state, tags, stop_on_input=False)
            vertex, _ = s.decide(tags["colour"], engine.received, progress=progress)
            engine.write(f"play {vertex}\n")
        except GtpFailure as err:
            engine.diag(f"lz-genmove_analyze failed: {err}")
        finally:
            engine.write("\n")
        return STREAMED

    def _tune_report(self, tags) -> None:
        if hasattr(self.session.agent, "report_moves"):
            self.session.agent.report_moves = max(10, tags["minmoves"], tags["maxmoves"])

    def _streamer(self, state, tags, stop_on_input: bool):
        """A progress callback that writes an info line every ``interval`` and stops on the next command."""
        s, engine = self.session, self.engine
        interval = tags["interval"]
        due = [engine.now() + interval]

        def progress(info: dict) -> bool:
            now = engine.now()
            if interval > 0 and now >= due[0]:
                top = info.get("top")
                if top is None and hasattr(s.agent, "search"):  # a search agent that reports no moves
                    from agents.mcts import top_moves

                    top = top_moves(s.agent.search, k=max(10, tags["maxmoves"]))
                if top:
                    engine.write(info_line(s.game, state, top, tags["maxmoves"]) + "\n")
                    due[0] = now + interval
            return stop_on_input and engine.inbox.pending()

        return progress


def analyze_tags(args: list[str]) -> dict:
    """``[colour] [interval] [interval N] [minmoves N] [maxmoves N]`` (Leela Zero's order)."""
    tags = {"colour": None, "interval": 0.0, "minmoves": 0, "maxmoves": 0}
    i = 0
    while i < len(args):
        t = args[i].lower()
        if t in COLOURS and tags["colour"] is None and i == 0:
            tags["colour"] = COLOURS[t]
        elif re.fullmatch(r"\d{1,9}", t):
            tags["interval"] = int(t) / 100
        elif t in ("interval", "minmoves", "maxmoves") and i + 1 < len(args):
            n = number(args[i + 1], int, "an integer", 0, 10**9)
            tags[t] = n / 100 if t == "interval" else n
            i += 1
        elif t in ("avoid", "allow"):
            raise GtpFailure(f"cannot parse analyze tags: {t} is not supported")
        else:
            raise GtpFailure(f"cannot parse analyze tags: {args[i][:24]!r}")
        i += 1
    return tags


def info_line(game, state, top: list[MoveStat], maxmoves: int) -> str:
    parts = []
    for order, m in enumerate(top[: maxmoves or None]):
        pv = " ".join(game.format_move(state, a) for a in (m.pv or [m.action]))
        parts.append(f"info move {game.format_move(state, m.action)} visits {m.visits} "
                     f"winrate {int(round(5000 * (m.value + 1)))} prior {int(round(10000 * m.prior))} "
                     f"order {order} pv {pv}")
    return " ".join(parts)


class GoGuiHandlers(Handlers):
    """GoGui's analyze commands (``gogui-analyze_commands`` lists them for its Analyze menu): the search's top
    moves as point/visit pairs on the board, and the player with its budget."""

    def cmd_gogui_analyze_commands(self, args):
        return "\n".join(["pspairs/Top moves (visits)/gogui-top_moves", "string/Player and budget/version"])

    def cmd_gogui_top_moves(self, args):
        """Search the position for the side to move (a move's budget, nothing played): ``D4 120 E5 31 ...``."""
        s = self.session
        colour = s.side_to_move()
        state, _ = s.ready(s.state, colour, insert_pass=False)
        timer = s.move_timer(colour, state, self.engine.received)
        decision = s.choose(state, s.stopper(timer, None), s.budget(timer))
        return " ".join(f"{s.game.format_move(state, m.action)} {m.visits}"
                        for m in decision.top if m.visits > 0 and m.action != s.game.pass_action)
