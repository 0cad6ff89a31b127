"""Labelled positions on disk: shards of ``.npz`` files and a manifest, and the dataset read back from them.

A data folder holds ``manifest.json`` (the game, where the positions came from, and the list of finished shards
in order) and ``shard-NNNNN.npz`` files, each written atomically. A shard holds, per position (N rows):

    states    [N, S]    the game's own state array (encoded into planes when a batch is drawn)
    actions   [N, K]    int32, the policy target's moves (-1 pads), probs [N, K] float32 their probabilities
    best      [N, K]    int32, the moves that count as right for top-1/top-3 agreement (-1 pads)
    value     [N]       float32, the value target from the mover's view in [-1, 1]
    result    [N]       int8, the game's (or the exact) result from the mover's view: +1 / 0 / -1
    game      [N]       int64, a game id unique in the folder (the held-out split is by game)
    ply       [N]       int16, the position's ply in its game

Only shards listed in the manifest count: a shard written by a run that stopped before recording it is made
again. ``--data DIR`` reads a folder back (``load_dataset``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from ..cli import UserError
from ..core import atomic_path, atomic_write_text

FORMAT = "rlengine-supervised-data"
MANIFEST = "manifest.json"
GAME_ID_STRIDE = 1 << 20  # game id = shard index * stride + game index in the shard


class DataError(UserError):
    """A data folder or shard that cannot be used."""


class ShardBuilder:
    """Collects labelled positions game by game, then writes one shard."""

    def __init__(self, game, shard_index: int):
        self.game = game
        self.shard_index = int(shard_index)
        self.rows: list[tuple] = []
        self.games = 0

    def add_game(self, positions: list[tuple]) -> None:
        """``positions``: (state, actions, probs, best, value, result, ply) of one game (in order)."""
        gid = self.shard_index * GAME_ID_STRIDE + self.games
        self.games += 1
        for p in positions:
            self.rows.append((*p, gid))

    def __len__(self) -> int:
        return len(self.rows)

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.rows)
        k = max([len(r[1]) for r in self.rows] + [len(r[3]) for r in self.rows] + [1])
        size = len(self.game.initial_state())
        out = {
            "states": np.zeros((n, size), self.game.initial_state().dtype),
            "actions": np.full((n, k), -1, np.int32), "probs": np.zeros((n, k), np.float32),
            "best": np.full((n, k), -1, np.int32), "value": np.zeros(n, np.float32), "result": np.zeros(n, np.int8),
            "game": np.zeros(n, np.int64), "ply": np.zeros(n, np.int16),
        }
        for i, (state, actions, probs, best, value, result, ply, gid) in enumerate(self.rows):
            out["states"][i] = state
            out["actions"][i, :len(actions)] = actions
            out["probs"][i, :len(probs)] = probs
            out["best"][i, :len(best)] = best
            out["value"][i], out["result"][i], out["game"][i], out["ply"][i] = value, result, gid, ply
        return out

    def write(self, folder: Path) -> Path:
        path = Path(folder) / shard_name(self.shard_index)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **self.arrays())
        return path


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.npz"


# ------------------------------------------------------------------------------------------------ manifest
def read_manifest(folder: Path) -> dict | None:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path} is not readable ({err})") from None
    if data.get("format") != FORMAT:
        raise DataError(f"{path} is not an rlengine supervised data manifest")
    return data


def new_manifest(game, source: dict) -> dict:
    return {"format": FORMAT, "game": game.name, "plane_shape": list(game.plane_shape),
            "num_actions": game.num_actions, "source": source, "shards": [], "totals": {}}


def write_manifest(folder: Path, manifest: dict) -> None:
    shards = manifest["shards"]
    keys = ("positions", "games", "dropped", "opening_ends")
    manifest["totals"] = {k: sum(s.get(k, 0) for s in shards) for k in keys}
    atomic_write_text(Path(folder) / MANIFEST, json.dumps(manifest, indent=1) + "\n")


# ------------------------------------------------------------------------------------------------ dataset
@dataclass
class Dataset:
    """All positions of a data folder in memory (see the module docstring for the fields)."""

    states: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    best: np.ndarray
    value: np.ndarray
    result: np.ndarray
    game: np.ndarray
    ply: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    def subset(self, rows: np.ndarray) -> Dataset:
        return Dataset(**{k: getattr(self, k)[rows] for k in self.__dataclass_fields__})

    def split(self, holdout: float, seed: int) -> tuple[Dataset, Dataset]:
        """(train, held-out): whole games go to one side, a share ``holdout`` of the games held out."""
        games = np.unique(self.game)
        rng = np.random.default_rng(seed)
        n_out = int(round(holdout * len(games))) if len(games) > 1 else 0
        if holdout > 0 and len(games) > 1:
            n_out = min(max(n_out, 1), len(games) - 1)
        held = rng.choice(games, size=n_out, replace=False) if n_out else np.zeros(0, np.int64)
        mask = np.isin(self.game, held)
        return self.subset(np.flatnonzero(~mask)), self.subset(np.flatnonzero(mask))


def load_dataset(folder: Path, game) -> tuple[Dataset, dict]:
    """Every shard of the manifest of ``folder``, checked against ``game``; (dataset, manifest)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise DataError(f"{folder} holds no supervised data ({MANIFEST} is missing)")
    if manifest["game"] != game.name or tuple(manifest["plane_shape"]) != tuple(game.plane_shape):
        raise DataError(f"data in {folder} is for {manifest['game']} {tuple(manifest['plane_shape'])}, not "
                        f"{game.name} {tuple(game.plane_shape)}")
    parts: list[dict] = []
    for entry in manifest["shards"]:
        path = folder / entry["file"]
        try:
            with np.load(path, allow_pickle=False) as data:
                parts.append({k: data[k] for k in data.files})
        except FileNotFoundError:
            raise DataError(f"shard {path} listed in the manifest is missing") from None
        except Exception as err:  # a truncated zip and friends
            raise DataError(f"shard {path} is corrupt ({type(err).__name__}: {err})") from None
    if not parts or sum(len(p["value"]) for p in parts) == 0:
        raise DataError(f"{folder} holds no positions")
    return _concat(parts), manifest


