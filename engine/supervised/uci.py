"""A UCI player that also returns the engine's whole analysis of a position (every MultiPV line)."""

from __future__ import annotations

from agents.uci_player import UCIPlayer, parse_spec


class AnalysingUCIPlayer(UCIPlayer):
    """``UCIPlayer`` with ``analyse(state) -> list of lines`` up to ``bestmove`` (the ``info`` lines of every
    principal variation), for soft targets from MultiPV; ``requested_options`` are the options of the spec."""

    @classmethod
    def from_spec(cls, game, arg: str) -> AnalysingUCIPlayer:
        if not arg:
            raise ValueError("uci needs a command, e.g. uci:/usr/games/stockfish;MultiPV=4;nodes=5000")
        command, settings, options = parse_spec(arg)
        player = cls(game, command, options=options, name=f"uci:{arg}", **settings)
        player.requested_options = dict(options)
        return player

    def analyse(self, state) -> list[str]:
        self._send(self._position_command(state))
        self._send("go " + " ".join(f"{k} {int(v)}" for k, v in self.limits.items()))
        wait = self.timeout + self.limits.get("movetime", 0) / 1000
        return self._expect(lambda x: x.startswith("bestmove"), wait, "bestmove")
