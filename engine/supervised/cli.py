"""``python -m engine.supervised GAME``: train a network on game records or on a teacher's moves.

    python -m engine.supervised connect4 --teacher c4solver                 # the solver's games, ~9 minutes on 2 cores
    python -m engine.supervised tictactoe --teacher minimax --positions 4000
    python -m engine.supervised chess --teacher "uci:/usr/games/stockfish;MultiPV=4;nodes=3000" --positions 10000
    python -m engine.supervised go --teacher "gtp:/usr/games/gnugo --mode gtp --level 1 --chinese-rules"
    python -m engine.supervised chess --records "games/*.pgn" --min-elo 2000       # your own PGN databases
    python -m engine.supervised go --records "kgs/**/*.sgf" --size 9 --min-rank 1d
    python -m engine.supervised connect4 --data runs/sup-connect4-.../data --epochs 20   # reuse generated data
    python -m engine.supervised go --data runs/gnugo-level1 runs/gnugo-level10             # several folders at once
    python -m engine.supervised --resume runs/sup-connect4-20270101-120000               # continue a stopped run
    python -m engine.selfplay --init runs/sup-connect4-.../checkpoints/supervised.pt     # then self-play

The network, its config (``configs/<game>.yaml``, ``--config``, dotted ``key=value`` overrides such as
``net.blocks=6 train.lr=0.001``) and the checkpoint format are self-play's, so ``agents.make("alphazero:PATH")``,
``engine.play``, ``engine.gtp``, ``engine.uci``, ``engine.analyze`` and ``engine.arena`` take the result as is.
The run folder ``runs/sup-<game>-<time>/`` holds ``config.yaml``, ``supervised.json`` (these options), ``data/``
(shards, manifest and the teacher's games as SGF/PGN), ``checkpoints/supervised.pt``, ``metrics.csv``,
``curves.png`` and ``tb/``. See docs/supervised.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import time
from pathlib import Path

from ..cli import UserError, add_common_args, emit, make_game, pin_threads, seed_everything, stop_on_sigterm
from ..core import atomic_write_text

# Defaults by game: the data generation and the number of epochs (command-line options override them).
GAME_DEFAULTS: dict[str, dict] = {
    "connect4": {"positions": 120_000, "opening_min": 12, "opening_plies": 18, "random_moves": 0.15, "epochs": 10},
    "tictactoe": {"positions": 4_000, "opening_min": 0, "opening_plies": 2, "random_moves": 0.2, "epochs": 20},
    "chess": {"positions": 10_000, "opening_min": 0, "opening_plies": 6, "random_moves": 0.03, "epochs": 4,
              "temperature": 1.0, "max_plies": 200},
    "go": {"positions": 5_000, "opening_min": 0, "opening_plies": 6, "random_moves": 0.05, "epochs": 4},
}
CONFIG_FILES = {"connect4": "connect4.yaml", "tictactoe": "tictactoe.yaml", "chess": "chess.yaml"}
# Supervised training settings, over the config file and under the user's overrides: AdamW with a cosine
# schedule over all steps suits a fixed dataset better than self-play's SGD over iterations.
TRAIN_BASE = ["train.optimizer=adamw", "train.lr=0.002", "train.weight_decay=0.0001", "train.lr_schedule=cosine",
              "train.lr_final=0.05", "run.tensorboard=false"]
# Training settings tuned by game, put after TRAIN_BASE and before the user's key=value overrides. Connect Four's
# learning rate: held-out top-1 after 3 epochs of 216k solver positions (4x32, batch 256) 77.0% at 0.002, 85.8% at
# 0.008, 85.2% at 0.012, 86.5% at 0.016.
GAME_TRAIN: dict[str, list[str]] = {"connect4": ["train.lr=0.012"]}


def _family(game) -> str:
    return "go" if game.name.startswith("go") else game.name


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.supervised", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("game", nargs="?", help="connect4, tictactoe, chess, go (9x9), go13, go19")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. net.blocks=6")
    src = p.add_argument_group("data")
    src.add_argument("--teacher", help="an agents.make spec: c4solver, minimax, uci:..., gtp:..., alphazero:CKPT")
    src.add_argument("--records", nargs="+", metavar="FILE", help="PGN / SGF / move-list files or globs")
    src.add_argument("--data", type=Path, nargs="+", metavar="DIR",
                     help="data folder to use, or to write (default RUN/data); more folders are read too (e.g. a "
                          "teacher at several levels)")
    src.add_argument("--positions", type=int, help="labelled positions to generate (teacher)")
    src.add_argument("--workers", type=int, default=None,
                     help="teacher processes (default: the cores this process may run on)")
    src.add_argument("--games-per-shard", type=int, default=16)
    src.add_argument("--opening-min", type=int, help="random opening plies: at least this many")
    src.add_argument("--opening-plies", type=int, help="random opening plies: at most this many")
    src.add_argument("--openings", type=Path, help="book: a file of move lists, one drawn per game")
    src.add_argument("--random-moves", type=float, help="share of random moves in teacher games")
    src.add_argument("--temperature", type=float, help="sample teacher moves from its policy at this temperature")
    src.add_argument("--label-from-ply", type=int, default=0, help="label positions from this ply on")
    src.add_argument("--max-plies", type=int, help="stop teacher games after this many plies")
    flt = p.add_argument_group("record filters")
    flt.add_argument("--min-elo", type=int, help="PGN: both players rated at least this")
    flt.add_argument("--min-rank", help="SGF: both players at least this rank (e.g. 1d, 5k)")
    flt.add_argument("--size", type=int, help="SGF: this board size only")
    flt.add_argument("--komi", type=float, help="SGF: this komi only")
    flt.add_argument("--allow-unknown-result", action="store_true", help="keep games without a result (value 0)")
    tr = p.add_argument_group("training and reports")
    tr.add_argument("--config", type=Path,
                    help="YAML file or shipped config name (default: the game's shipped one, e.g. connect4, go9)")
    tr.add_argument("--epochs", type=int)
    tr.add_argument("--holdout", type=float, default=0.1, help="share of games held out (default 0.1)")
    tr.add_argument("--threads", type=int,
                    help="torch threads for training (default: every core; the teacher processes have finished)")
    tr.add_argument("--init", type=Path, help="start from this checkpoint's weights")
    tr.add_argument("--arena", type=int, default=0, metavar="GAMES", help="then play this many games")
    tr.add_argument("--arena-opponent", help="opponent spec (default: the teacher)")
    tr.add_argument("--arena-simulations", type=int, default=200)
    p.add_argument("--out", type=Path, help="run folder (default runs/sup-<game>-<time>)")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a stopped run")
    p.add_argument("--no-progress", action="store_true")
    add_common_args(p)
    return p


def main(argv=None):
    args = build_parser().parse_intermixed_args(argv)
    pin_threads(1)
    stop_on_sigterm()
    if args.resume is not None:
        args = _resumed_args(args)
    if not args.game:
        raise UserError("name the game (connect4, tictactoe, chess, go ...) or give --resume RUN_DIR")
    game = make_game(args.game)
    opts = _options(args, game)
    from rich.console import Console

    console = Console(stderr=True)
    progress = not args.no_progress and console.is_terminal
    folder = args.resume or args.out or Path("runs") / f"sup-{game.name}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    folder = Path(folder)
    cfg = _config(args, game, folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / "supervised.json", json.dumps(_saved(args), indent=1) + "\n")
    seed_everything(args.seed)
    t0 = time.perf_counter()
    try:
        from .pipeline import run_pipeline

        result = run_pipeline(game, cfg, args, opts, folder, console, progress)
    except KeyboardInterrupt:
        console.print(f"interrupted: continue with python -m engine.supervised --resume {folder}", highlight=False)
        return 130
    result["seconds"] = round(time.perf_counter() - t0, 1)
    emit(result, args.json, _text(result))
    return 0


def _options(args, game) -> dict:
    d = dict(GAME_DEFAULTS.get(_family(game), GAME_DEFAULTS["connect4"]))
    for key in ("positions", "opening_min", "opening_plies", "random_moves", "temperature", "max_plies", "epochs"):
        if getattr(args, key, None) is not None:
            d[key] = getattr(args, key)
    d.setdefault("temperature", 0.0)
    d.setdefault("max_plies", 0)
    sources = [x for x in (args.teacher, args.records) if x]
    if len(sources) > 1:
        raise UserError("give either --teacher or --records, not both")
    if not sources and args.data is None:
        raise UserError("give --teacher SPEC, --records FILE ... or --data DIR (see --help)")
    if d["positions"] < 1 or d["epochs"] < 1:
        raise UserError("--positions and --epochs must be at least 1")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be >= 1, got {args.threads}")
    if not 0.0 <= args.holdout < 1.0:
        raise UserError(f"--holdout must be in [0, 1), got {args.holdout}")
    if not 0.0 <= d["random_moves"] <= 1.0:
        raise UserError(f"--random-moves must be in [0, 1], got {d['random_moves']}")
    if d["opening_min"] > d["opening_plies"]:
        d["opening_min"] = d["opening_plies"]
    return d


def _config(args, game, folder: Path):
    from ..alphazero.config import make_config
    from ..config import ConfigError

    if args.resume is not None:
        path, overrides = folder / "config.yaml", list(args.overrides)
    else:
        path = args.config
        if path is None:
            name = CONFIG_FILES.get(game.name) or (f"go{game.size}.yaml" if _family(game) == "go" else None)
            from .. import configs

            path = configs.shipped(name) if name else None
        overrides = TRAIN_BASE + GAME_TRAIN.get(_family(game), []) + [f"game.name={args.game}"] + list(args.overrides)
    try:
        cfg = make_config(path, overrides)
    except (ConfigError, ValueError) as err:
        raise UserError(f"config: {err}") from None
    if args.resume is None:
        from ..config import save_config

        folder.mkdir(parents=True, exist_ok=True)
        save_config(cfg, folder / "config.yaml")
    return cfg


_SAVED = ("game", "teacher", "records", "data", "positions", "workers", "games_per_shard", "opening_min",
          "opening_plies", "openings", "random_moves", "temperature", "label_from_ply", "max_plies", "min_elo",
          "min_rank", "size", "komi", "allow_unknown_result", "epochs", "holdout", "init", "arena", "arena_opponent",
          "arena_simulations", "seed")


def _saved(args) -> dict:
    def plain(v):
        return str(v) if isinstance(v, Path) else ([plain(x) for x in v] if isinstance(v, list) else v)

    return {k: plain(v) for k, v in vars(args).items() if k in _SAVED}


def _resumed_args(args):
    path = args.resume / "supervised.json"
    if not path.is_file():
        raise UserError(f"{args.resume} is not a supervised run folder ({path.name} is missing)")
    saved = json.loads(path.read_text())
    for key in ("openings", "init"):
        if saved.get(key) is not None:
            saved[key] = Path(saved[key])
    if saved.get("data") is not None:
        data = saved["data"]
        saved["data"] = [Path(d) for d in (data if isinstance(data, list) else [data])]
    for key, value in saved.items():
        setattr(args, key, value)
    return args


def _text(result: dict) -> str:
    lines = [f"checkpoint: {result['checkpoint']}"]
    for key in ("top1", "top3"):
        if result.get(key) is not None:
            lines.append(f"held-out {key}: {100 * result[key]:.1f}%")
    for key, value in result.items():
        if key not in ("checkpoint", "top1", "top3"):
            lines.append(f"{key}: {value}")
    return "\n".join(lines)
