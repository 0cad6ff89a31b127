"""The steps of ``python -m engine.supervised``: data (teacher games or records), training, report, arena."""

from __future__ import annotations

from pathlib import Path

from ..alphazero.run import derived_seed
from ..cli import UserError
from .data import load_datasets, read_manifest


def run_pipeline(game, cfg, args, opts: dict, folder: Path, console, progress: bool) -> dict:
    data_dirs = [Path(d) for d in args.data] if args.data else [folder / "data"]
    data_dir = data_dirs[0]  # where teacher games or records are written; training reads every folder
    info: dict = {}
    if args.teacher:
        info = _teacher_data(game, args, opts, data_dir, console, progress)
    elif args.records:
        info = _record_data(game, args, data_dir, console, progress)
    for d in data_dirs[0 if not (args.teacher or args.records) else 1:]:
        if read_manifest(d) is None:
            raise UserError(f"--data {d}: no supervised data there ({d}/manifest.json is missing)")
    ds, _ = load_datasets(data_dirs, game)
    train, held = ds.split(args.holdout, derived_seed(args.seed, "split"))
    names = ", ".join(str(d) for d in data_dirs)
    threads = args.threads or _cores()
    if len(train) == 0:
        raise UserError(f"{names} hold {len(ds)} positions: too few to train on")
    console.print(f"data {names}: {len(ds)} positions of {len(set(ds.game.tolist()))} games | training on "
                  f"{len(train)}, {len(held)} held out | net {cfg.net.blocks}x{cfg.net.channels} | "
                  f"{opts['epochs']} epochs of {cfg.train.batch_size}-position batches on {threads} "
                  f"thread{'s' if threads > 1 else ''}", highlight=False)
    import torch

    from .train import Trainer

    torch.set_num_threads(threads)  # the teacher processes are done: training takes every core
    trainer = Trainer(game, cfg, folder, args.seed, opts["epochs"], console, progress)
    resumed = trainer.resume()
    if not resumed and args.init is not None:
        trainer.init_from(Path(args.init))
    try:
        last = trainer.run(train, held)
    finally:
        trainer.close()
        torch.set_num_threads(1)  # searches (the arena) run best on one thread
    result = {"checkpoint": str(trainer.final), "run_dir": str(folder), "game": game.name,
              "data": [str(d) for d in data_dirs] if len(data_dirs) > 1 else str(data_dir),
              "positions": len(ds), "train_positions": len(train), "heldout_positions": len(held),
              "epochs": trainer.epoch, "top1": _r(last.get("top1")), "top3": _r(last.get("top3")),
              "heldout_policy_loss": _r(last.get("heldout_policy_loss")),
              "heldout_value_loss": _r(last.get("heldout_value_loss")),
              "train_loss": _r(last.get("train_loss")), "calibration_error": _r(last.get("calibration_error")),
              "threads": threads, **info}
    if args.arena:
        result["arena"] = _arena(game, args, trainer.final, held, console, progress)
    return result


def _cores() -> int:
    from ..alphazero.sources import available_cores

    return available_cores()


def _r(x):
    return None if x is None else round(float(x), 4)


def _teacher_data(game, args, opts: dict, data_dir: Path, console, progress: bool) -> dict:
    from .generate import GenerateOptions, generate

    openings = None
    if args.openings is not None:
        from games import IllegalMove

        try:
            lines = Path(args.openings).read_text().splitlines()
        except OSError as err:
            raise UserError(f"--openings {args.openings}: {err.strerror or err}") from None
        openings = []
        for number, text in enumerate(lines, 1):
            line = text.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                game.play_moves(line.split() if " " in line or not line.isdigit() else list(line))
            except IllegalMove as err:
                raise UserError(f"--openings {args.openings}, line {number}: {err}") from None
            openings.append(line)
        if not openings:
            raise UserError(f"--openings {args.openings}: no opening lines")
    check_teacher(game, args.teacher)
    workers = args.workers if args.workers is not None else _cores()
    gen = GenerateOptions(teacher=args.teacher, games_per_shard=args.games_per_shard,
                          opening_min=opts["opening_min"], opening_plies=opts["opening_plies"], openings=openings,
                          random_moves=opts["random_moves"], temperature=opts["temperature"],
                          label_from_ply=args.label_from_ply, max_plies=opts["max_plies"],
                          value_discount=getattr(args, "value_discount", None) or 0.98,
                          game_name=args.game, game_options={})
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not progress) as bar:
        task = bar.add_task(f"teacher games ({workers} processes)", total=opts["positions"])

        def show(have, total, manifest, seconds):
            t = manifest["totals"]
            bar.update(task, completed=min(have, total),
                       description=f"teacher games: {t['games']} games, {t['dropped']} dropped, "
                                   f"{have / max(seconds, 1e-9):.0f} positions/s")

        manifest = generate(game, data_dir, gen, opts["positions"], args.seed, workers, show)
    t = manifest["totals"]
    errors = [e for s in manifest["shards"] for e in s.get("first_errors", [])]
    seconds = sum(s["seconds"] for s in manifest["shards"])
    console.print(f"teacher {args.teacher}: {t['positions']} positions from {t['games']} games "
                  f"({t['dropped']} dropped) in {data_dir}", highlight=False)
    for e in errors[:3]:
        console.print(f"  dropped: {e}", highlight=False, markup=False)
    return {"teacher": args.teacher, "games": t["games"], "dropped_games": t["dropped"],
            "teacher_errors": errors[:3], "generation_cpu_seconds": round(seconds, 1)}


