"""Positions from game records: PGN (chess), SGF (Go), move lists (Connect Four, tic-tac-toe, any game).

Files are read one game at a time (a PGN database of a gigabyte is never in memory at once): PGN is cut at the
tag section of each game, SGF collections at each top-level game tree, move-list files line by line. Each
position gets the move played as its policy target (and as the move counted right) and the game's result from
the mover's view as its value; games without a known result are skipped. A game that cannot be read (a broken
tag, an illegal move) is skipped and counted; the first errors are kept with the file, game and line.

Move-list files: one game a line, moves in the game's notation separated by spaces (``d4 d5 ...``,
``a1 b2 ...``), or for Connect Four a Pons digit string (``4453``); a trailing result token (``1-0``, ``0-1``,
``1/2-1/2``, ``+1``, ``0``, ``-1``, first player's view) gives the result of a game that is not over; ``#``
starts a comment.

Filters (``RecordFilter``): a minimum Elo of both players (PGN ``WhiteElo``/``BlackElo``), a minimum rank (SGF
``BR``/``WR`` such as ``3d``), the board size and komi (SGF), and dropping games whose result is unknown.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from games import IllegalMove

from ..cli import UserError

MAX_ERRORS_SHOWN = 5


@dataclass
class RecordFilter:
    min_elo: int | None = None
    min_rank: str | None = None     # e.g. "1d", "5k"
    size: int | None = None
    komi: float | None = None
    result_known: bool = True


@dataclass
class RecordGame:
    """One game ready to label: its positions' actions from ``start`` and the result (first player's view)."""

    start: object
    actions: list[int]
    result: int
    where: str


@dataclass
class ReadStats:
    files: int = 0
    games: int = 0
    skipped: int = 0            # malformed
    filtered: int = 0           # readable but left out by a filter
    errors: list[str] = field(default_factory=list)

    def fail(self, where: str, err) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_ERRORS_SHOWN:
            self.errors.append(f"{where}: {err}")


def expand(patterns: list[str]) -> list[Path]:
    """Files named by paths or globs (``data/*.pgn``, ``**/*.sgf``), in sorted order; ``UserError`` if none."""
    files: list[Path] = []
    for pattern in patterns:
        hits = sorted(glob.glob(pattern, recursive=True)) if any(c in pattern for c in "*?[") else [pattern]
        hits = [h for h in hits if Path(h).is_file()]
        if not hits:
            raise UserError(f"records {pattern!r}: no such file")
        files += [Path(h) for h in hits]
    return files


def read_records(game, patterns: list[str], filt: RecordFilter, stats: ReadStats) -> Iterator[RecordGame]:
    """Every readable game of the files, one at a time (see the module docstring)."""
    for path in expand(patterns):
        stats.files += 1
        suffix = path.suffix.lower()
        if suffix == ".pgn":
            yield from _pgn_games(game, path, filt, stats)
        elif suffix == ".sgf":
            yield from _sgf_games(game, path, filt, stats)
        else:
            yield from _move_list_games(game, path, filt, stats)


# ------------------------------------------------------------------------------------------------ PGN
def _pgn_chunks(path: Path) -> Iterator[tuple[str, int]]:
    """(text of one game, its first line number), cut where a tag section follows movetext."""
    lines: list[str] = []
    start, in_moves = 1, False
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for number, line in enumerate(f, 1):
            stripped = line.lstrip()
            if stripped.startswith("[") and in_moves:
                yield "".join(lines), start
                lines, start, in_moves = [], number, False
            elif stripped and not stripped.startswith(("[", "%", ";")):
                in_moves = True
            if not lines and not stripped:
                start = number + 1
                continue
            lines.append(line)
    if "".join(lines).strip():
        yield "".join(lines), start


_LINE = re.compile(r"line (\d+)")


def _shift_lines(message: str, first: int) -> str:
    """Line numbers of a message about one game counted from the file's first line instead of the game's."""
    return _LINE.sub(lambda m: f"line {int(m.group(1)) + first - 1}", message)


_RESULTS = {"1-0": 1, "0-1": -1, "1/2-1/2": 0}


def _pgn_games(game, path: Path, filt: RecordFilter, stats: ReadStats) -> Iterator[RecordGame]:
    from games.chess.pgn import iter_pgn

    for number, (text, first) in enumerate(_pgn_chunks(path), 1):
        where = f"{path}, game {number} (line {first})"
        try:
            parsed = list(iter_pgn(text, game))
        except IllegalMove as err:  # PgnError: its line numbers count from the game's first line
            msg = _shift_lines(str(err), first)
            stats.fail(where, re.sub(r"^PGN game \d+ \(line \d+\)(, )?", "", msg) or msg)
            continue
        for rec in parsed:
            stats.games += 1
            result = _RESULTS.get(rec.result)
            if result is None and filt.result_known:
                stats.filtered += 1
                continue
            if filt.min_elo is not None and min(_int(rec.headers.get("WhiteElo")),
                                                _int(rec.headers.get("BlackElo"))) < filt.min_elo:
                stats.filtered += 1
                continue
            yield RecordGame(rec.start, rec.actions, 0 if result is None else result, where)


def _int(text) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return -1


# ------------------------------------------------------------------------------------------------ SGF
def _sgf_trees(text: str) -> Iterator[tuple[str, int]]:
    """Top-level game trees ``(;...)`` of an SGF collection with their first line."""
    depth, start, in_value, escaped = 0, None, False, False
    for i, ch in enumerate(text):
        if in_value:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "]":
                in_value = False
        elif ch == "[":
            in_value = True
        elif ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0 and start is not None:
                yield text[start:i + 1], text.count("\n", 0, start) + 1
                start = None
    if depth > 0 and start is not None:
        yield text[start:], text.count("\n", 0, start) + 1  # unterminated: the parser names the problem


def _rank_value(rank: str) -> float | None:
    m = re.match(r"\s*(\d+)\s*([kdp])", rank.lower())
    if not m:
        return None
    n, kind = int(m.group(1)), m.group(2)
    return -n if kind == "k" else (n if kind == "d" else 10 + n)


def _sgf_games(game, path: Path, filt: RecordFilter, stats: ReadStats) -> Iterator[RecordGame]:
    from games.go.sgf import load_sgf, read_sgf

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        stats.fail(str(path), err)
        return
    for number, (tree, first) in enumerate(_sgf_trees(text), 1):
        where = f"{path}, game {number} (line {first})"
        try:
            sgf = read_sgf(tree)
            if filt.size is not None and sgf.size != filt.size:
                stats.games += 1
                stats.filtered += 1
                continue
            if sgf.size != game.size:
                stats.fail(where, f"board size {sgf.size}, the game is {game.size}x{game.size}")
                continue
            loaded = load_sgf(tree, default_komi=float(game.komi))
        except ValueError as err:
            msg = _shift_lines(str(err), first)
            stats.fail(where, msg)
            continue
        stats.games += 1
        if sgf.has_setup:
            stats.fail(where, "setup stones (AB/AW) or handicap are not supported for training")
            continue
        if filt.komi is not None and (sgf.komi is None or abs(sgf.komi - filt.komi) > 1e-9):
            stats.filtered += 1
            continue
        if filt.min_rank is not None:
            need = _rank_value(filt.min_rank)
            ranks = [_rank_value(r) for r in (_prop(sgf, "BR"), _prop(sgf, "WR"))]
            if need is None or any(r is None or r < need for r in ranks):
                stats.filtered += 1
                continue
        result = _sgf_result(sgf.result)
        if result is None:
            final = loaded.state
            if game.is_terminal(final):
                result = game.result(final)
            elif filt.result_known:
                stats.filtered += 1
                continue
            else:
                result = 0
        yield RecordGame(game.initial_state(), loaded.actions, result, where)


def _prop(sgf, key: str) -> str:
    values = sgf.properties.get(key) or [""]
    return values[0]


def _sgf_result(text: str) -> int | None:
    t = (text or "").strip().upper()
    if t.startswith("B+"):
        return 1
    if t.startswith("W+"):
        return -1
    if t in ("0", "DRAW", "JIGO"):
        return 0
    return None


# ------------------------------------------------------------------------------------------------ move lists
_TEXT_RESULTS = {"1-0": 1, "0-1": -1, "1/2-1/2": 0, "+1": 1, "1": 1, "0": 0, "-1": -1, "draw": 0}


def _move_list_games(game, path: Path, filt: RecordFilter, stats: ReadStats) -> Iterator[RecordGame]:
    with open(path, encoding="utf-8", errors="replace") as f:
        number = 0
        for line_no, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            number += 1
            where = f"{path}, game {number} (line {line_no})"
            tokens = text.split()
            result = None
            if len(tokens) > 1 and tokens[-1] in _TEXT_RESULTS:
                result = _TEXT_RESULTS[tokens.pop()]
            if len(tokens) == 1 and tokens[0].isdigit() and game.name.startswith("connect4"):
                tokens = list(tokens[0])
            state = game.initial_state()
            actions = []
            try:
                for i, tok in enumerate(tokens):
                    try:
                        a = game.parse_move(state, tok)
                        state = game.apply(state, a)
                    except IllegalMove as err:
                        raise IllegalMove(f"move {i + 1} ({tok!r}): {err}") from None
                    actions.append(a)
            except IllegalMove as err:
                stats.fail(where, err)
                continue
            stats.games += 1
            if game.is_terminal(state):
                result = game.result(state)
            elif result is None:
                if filt.result_known:
                    stats.filtered += 1
                    continue
                result = 0
            yield RecordGame(game.initial_state(), actions, result, where)


def record_positions(game, rec: RecordGame) -> list[tuple]:
    """The labelled positions of a record (as ``ShardBuilder.add_game`` takes them): the move played, the result."""
    out = []
    state = rec.start
    for ply, a in enumerate(rec.actions):
        z = rec.result if game.to_play(state) == 0 else -rec.result
        out.append((state, [int(a)], [1.0], [int(a)], float(z), int(z), ply))
        state = game.apply(state, a)
    return out


def build_from_records(game, patterns: list[str], folder: Path, filt: RecordFilter, positions_per_shard: int = 50_000,
                       progress=None) -> tuple[dict, ReadStats]:
    """Label every position of the records into shards in ``folder`` (done once: a folder whose manifest names
    the same files and filters is reused as it is). Returns the manifest and what was read."""
    from dataclasses import asdict

    from .data import ShardBuilder, new_manifest, read_manifest, write_manifest

    folder = Path(folder)
    files = [str(p) for p in expand(patterns)]
    source = {"kind": "records", "files": files, "filter": asdict(filt)}
    manifest = read_manifest(folder)
    if manifest is not None and manifest["source"].get("kind") != "records":
        raise UserError(f"{folder} holds other data ({manifest['source'].get('kind')}); give another --data folder")
    if manifest is not None and manifest["source"] == source and manifest.get("complete"):
        stats = ReadStats(**{k: v for k, v in manifest["read"].items() if k != "errors"},
                          errors=list(manifest["read"]["errors"]))
        return manifest, stats
    folder.mkdir(parents=True, exist_ok=True)
    manifest = new_manifest(game, source)
    stats = ReadStats()
    builder = ShardBuilder(game, 0)

    def flush():
        nonlocal builder
        if len(builder):
            builder.write(folder)
            manifest["shards"].append({"file": f"shard-{builder.shard_index:05d}.npz", "positions": len(builder),
                                       "games": builder.games})
            builder = ShardBuilder(game, builder.shard_index + 1)

    for rec in read_records(game, patterns, filt, stats):
        positions = record_positions(game, rec)
        if not positions:
            continue
        builder.add_game(positions)
        if len(builder) >= positions_per_shard:
            flush()
        if progress is not None:
            progress(stats, sum(s["positions"] for s in manifest["shards"]) + len(builder))
    flush()
    manifest["complete"] = True
    manifest["read"] = {"files": stats.files, "games": stats.games, "skipped": stats.skipped,
                        "filtered": stats.filtered, "errors": stats.errors}
    write_manifest(folder, manifest)
    return manifest, stats
