"""The replay buffer: a sliding window over the most recent self-play positions.

AlphaGo Zero trained on the positions of the last 500,000 games; here the window counts positions. The arrays
are allocated once at ``capacity`` rows and used as a ring. Planes are stored as ``float16`` (exact for the 0/1
planes of every game here and for integers up to 2,048), targets as float32. Random board symmetries are
applied when a batch is sampled (``augment``), to planes and policy together, so the window holds each position
once.

``save`` writes the window (oldest first) with ``numpy.savez`` atomically; ``load`` restores it exactly,
including the counter of positions ever added, so that a resumed run samples the same batches.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..cli import UserError
from ..core import atomic_path

FORMAT = "rlengine-replay"


class ReplayError(UserError):
    """A replay file that cannot be used (missing, corrupt, or for another game)."""


class ReplayBuffer:
    """Ring buffer of ``(planes, policy, value, result)`` examples.

    Args:
        capacity: positions kept (the window).
        plane_shape: ``(C, H, W)`` of the game's planes.
        num_actions: A.
    """

    def __init__(self, capacity: int, plane_shape, num_actions: int, plane_dtype=np.float16):
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.plane_shape = tuple(int(x) for x in plane_shape)
        self.num_actions = int(num_actions)
        self.planes = np.zeros((self.capacity, *self.plane_shape), plane_dtype)
        self.policy = np.zeros((self.capacity, self.num_actions), np.float32)
        self.value = np.zeros(self.capacity, np.float32)
        self.result = np.zeros(self.capacity, np.int8)
        self.size = 0          # rows filled
        self.next = 0          # row written next
        self.total_added = 0   # positions ever added

    def __len__(self) -> int:
        return self.size

    def add(self, planes: np.ndarray, policy: np.ndarray, value: np.ndarray, result: np.ndarray) -> None:
        """Append N examples (the oldest are overwritten once the window is full)."""
        n = len(value)
        if not (len(planes) == len(policy) == len(result) == n):
            raise ValueError("planes, policy, value and result must have the same length")
        if n == 0:
            return
        if tuple(planes.shape[1:]) != self.plane_shape or policy.shape[1] != self.num_actions:
            raise ValueError(f"examples of shape {planes.shape[1:]} / {policy.shape[1]} actions do not fit a buffer "
                             f"of {self.plane_shape} / {self.num_actions}")
        if n > self.capacity:  # only the last `capacity` survive
            planes, policy, value, result = planes[-self.capacity:], policy[-self.capacity:], value[-self.capacity:], \
                result[-self.capacity:]
            self.total_added += n - self.capacity
            n = self.capacity
        idx = (self.next + np.arange(n)) % self.capacity
        self.planes[idx] = planes
        self.policy[idx] = policy
        self.value[idx] = value
        self.result[idx] = result
        self.next = int((self.next + n) % self.capacity)
        self.size = min(self.capacity, self.size + n)
        self.total_added += n

    def add_batch(self, batch) -> None:
        """Append a ``SelfPlayBatch``."""
        self.add(batch.planes, batch.policy, batch.value, batch.result)

    def sample(self, batch_size: int, rng: np.random.Generator, game=None, augment: bool = True):
        """A batch drawn uniformly with replacement: ``(planes float32[n, C, H, W], policy float32[n, A],
        value float32[n], result int8[n])``; with ``game`` and ``augment`` each example gets a random symmetry
        of the game (the same one for its planes and its policy)."""
        if self.size == 0:
            raise ValueError("the replay buffer is empty")
        idx = rng.integers(0, self.size, size=batch_size)
        planes = self.planes[idx].astype(np.float32)
        policy = self.policy[idx]
        if augment and game is not None and game.num_symmetries > 1:
            sym = rng.integers(0, game.num_symmetries, size=batch_size)
            for k in range(1, game.num_symmetries):
                rows = np.flatnonzero(sym == k)
                if rows.size:
                    planes[rows] = game.transform_planes(planes[rows], k)
                    policy[rows] = game.transform_policy(policy[rows], k)
        return planes, policy, self.value[idx], self.result[idx]

    def _ordered(self) -> np.ndarray:
        """Row indices oldest first."""
        if self.size < self.capacity:
            return np.arange(self.size)
        return (self.next + np.arange(self.capacity)) % self.capacity

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: str | Path, metadata: dict | None = None) -> Path:
        """Write the window atomically (``.npz``); ``metadata`` (plain JSON) is stored with it."""
        order = self._ordered()
        meta = {"format": FORMAT, "capacity": self.capacity, "total_added": self.total_added,
                "plane_shape": list(self.plane_shape), "num_actions": self.num_actions, **(metadata or {})}
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, planes=self.planes[order], policy=self.policy[order], value=self.value[order],
                     result=self.result[order], meta=np.frombuffer(json.dumps(meta).encode(), np.uint8))
        return path

    @classmethod
    def load(cls, path: str | Path, capacity: int | None = None) -> tuple[ReplayBuffer, dict]:
        """Read a window saved by ``save``; ``capacity`` (default: the saved one) may differ. Returns the buffer
        and its metadata."""
        path = Path(path)
        if not path.is_file():
            raise ReplayError(f"replay file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                arrays = {k: data[k] for k in ("planes", "policy", "value", "result")}
        except (OSError, ValueError, KeyError, EOFError, json.JSONDecodeError) as err:
            raise ReplayError(f"replay file {path} is corrupt or truncated ({type(err).__name__}: {err})") from None
        except Exception as err:  # zipfile.BadZipFile and friends
            raise ReplayError(f"replay file {path} is corrupt or truncated ({type(err).__name__}: {err})") from None
        if meta.get("format") != FORMAT:
            raise ReplayError(f"{path} is not an rlengine replay file")
        buf = cls(capacity or meta["capacity"], meta["plane_shape"], meta["num_actions"], arrays["planes"].dtype)
        buf.add(arrays["planes"], arrays["policy"], arrays["value"], arrays["result"])
        buf.total_added = int(meta["total_added"])
        return buf, meta