def check_teacher(game, spec: str) -> None:
    """Build the teacher once here, so that a bad spec is one clear line before any process starts."""
    from agents import AgentError

    from .teachers import make_teacher

    try:
        make_teacher(spec, game).close()
    except (ValueError, FileNotFoundError, AgentError) as err:
        raise UserError(f"--teacher {spec!r}: {err}") from None


def _record_data(game, args, data_dir: Path, console, progress: bool) -> dict:
    from .records import RecordFilter, build_from_records

    filt = RecordFilter(min_elo=args.min_elo, min_rank=args.min_rank, size=args.size, komi=args.komi,
                        result_known=not args.allow_unknown_result)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=not progress) as bar:
        task = bar.add_task("reading records", total=None)

        def show(stats, positions):
            bar.update(task, description=f"reading records: {stats.games} games, {stats.skipped} skipped, "
                                         f"{positions} positions")

        manifest, stats = build_from_records(game, args.records, data_dir, filt, progress=show)
    console.print(f"records: {stats.files} files, {stats.games} games read, {stats.skipped} malformed games skipped, "
                  f"{stats.filtered} left out by filters, {manifest['totals']['positions']} positions",
                  highlight=False)
    for e in stats.errors:
        console.print(f"  skipped: {e}", highlight=False, markup=False)
    return {"files": stats.files, "games": stats.games, "skipped_games": stats.skipped,
            "filtered_games": stats.filtered, "record_errors": stats.errors}


def _arena(game, args, checkpoint: Path, held, console, progress: bool) -> dict:
    """A short match of the trained network (with search) against the teacher or ``--arena-opponent``,
    starting from held-out positions' openings (each played with both colours)."""
    import agents
    from engine.matches import run_match

    spec = args.arena_opponent or args.teacher or "random"
    net = agents.make(f"alphazero:{checkpoint}", game, simulations=args.arena_simulations)
    try:
        opponent = agents.make(spec, game, seed=args.seed)
    except (ValueError, FileNotFoundError) as err:
        raise UserError(f"--arena-opponent {spec!r}: {err}") from None
    starts = _arena_starts(game, held, args.arena)
    try:
        result = run_match(game, {"network": net, spec: opponent}, args.arena, progress=progress, starts=starts)
    finally:
        opponent.close()
        net.close()
    row = next(r for r in result.table() if r["player"] == "network")
    console.print(f"arena: network ({args.arena_simulations} simulations) vs {spec}: {row['wins']} wins, "
                  f"{row['draws']} draws, {row['losses']} losses", highlight=False)
    return {"opponent": spec, "simulations": args.arena_simulations,
            **{k: row[k] for k in ("games", "wins", "draws", "losses", "score")}}


def _arena_starts(game, held, games: int):
    """The first labelled position of some held-out games (the teacher's random openings), or None."""
    if len(held) == 0:
        return None
    firsts = {}
    for i, g in enumerate(held.game.tolist()):
        firsts.setdefault(g, i)
    rows = sorted(firsts.values())[: max(1, (games + 1) // 2)]
    return [held.states[r].copy() for r in rows]


__all__ = ["run_pipeline"]
