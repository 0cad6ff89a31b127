"""Leela Zero's and KataGo's analysis extensions of GTP, for Sabaki, Lizzie and KaTrain.

``lz-analyze [colour] [interval] [minmoves N] [maxmoves N]`` streams ``info move D4 visits 120 winrate 5432
prior 1234 order 0 pv D4 Q16 ...`` lines (one line per interval, winrate and prior in 1/10000, from the view of
the player analysed) until the next command arrives, and ``lz-genmove_analyze`` does the same while choosing a
move (in the move's time), then answers ``play D4``. Input is read by a thread while the search runs in chunks,
so a new command stops an analysis within a chunk (about 50 ms). ``kata-analyze`` and ``kata-genmove_analyze``
take the same arguments and ``ownership true``: their lines give winrate and prior as floats in [0, 1] and end
with ``ownership`` and one value in [-1, 1] per point (the network's estimate of its final owner, for the player
analysed, row by row from the top left), when the engine's network has an ownership head (KataGo's).
"""

from __future__ import annotations

import re

from agents.base import MoveStat

from .handlers import COLOURS, Handlers
from .protocol import STREAMED, GtpFailure, number


class AnalysisHandlers(Handlers):
    """``lz-analyze``, ``lz-genmove_analyze``, ``kata-analyze`` and ``kata-genmove_analyze``."""

    def cmd_kata_analyze(self, args):
        """KataGo's form (``docs/GTP_Extensions.md`` of KataGo): winrate and prior as floats in [0, 1], and with
        ``ownership true`` the network's ownership of every point after the moves, for the player analysed."""
        return self.cmd_lz_analyze(args, kata=True)

    def cmd_kata_genmove_analyze(self, args):
        return self.cmd_lz_genmove_analyze(args, kata=True)

    def cmd_lz_analyze(self, args, kata: bool = False):
        s, engine = self.session, self.engine
        tags = analyze_tags(args, kata)
        colour = tags["colour"] if tags["colour"] is not None else s.side_to_move()
        self._check_ownership(tags)
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

    def cmd_lz_genmove_analyze(self, args, kata: bool = False):
        s, engine = self.session, self.engine
        tags = analyze_tags(args, kata)
        if tags["colour"] is None:
            raise GtpFailure(f"syntax error: usage {'kata' if kata else 'lz'}-genmove_analyze COLOUR [INTERVAL]")
        self._check_ownership(tags)
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

    def _check_ownership(self, tags) -> None:
        if tags.get("ownership") and not getattr(self.session.agent, "has_ownership", False):
            raise GtpFailure("ownership: the engine's player has no network with an ownership head (give one with "
                             "--checkpoint)")

    def _line(self, state, top, tags) -> str:
        """The analysis line of ``state`` (Leela Zero's or KataGo's form) with ``top`` moves."""
        s = self.session
        if not tags.get("kata"):
            return info_line(s.game, state, top, tags["maxmoves"])
        own = None
        if tags.get("ownership"):
            own = s.agent.ownership(state)  # Black's view: for the player analysed, as KataGo reports it
            own = own if s.game.to_play(state) == 0 else -own
        return kata_info_line(s.game, state, top, tags["maxmoves"], own)

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
                    engine.write(self._line(state, top, tags) + "\n")
                    due[0] = now + interval
            return stop_on_input and engine.inbox.pending()

        return progress


def analyze_tags(args: list[str], kata: bool = False) -> dict:
    """``[colour] [interval] [interval N] [minmoves N] [maxmoves N]`` (Leela Zero's order); KataGo's form also
    takes ``ownership true|false``."""
    tags = {"colour": None, "interval": 0.0, "minmoves": 0, "maxmoves": 0, "kata": kata, "ownership": False}
    i = 0
    while i < len(args):
        t = args[i].lower()
        if t in COLOURS and tags["colour"] is None and i == 0:
            tags["colour"] = COLOURS[t]
        elif kata and t == "ownership" and i + 1 < len(args) and args[i + 1].lower() in ("true", "false"):
            tags["ownership"] = args[i + 1].lower() == "true"
            i += 1
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


def kata_info_line(game, state, top: list[MoveStat], maxmoves: int, ownership=None) -> str:
    """KataGo's ``kata-analyze`` line: ``info move D4 visits 120 winrate 0.5432 prior 0.1234 order 0 pv D4 Q16 ...``
    per move (winrate and prior in [0, 1], the player analysed's view), then ``ownership`` and the H * W values of
    ``ownership`` (that player's view, row by row from the top left, A9 .. J1) when given."""
    parts = []
    for order, m in enumerate(top[: maxmoves or None]):
        pv = " ".join(game.format_move(state, a) for a in (m.pv or [m.action]))
        parts.append(f"info move {game.format_move(state, m.action)} visits {m.visits} "
                     f"winrate {(m.value + 1) / 2:.6f} prior {m.prior:.6f} order {order} pv {pv}")
    if ownership is not None:
        parts.append("ownership " + " ".join(f"{float(v):.6f}" for v in ownership.ravel()))
    return " ".join(parts)


class GoGuiHandlers(Handlers):
    """GoGui's analyze commands (``gogui-analyze_commands`` lists them for its Analyze menu): the search's top
    moves as point/visit pairs on the board, and the player with its budget."""

    def cmd_gogui_analyze_commands(self, args):
        commands = ["pspairs/Top moves (visits)/gogui-top_moves", "string/Player and budget/version"]
        if getattr(self.session.agent, "has_ownership", False):
            commands.append("gfx/Ownership (network)/gogui-ownership")
        return "\n".join(commands)

    def cmd_gogui_ownership(self, args):
        """The network's ownership estimate as GoGui's ``gfx`` influence map: ``INFLUENCE A9 0.8 B9 0.7 ...``
        (-1 to 1, positive for Black)."""
        s = self.session
        if not getattr(s.agent, "has_ownership", False):
            raise GtpFailure("ownership: the engine's player has no network with an ownership head (give one with "
                             "--checkpoint)")
        own = s.agent.ownership(s.state).ravel()
        return "INFLUENCE " + " ".join(f"{s.game.format_move(s.state, p)} {float(v):.3f}" for p, v in enumerate(own))

    def cmd_gogui_top_moves(self, args):
        """Search the position for the side to move (a move's budget, nothing played): ``D4 120 E5 31 ...``."""
        s = self.session
        colour = s.side_to_move()
        state, _ = s.ready(s.state, colour, insert_pass=False)
        timer = s.move_timer(colour, state, self.engine.received)
        decision = s.choose(state, s.stopper(timer, None), s.budget(timer))
        return " ".join(f"{s.game.format_move(state, m.action)} {m.visits}"
                        for m in decision.top if m.visits > 0 and m.action != s.game.pass_action)