def load_datasets(folders, game) -> tuple[Dataset, list[dict]]:
    """Every position of several data folders (e.g. a teacher's games at several levels) as one dataset; the
    game ids of folder ``k`` are offset by ``k * FOLDER_ID_STRIDE`` so that games stay apart in the held-out
    split. Returns (dataset, the folders' manifests)."""
    parts, manifests = [], []
    for k, folder in enumerate(folders):
        ds, manifest = load_dataset(folder, game)
        part = {name: getattr(ds, name) for name in _FIELDS}
        part["game"] = part["game"] + k * FOLDER_ID_STRIDE
        parts.append(part)
        manifests.append(manifest)
    if not parts:
        raise DataError("no data folder given")
    return (_concat(parts) if len(parts) > 1 else load_dataset(folders[0], game)[0]), manifests


_FIELDS = ("states", "actions", "probs", "best", "value", "result", "game", "ply")
FOLDER_ID_STRIDE = 1 << 44  # game ids of the k-th folder of load_datasets: k * stride + the id in its folder


def _concat(parts: list[dict]) -> Dataset:
    """One dataset from shards' (or datasets') arrays, the (action, probability) columns padded to the widest."""
    k = max(p["actions"].shape[1] for p in parts)
    kb = max(p["best"].shape[1] for p in parts)

    def pad(a, width, fill):
        return a if a.shape[1] == width else np.concatenate(
            [a, np.full((len(a), width - a.shape[1]), fill, a.dtype)], axis=1)

    ds = Dataset(states=np.concatenate([p["states"] for p in parts]),
                 actions=np.concatenate([pad(p["actions"], k, -1) for p in parts]),
                 probs=np.concatenate([pad(p["probs"], k, 0) for p in parts]),
                 best=np.concatenate([pad(p["best"], kb, -1) for p in parts]),
                 value=np.concatenate([p["value"] for p in parts]),
                 result=np.concatenate([p["result"] for p in parts]),
                 game=np.concatenate([p["game"] for p in parts]),
                 ply=np.concatenate([p["ply"] for p in parts]))
    return ds


# ------------------------------------------------------------------------------------------------ batches
@njit(cache=True)
def _encode_rows(encode, legal_mask, params, states, rows, planes, legal):
    for i in range(len(rows)):
        encode(params, states[rows[i]], planes[i])
        legal_mask(params, states[rows[i]], legal[i])


def encode_batch(game, states: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(planes float32[n, C, H, W], legal bool[n, A]) of ``states[rows]``, in one compiled loop."""
    n = len(rows)
    planes = np.zeros((n, *game.plane_shape), np.float32)
    legal = np.zeros((n, game.num_actions), np.bool_)
    _encode_rows(game.rules.encode, game.rules.legal_mask, game.params, states, np.ascontiguousarray(rows, np.int64),
                 planes, legal)
    return planes, legal


def dense_policy(actions: np.ndarray, probs: np.ndarray, num_actions: int) -> np.ndarray:
    """float32[n, A] from the padded (action, probability) pairs."""
    out = np.zeros((len(actions), num_actions), np.float32)
    r, c = np.nonzero(actions >= 0)
    out[r, actions[r, c]] = probs[r, c]
    return out


def make_batch(game, ds: Dataset, rows: np.ndarray, rng: np.random.Generator | None, augment: bool):
    """Planes, dense policy, value, result and legal mask of ``rows``, each with a random symmetry of the game
    when ``augment`` (the same one for its planes, policy and legal mask)."""
    planes, legal = encode_batch(game, ds.states, rows)
    policy = dense_policy(ds.actions[rows], ds.probs[rows], game.num_actions)
    if augment and rng is not None and game.num_symmetries > 1:
        sym = rng.integers(0, game.num_symmetries, size=len(rows))
        for k in range(1, game.num_symmetries):
            sel = np.flatnonzero(sym == k)
            if sel.size:
                planes[sel] = game.transform_planes(planes[sel], k)
                policy[sel] = game.transform_policy(policy[sel], k)
    return planes, policy, ds.value[rows], ds.result[rows], legal
