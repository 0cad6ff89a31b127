"""The orchestrating loop of an AlphaZero run: self-play, training, evaluation, checkpoints, logs.

One iteration: the worker plays ``selfplay.games_per_iteration`` games with the current network (or the best
one, with gating); their positions enter the replay window; the learner takes ``replay_ratio * new positions /
batch_size`` steps; the new network plays the previous one and the fixed baselines and every rating is refitted
over all games so far. Then the iteration is saved: the replay window, ``checkpoints/latest.pt`` (weights,
optimizer, counters, Elo games, metrics, random states), the iteration's network, ``metrics.csv``, TensorBoard
scalars and the PNG plots.

Every random draw of an iteration derives from ``(seed, iteration)``, and the state saved after an iteration is
everything the next one reads, so ``--resume`` after a crash or SIGKILL replays the unfinished iteration exactly
as the uninterrupted run would have (same games, same batches, same weights).

Run folder ``runs/<game>-<time>/``::

    config.yaml            the resolved configuration
    checkpoints/latest.pt  the state to resume from (weights, optimizer, counters, Elo games, RNG)
    checkpoints/iter-NNNN.pt   the network of each iteration (load with nets.load_model, or play it:
                           agents.make("alphazero:runs/.../iter-0012.pt", game))
    checkpoints/newest.pt  the newest network, the one to play (python -m engine.play GAME --checkpoint ...);
                           with eval.gating it is checkpoints/best.pt: the newest network that passed the gate
    replay-NNNN.npz        the replay window after iteration NNNN
    selfplay-NNNN.npz      the self-play games under way after iteration NNNN (continuous self-play)
    games/iter-NNNN.txt    self-play game records (.sgf for Go, .pgn for chess)
    metrics.csv            one row per iteration; tb/ TensorBoard logs; elo.png, losses.png
    README.txt             what these files are, and the two Elo figures:

The Elo of an iteration in ``metrics.csv`` (and on its summary line) is its rating when it was evaluated, fitted
to the games played until then; ``elo.png`` shows the latest fit, which rates every network again with all games
so far, so the two differ for every iteration but the last.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import datetime as _dt
import io
import math
import signal
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import agents as agents_mod
import games as games_mod
from agents import RandomAgent
from agents.alphazero import AlphaZeroAgent
from nets import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint

from ..cli import UserError, pin_threads, seed_everything
from ..config import apply_overrides, read_yaml, save_config
from ..core import atomic_path, atomic_write_text, derived_seed
from ..elo import fit_elo
from ..matches import random_openings, run_match
from .config import SelfPlayConfig, config_from_dict
from .learner import Learner, learning_rate
from .replay import ReplayBuffer
from .sources import Ahead, LocalGames
from .worker import SelfPlayWorker, build_net

CHECKPOINT_KIND = "alphazero-run"


def iteration_name(i: int) -> str:
    return f"iter{i}"


@contextlib.contextmanager
def deferred_interrupt():
    """Hold Ctrl-C while files are written; raise it once they are all on disk."""
    got = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: got.append(True))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if got:
            raise KeyboardInterrupt


def game_records(game, summaries, iteration: int, network: int) -> str:
    """The records of an iteration's self-play games (``GameSummary``), as written to ``games/iter-NNNN``: SGF for
    Go, PGN for chess, move lists otherwise; both sides are the network of iteration ``network``."""
    player = f"rlengine self-play, network of iteration {network}"  # PB/PW, White/Black
    return "\n".join(game.format_record(g.actions, {"first": player, "second": player, "iteration": iteration,
                                                    "game": k + 1, "ended by": g.reason})
                     for k, g in enumerate(summaries))


class SelfPlayRun:
    """An AlphaZero training run in a folder. Build with ``SelfPlayRun.create(cfg, seed)`` or
    ``SelfPlayRun.resume(folder)``; ``run()`` trains until ``run.iterations`` and returns the final summary."""

    def __init__(self, cfg: SelfPlayConfig, folder: Path, seed: int, console=None, progress: bool = True):
        from rich.console import Console

        self.cfg = cfg
        self.folder = Path(folder)
        self.seed = int(seed)
        self.console = console or Console(stderr=True)
        self.show_progress = progress and self.console.is_terminal
        pin_threads(cfg.run.threads)  # and tune_allocator
        try:
            self.game = games_mod.make(cfg.game.name, **cfg.game.options)
        except (ValueError, TypeError) as err:
            raise UserError(f"game: {err}") from None
        self.device = cfg.run.device
        seed_everything(derived_seed(self.seed, "init"))
        self.net = build_net(self.game, cfg)
        self.learner = Learner(self.net, cfg.train, self.device, cfg.run.precision)
        self.worker = SelfPlayWorker(self.game, cfg, net=build_net(self.game, cfg), device=self.device)
        self.games = LocalGames(self.worker)  # what plays each iteration's games (``use_workers``, ``use_ray``)
        self.ahead: Ahead | None = None    # pipelined: the next iteration's games, under way
        self.selfplay_network: int | None = None  # pipelined: the network that plays the next iteration
        self.replay = ReplayBuffer(cfg.replay.window, self.game.plane_shape, self.game.num_actions,
                                   aux=cfg.aux_targets)
        self.iteration = 0
        self.counters = {"games": 0, "positions": 0, "train_steps": 0, "seconds": 0.0, "selfplay_seconds": 0.0}
        self.elo_games: list[tuple[str, str, float]] = []
        self.metrics: list[dict] = []
        self.previous_iteration = 0        # the net the next evaluation plays as "previous"
        self.best_iteration = 0            # gating: the net that generates self-play data
        self._writer = None
        self.notes: list[str] = []         # lines for the user from create/resume, printed when the run starts

    # ------------------------------------------------------------------------------------------- create/resume
    @classmethod
    def create(cls, cfg: SelfPlayConfig, seed: int = 0, folder: str | Path | None = None, **kw) -> SelfPlayRun:
        if folder is None:
            name = cfg.run.name or f"{cfg.game.name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
            folder = Path(cfg.run.out_dir) / name
        folder = Path(folder)
        if (folder / "checkpoints" / "latest.pt").exists():
            raise UserError(f"run folder {folder} already holds a run; continue it with --resume {folder}")
        run = cls(cfg, folder, seed, **kw)
        (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        save_config(cfg, folder / "config.yaml")
        atomic_write_text(folder / "seed.txt", f"{run.seed}\n")
        atomic_write_text(folder / "README.txt", RUN_README.format(network=run.network_file().name))
        run._save_net(folder / "checkpoints" / "iter-0000.pt", 0)
        return run

    @classmethod
    def resume(cls, folder: str | Path, overrides: Sequence[str] = (), **kw) -> SelfPlayRun:
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"run folder {folder} does not exist")
        latest = folder / "checkpoints" / "latest.pt"
        data = read_yaml(folder / "config.yaml")
        data = apply_overrides(data, overrides, SelfPlayConfig)
        cfg = config_from_dict(data)
        seed_file = folder / "seed.txt"
        seed = int(seed_file.read_text().strip()) if seed_file.exists() else 0
        run = cls(cfg, folder, seed, **kw)
        if not latest.exists():  # killed during the first iteration: start it again
            if overrides:
                save_config(cfg, folder / "config.yaml")
            return run
        ckpt = read_checkpoint(latest)
        extra = ckpt.extra
        if extra.get("kind") != CHECKPOINT_KIND:
            raise CheckpointError(f"checkpoint {latest} is not an AlphaZero run checkpoint")
        if extra.get("game") != run.game.name:
            raise CheckpointError(f"checkpoint {latest} is for {extra.get('game')!r}, the run config says "
                                  f"{run.game.name!r}")
        load_checkpoint(latest, run.net, run.learner.optimizer)
        run.learner.step = ckpt.step
        run.iteration = int(extra["iteration"])
        run.counters = dict(extra["counters"])
        run.elo_games = [(a, b, float(s)) for a, b, s in extra["elo_games"]]
        run.metrics = [dict(r) for r in extra["metrics"]]
        run.previous_iteration = int(extra["previous_iteration"])
        run.best_iteration = int(extra["best_iteration"])
        run.selfplay_network = extra.get("selfplay_network")
        replay_path = folder / f"replay-{run.iteration:04d}.npz"
        run.replay, _ = ReplayBuffer.load(replay_path, cfg.replay.window, aux=cfg.aux_targets)
        run._load_pending(folder / f"selfplay-{run.iteration:04d}.npz")
        if overrides:  # the run now goes on with these settings: a later --resume (or Ctrl-C's line) needs them
            old = config_from_dict(read_yaml(folder / "config.yaml"))
            save_config(cfg, folder / "config.yaml")
            run.notes += _schedule_notes(old, cfg, run.iteration)
        return run

    def finished(self) -> str | None:
        """Why this run has nothing left to do (its iterations done, or its target reached), or None."""
        cfg = self.cfg
        if self.iteration >= cfg.run.iterations:
            return f"it has done its run.iterations={cfg.run.iterations} iterations"
        score = self._target_score()
        if score is not None:
            return (f"its network scored {score:.2f} against pure MCTS with {cfg.eval.mcts_simulations} rollouts at "
                    f"iteration {self.iteration}, at least run.target_mcts_score={cfg.run.target_mcts_score:g}")
        return None

    def _target_score(self) -> float | None:
        """The last evaluation's score against pure MCTS when it reached ``run.target_mcts_score``, else None."""
        target = self.cfg.run.target_mcts_score
        last = self.metrics[-1] if self.metrics else {}
        score = last.get("score_mcts", "")
        if target <= 0 or score in ("", None) or float(score) < target:
            return None
        return float(score)

    def network_file(self) -> Path:
        """The network to play: ``checkpoints/best.pt`` with gating (the newest that passed the gate), else
        ``checkpoints/newest.pt`` (the newest network)."""
        return self.folder / "checkpoints" / ("best.pt" if self.cfg.eval.gating else "newest.pt")

    def play_command(self) -> str:
        options = " ".join(f"{k}={v}" for k, v in self.cfg.game.options.items())
        return f"python -m engine.play {self.game.name}{' ' + options if options else ''} --checkpoint " \
               f"{self.network_file()}"

    def _load_pending(self, path: Path) -> None:
        """The games under way at the last saved iteration (continuous self-play); a run saved without them
        (made before continuous self-play, or with it off) simply starts new games."""
        if not (self.worker.continuous and path.is_file()):
            return
        try:
            with np.load(path, allow_pickle=False) as data:
                self.worker.load_pending({k: data[k] for k in data.files})
        except ValueError as err:
            raise CheckpointError(f"{path}: {err}") from None
        except Exception as err:  # a truncated or corrupt zip
            raise CheckpointError(f"{path} is corrupt or truncated ({type(err).__name__}: {err})") from None

    def start_from(self, path: str | Path) -> None:
        """A new run starts from the weights of a checkpoint of the same game and architecture (``--init``: the
        supervised stage first, then self-play); it becomes the run's network of iteration 0."""
        game = read_checkpoint(path).metadata.get("game")
        if game is not None and game != self.game.name:
            raise CheckpointError(f"checkpoint {path} was trained for {game}, this run plays {self.game.name}")
        load_checkpoint(path, self.net)
        self._save_net(self._net_path(0), 0)

    def use_ray(self, section=None):
        """Play the self-play games on Ray actors (``engine.distributed.RaySelfPlay``), pipelined with the learner."""
        from ..distributed.selfplay import RaySelfPlay

        self.games = RaySelfPlay(self.cfg, section, console=self.console)
        self.worker.pending = []  # the actors play whole games: nothing carries over
        return self.games

    def use_workers(self, workers: int):
        """Play the self-play games on ``workers`` local processes (``engine.distributed.ProcessSelfPlay``),
        pipelined with the learner; 0 keeps them in this process."""
        if workers < 1:
            return self.games
        from ..distributed.processes import ProcessSelfPlay

        self.games = ProcessSelfPlay(self.cfg, workers, console=self.console)
        self.worker.pending = []  # the workers play whole games: nothing carries over
        return self.games

    @property
    def pipelined(self) -> bool:
        """Self-play runs outside this process, beside the learner (``engine.alphazero.sources``)."""
        return not isinstance(self.games, LocalGames)

    # ------------------------------------------------------------------------------------------- helpers
    def _net_path(self, iteration: int) -> Path:
        return self.folder / "checkpoints" / f"iter-{iteration:04d}.pt"

    def _save_net(self, path: Path, iteration: int, net=None) -> None:
        save_checkpoint(path, net or self.net, step=self.learner.step, rng=False,
                        metadata={"game": self.game.name, "iteration": iteration, "kind": "alphazero-net",
                                  "simulations": self.cfg.eval.simulations, "gumbel": self.cfg.mcts.gumbel})

    def _weights(self, iteration: int, current: int) -> dict:
        """The weights of the network of ``iteration``: a copy of the learner's when it is ``current``, else the
        saved ones."""
        if iteration == current:
            return {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        return read_checkpoint(self._net_path(iteration)).model

    def _net_with(self, weights: dict):
        net = build_net(self.game, self.cfg)
        net.load_state_dict(weights)
        return net

    def _progress(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=self.console, transient=True, disable=not self.show_progress)

    @property
    def writer(self):
        if self._writer is None and self.cfg.run.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.folder / "tb"), purge_step=self.iteration + 1)
        return self._writer

    # ------------------------------------------------------------------------------------------- iteration
    def run_iteration(self) -> dict:
        cfg, game = self.cfg, self.game
        i = self.iteration + 1
        t0 = time.perf_counter()
        seed_everything(derived_seed(self.seed, i, "iteration"))
        # --- self-play
        source = self.best_iteration if cfg.eval.gating else self.iteration
        if self.pipelined:
            batch, source = self._pipelined_selfplay(i, source)
        else:
            with self._progress() as bar:
                task = bar.add_task(f"iteration {i}: self-play", total=cfg.selfplay.games_per_iteration)
                batch = self.games.play(self._weights(source, self.iteration), source,
                                        cfg.selfplay.games_per_iteration, derived_seed(self.seed, i, "selfplay"),
                                        progress=lambda g, p: bar.update(task, completed=g))
        sp = batch.stats
        self.replay.add_batch(batch)
        # --- training
        lr = learning_rate(cfg.train, i, cfg.run.iterations)
        self.learner.set_lr(lr)
        steps = 0
        if len(self.replay) >= cfg.replay.min_size:
            steps = math.ceil(cfg.train.replay_ratio * len(batch) / cfg.train.batch_size)
            if cfg.train.max_steps > 0:
                steps = min(steps, cfg.train.max_steps)
        rng = np.random.default_rng(derived_seed(self.seed, i, "train"))
        with self._progress() as bar:
            task = bar.add_task(f"iteration {i}: training", total=max(steps, 1))
            tr = self.learner.train(self.replay, steps, rng, game, cfg.replay.augment,
                                    progress=lambda s: bar.update(task, completed=s))
        # --- evaluation
        ev = {}
        every = cfg.eval.every
        if every > 0 and cfg.eval.games > 0 and (i % every == 0 or i == cfg.run.iterations):
            ev = self.evaluate(i)
        seconds = time.perf_counter() - t0
        self.counters["games"] += sp["games"]
        self.counters["positions"] += sp["positions"]
        self.counters["train_steps"] += steps
        self.counters["seconds"] += seconds
        self.counters["selfplay_seconds"] += sp["seconds"]
        row = {
            "iteration": i, "games": self.counters["games"], "positions": self.counters["positions"],
            "train_steps": self.counters["train_steps"], "replay_size": len(self.replay),
            "selfplay_games": sp["games"], "selfplay_positions": sp["positions"],
            "games_per_second": sp["games"] / sp["seconds"], "positions_per_second": sp["positions"] / sp["seconds"],
            "evaluations_per_second": sp["evaluations"] / sp["seconds"],
            "network_share": sp["network_seconds"] / sp["seconds"],
            "mean_game_length": sp["game_length"] / max(sp["games"], 1),
            "first_player_win_rate": sp["first_player_wins"] / max(sp["games"], 1),
            "draw_rate": sp["draws"] / max(sp["games"], 1),
            "resign_rate": sp["resigned"] / max(sp["games"], 1),
            "false_resign_rate": (sp["false_resigns"] / sp["playthrough_games"]) if sp["playthrough_games"] else "",
            "lr": lr, "loss": tr["loss"] if steps else "", "policy_loss": tr["policy_loss"] if steps else "",
            "value_loss": tr["value_loss"] if steps else "",
            "ownership_loss": tr.get("ownership_loss", "") if steps else "",
            "score_loss": tr.get("score_loss", "") if steps else "",
            "train_samples_per_second": tr["samples_per_second"],
            "selfplay_seconds": sp["seconds"], "train_seconds": tr["seconds"],
            "eval_seconds": ev.get("seconds", ""), "iteration_seconds": seconds,
        }
        if "chunks" in sp:  # a source of workers: its chunks and the ones played again after a worker died
            row["chunks"], row["resubmitted_chunks"] = sp["chunks"], sp["resubmitted_chunks"]
            row["selfplay_wait_seconds"] = sp.get("wait_seconds", "")
        for key in ("elo", "elo_ci95", "score_previous", "score_random", "score_mcts", "score_best",
                    "elo_mcts", "gate"):
            row[key] = ev.get(key, "")
        # --- save (Ctrl-C waits until every file of the iteration is on disk)
        with deferred_interrupt():
            self._save_iteration(i, batch, row, source)
        self._log(row)
        return row

    def _pipelined_selfplay(self, i: int, source: int):
        """Iteration ``i``'s games, played while the previous iteration trained (or now, after a start or resume),
        and the network that played them; then the start of iteration ``i + 1``'s with the network ``source``, the
        learner's as it is now."""
        cfg = self.cfg
        if self.ahead is None:  # nothing under way: the first iteration of this process
            network = source if self.selfplay_network is None else self.selfplay_network
            self.ahead = Ahead(self.games, self._weights(network, self.iteration), network, i,
                               cfg.selfplay.games_per_iteration, derived_seed(self.seed, i, "selfplay"))
        t0 = time.perf_counter()
        with self._progress() as bar:
            task = bar.add_task(f"iteration {i}: self-play ({self.games.workers} workers)",
                                total=cfg.selfplay.games_per_iteration, completed=self.ahead.games)
            batch = self.ahead.result(progress=lambda g: bar.update(task, completed=g))
        batch.stats["wait_seconds"] = time.perf_counter() - t0
        played_by, self.ahead = self.ahead.version, None
        self.selfplay_network = source
        if i < cfg.run.iterations:
            self.ahead = Ahead(self.games, self._weights(source, self.iteration), source, i + 1,
                               cfg.selfplay.games_per_iteration, derived_seed(self.seed, i + 1, "selfplay"))
        return batch, played_by

    def _eval_player(self, net, name: str, seed: int) -> AlphaZeroAgent:
        """A network's player in the evaluation games (``_eval_mcts``'s search, the run's device and precision)."""
        return AlphaZeroAgent(self.game, net, _eval_mcts(self.cfg, self.game), seed=seed, name=name,
                              device=self.device, precision=self.cfg.run.precision)

    def evaluate(self, i: int) -> dict:
        cfg, game = self.cfg, self.game
        t0 = time.perf_counter()
        n = cfg.eval.games
        name = iteration_name(i)
        new_player = self._eval_player(copy.deepcopy(self.net), name, derived_seed(self.seed, i, "eval-new"))
        records: list = []
        out: dict = {}
        opponents = []
        for opp in cfg.eval.opponents:
            if opp == "previous":
                opponents.append(("previous", self.previous_iteration))
            elif opp == "best":
                opponents.append(("best", self.best_iteration))
            else:
                opponents.append((opp, None))
        with self._progress() as bar:
            task = bar.add_task(f"iteration {i}: evaluation", total=n * len(opponents))
            done = 0
            for k, (kind, it) in enumerate(opponents):
                if kind in ("previous", "best"):
                    if kind == "best" and "previous" in cfg.eval.opponents and it == self.previous_iteration:
                        out["score_best"] = out.get("score_previous", "")
                        bar.update(task, completed=done + n)
                        done += n
                        continue
                    opp = self._eval_player(self._net_with(self._weights(it, current=i)), iteration_name(it),
                                            derived_seed(self.seed, i, "eval-opponent", k))
                elif kind == "random":
                    opp = RandomAgent(game, seed=derived_seed(self.seed, i, "random"))
                else:
                    opp = agents_mod.make(f"mcts:{cfg.eval.mcts_simulations}", game,
                                          seed=derived_seed(self.seed, i, "mcts"))
                rng = np.random.default_rng(derived_seed(self.seed, i, "eval", k))
                openings = random_openings(game, (n + 1) // 2, cfg.eval.opening_moves, rng)
                match = run_match(game, {name: new_player, opp.name: opp}, n, starts=openings,
                                  progress=lambda d, base=done: bar.update(task, completed=base + d))
                done += n
                records += match.records
                out[f"score_{kind}"] = match.score(name)
        self.elo_games += records
        anchor = "random" if any("random" in (a, b) for a, b, _ in self.elo_games) else None
        ratings = fit_elo(self.elo_games, anchor=anchor)
        if name in ratings:
            out["elo"] = ratings[name].elo
            out["elo_ci95"] = ratings[name].ci95 if math.isfinite(ratings[name].ci95) else ""
        mcts_name = f"mcts:{cfg.eval.mcts_simulations}"
        if mcts_name in ratings:
            out["elo_mcts"] = ratings[mcts_name].elo
        self.previous_iteration = i
        if cfg.eval.gating:
            score = out.get("score_best", out.get("score_previous"))
            passed = score == "" or score is None or score >= cfg.eval.gating_threshold
            if passed:
                self.best_iteration = i
            out["gate"] = int(passed)
        else:
            self.best_iteration = i
        out["seconds"] = time.perf_counter() - t0
        self.ratings = ratings
        return out

    def _save_iteration(self, i: int, batch, row: dict, network: int) -> None:
        folder = self.folder
        self.metrics.append(row)
        # game records
        if self.cfg.selfplay.save_games != 0:
            keep = batch.games if self.cfg.selfplay.save_games < 0 else batch.games[: self.cfg.selfplay.save_games]
            atomic_write_text(folder / "games" / f"iter-{i:04d}{self.game.record_extension}",
                              game_records(self.game, keep, i, network))
        # replay first, then the checkpoint that names its iteration: a crash between leaves the old pair
        self.replay.save(folder / f"replay-{i:04d}.npz", {"iteration": i})
        if self.worker.pending:
            with atomic_path(folder / f"selfplay-{i:04d}.npz") as tmp, open(tmp, "wb") as f:
                np.savez_compressed(f, **self.worker.pending_arrays())
        self._save_net(self._net_path(i), i)
        extra = {"kind": CHECKPOINT_KIND, "game": self.game.name, "iteration": i, "counters": self.counters,
                 "elo_games": [list(r) for r in self.elo_games], "metrics": self.metrics,
                 "previous_iteration": self.previous_iteration, "best_iteration": self.best_iteration,
                 "selfplay_network": self.selfplay_network}
        save_checkpoint(folder / "checkpoints" / "latest.pt", self.net, self.learner.optimizer,
                        step=self.learner.step, extra=extra,
                        metadata={"game": self.game.name, "iteration": i, "kind": CHECKPOINT_KIND})
        self.iteration = i
        playable = self._net_path(self.best_iteration if self.cfg.eval.gating else i)
        if playable.exists():
            atomic_write_bytes_copy(playable, self.network_file())
        (folder / f"replay-{i - 1:04d}.npz").unlink(missing_ok=True)
        (folder / f"selfplay-{i - 1:04d}.npz").unlink(missing_ok=True)
        if not self.cfg.run.keep_checkpoints:
            for k in range(1, i):
                if k not in (self.previous_iteration, self.best_iteration, self.selfplay_network):
                    self._net_path(k).unlink(missing_ok=True)
        self._write_metrics()

    def _write_metrics(self) -> None:
        if not self.metrics:
            return
        fields = list(self.metrics[0])
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in self.metrics:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        atomic_write_text(self.folder / "metrics.csv", buf.getvalue())

    def _log(self, row: dict) -> None:
        i = row["iteration"]
        if self.writer is not None:
            groups = {"selfplay": ("games_per_second", "positions_per_second", "evaluations_per_second",
                                   "network_share", "mean_game_length", "first_player_win_rate", "draw_rate",
                                   "resign_rate", "false_resign_rate"),
                      "losses": ("loss", "policy_loss", "value_loss", "ownership_loss", "score_loss"),
                      "train": ("lr", "train_samples_per_second"),
                      "eval": ("elo", "elo_ci95", "score_previous", "score_random", "score_mcts", "score_best",
                               "elo_mcts")}
            for group, keys in groups.items():
                for k in keys:
                    v = row.get(k, "")
                    if v != "" and v is not None:
                        self.writer.add_scalar(f"{group}/{k}", float(v), i)
            self.writer.flush()
        if self.cfg.run.plots:
            from .plots import write_plots

            write_plots(self.metrics, self.folder, getattr(self, "ratings", None))
        self.console.print(summary_line(row, self.cfg), highlight=False, soft_wrap=True)

    # ------------------------------------------------------------------------------------------- loop
    def run(self) -> dict:
        cfg = self.cfg
        t_start = time.perf_counter()
        stopped = "done"
        target = cfg.run.target_mcts_score
        goal = (f"until its network scores >= {target:g} against pure MCTS with {cfg.eval.mcts_simulations} "
                f"rollouts, at most to iteration {cfg.run.iterations}" if target > 0 else
                f"iterations {self.iteration + 1}..{cfg.run.iterations}")
        self.console.print(f"run folder {self.folder} | {self.game.name} | net {cfg.net.blocks}x{cfg.net.channels} | "
                           f"{cfg.mcts.simulations} simulations{' (Gumbel)' if cfg.mcts.gumbel else ''} | "
                           f"{cfg.selfplay.games_per_iteration} games/iteration, {cfg.selfplay.parallel_games} at once"
                           f" | {goal}", highlight=False)
        for note in self.notes:
            self.console.print(note, highlight=False)
        try:
            done = 0
            while self.finished() is None:
                row = self.run_iteration()
                done += 1
                if done == 2 and target > 0 and self._target_score() is None:  # the first one also compiles
                    left = cfg.run.iterations - self.iteration
                    self.console.print(f"at this speed ({row['iteration_seconds']:.0f} s an iteration) the cap of "
                                       f"{cfg.run.iterations} iterations is {left * row['iteration_seconds'] / 60:.0f} "
                                       f"minutes away; the run stops before it when the target is reached",
                                       highlight=False)
                if self._target_score() is not None:
                    stopped = "target_reached"
                    break
                limit = cfg.run.time_limit_minutes
                if limit > 0 and time.perf_counter() - t_start > 60 * limit:
                    stopped = "time_limit"
                    break
        except KeyboardInterrupt:
            stopped = "interrupted"
            self.console.print(f"interrupted: {self.folder} holds iteration {self.iteration}; continue with "
                               f"python -m engine.selfplay --resume {self.folder}", highlight=False)
        finally:
            self.games.close()
            if self._writer is not None:
                self._writer.close()
        last = self.metrics[-1] if self.metrics else {}
        network = self.network_file() if self.network_file().exists() else None
        if stopped == "target_reached":
            self.console.print(f"target reached: {self.finished()}", highlight=False)
        if network is not None and stopped != "interrupted":
            self.console.print(f"play it: {self.play_command()}", highlight=False)
        return {"run_dir": str(self.folder), "game": self.game.name, "iterations": self.iteration,
                "stopped": stopped, **{k: self.counters[k] for k in ("games", "positions", "train_steps")},
                "seconds": round(self.counters["seconds"], 1),
                "elo": _num(last.get("elo")), "score_random": _num(last.get("score_random")),
                "score_mcts": _num(last.get("score_mcts")), "score_previous": _num(last.get("score_previous")),
                "checkpoint": None if network is None else str(network)}


def _schedule_notes(old: SelfPlayConfig, new: SelfPlayConfig, iteration: int) -> list[str]:
    """What a resume with new settings does to the learning rate: the schedule is a function of the iteration and
    ``run.iterations``, so extending a cosine run raises the rate of the coming iterations."""
    if iteration < 1 or iteration >= new.run.iterations:
        return []
    before = learning_rate(old.train, iteration, old.run.iterations)
    after = learning_rate(new.train, iteration + 1, new.run.iterations)
    if math.isclose(before, after, rel_tol=0.05):
        return []
    how = (f"the cosine schedule now spans iterations 1..{new.run.iterations}"
           if new.train.lr_schedule == "cosine" else f"the {new.train.lr_schedule} schedule of the new settings")
    return [f"learning rate: iteration {iteration} trained at {before:.3g}; {how}, so iteration {iteration + 1} "
            f"trains at {after:.3g} (to keep it lower, resume with train.lr_schedule=constant train.lr={before:.3g})"]


RUN_README = """An AlphaZero run of python -m engine.selfplay (continue it: python -m engine.selfplay --resume FOLDER).

config.yaml            the settings in effect (a --resume with key=value changes rewrites it)
checkpoints/{network:<14} the network to play: python -m engine.play GAME --checkpoint checkpoints/{network}
                       (newest.pt: the newest network; best.pt, with eval.gating: the newest that passed the gate)
checkpoints/latest.pt  everything --resume needs (weights, optimizer, counters, Elo games, random states)
checkpoints/iter-NNNN.pt  the network of iteration NNNN
metrics.csv            one row per iteration
elo.png, losses.png    plots; tb/ TensorBoard logs; games/ self-play records; replay-NNNN.npz the replay window

Two Elo figures: the elo column of metrics.csv (and the summary line of each iteration) is each network's rating
when it was evaluated, fitted to the games played until then. elo.png shows the latest fit, which rates every
network again with all the games played since, so the plotted values differ from metrics.csv except at the last
iteration. Both put the random player at 0.
"""


def _num(v):
    return None if v in ("", None) else round(float(v), 4)


def _eval_mcts(cfg: SelfPlayConfig, game):
    """The search of the network players in evaluation games: the run's search at ``eval.simulations`` without
    noise, with decisive and anti-decisive moves where the game asks for them, as the AlphaZero player that
    ``engine.play`` and ``agents.make`` give a user searches (``agents.alphazero.play_config``)."""
    import dataclasses

    decisive = cfg.mcts.decisive_moves or bool(getattr(game, "decisive_moves", False))
    return dataclasses.replace(cfg.mcts, simulations=cfg.eval.simulations, decisive_moves=decisive).for_play()


def atomic_write_bytes_copy(src: Path, dst: Path) -> None:
    from ..core import atomic_write_bytes

    atomic_write_bytes(dst, src.read_bytes())


def summary_line(row: dict, cfg: SelfPlayConfig) -> str:
    def f(key, fmt):
        v = row.get(key, "")
        return "-" if v in ("", None) else format(v, fmt)

    parts = [f"iter {row['iteration']:>3}/{cfg.run.iterations}",
             f"{row['selfplay_games']} games {f('games_per_second', '.2f')}/s "
             f"{f('positions_per_second', '.0f')} pos/s (net {100 * row['network_share']:.0f}%)",
             f"replay {row['replay_size']}",
             f"loss {f('loss', '.3f')} (pi {f('policy_loss', '.3f')} v {f('value_loss', '.3f')}) lr {row['lr']:.3g}"]
    if row.get("elo", "") != "":
        ci = row.get("elo_ci95", "")
        parts.append(f"Elo {row['elo']:.0f}{'' if ci == '' else f' ±{ci:.0f}'}")
        scores = []
        for key, label in (("score_previous", "prev"), ("score_random", "random"),
                           ("score_mcts", f"mcts{cfg.eval.mcts_simulations}")):
            if row.get(key, "") != "":
                scores.append(f"{label} {100 * row[key]:.0f}%")
        parts.append("vs " + " ".join(scores))
    parts.append(f"{row['iteration_seconds']:.0f}s")
    return " | ".join(parts)
