"""The game API shared by search, training, the UI and the protocols.

A game is two layers:

* **Rules**: pure Numba ``@njit`` functions over flat numpy arrays. A position (``state``) is a 1-D array
  of the game's own dtype and length; ``params`` is a 1-D ``int64`` array of the game's configuration
  (board size, komi, ...) so that a board size is an argument, never a global. The search compiles
  against these functions and never sees a Python object. The contract (every function takes ``params``
  first)::

      init_state(params) -> state                      # allocates; not on the hot path
      legal_mask(params, state, out) -> int             # out: bool[A]; returns the number of legal actions
      apply(params, state, action) -> None              # in place; action must be legal
      outcome(params, state) -> int                     # ONGOING, or +1 / 0 / -1 from the first player's view
      to_play(params, state) -> int                     # 0 = first player, 1 = second
      encode(params, state, out) -> None                # out: float32[C, H, W], from the mover's view
      state_hash(params, state) -> int64                # position identity (transpositions, caches)

* **Game**: a thin Python facade for tools and people: checked moves with clear errors, notation,
  rendering, metadata and symmetries.

Values follow one convention everywhere: ``outcome``/``result`` are from the first player's view; the
search converts them to the view of the player to move.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections import namedtuple
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

ONGOING = 2
"""``outcome`` of a position whose game is not over."""

Rules = namedtuple(
    "Rules", ["init_state", "legal_mask", "apply", "outcome", "to_play", "encode", "state_hash"]
)
Rules.__doc__ = "The Numba kernels of one game (see the module docstring for their contract)."


def pin_rules_identity(rules: Rules, sources: Iterable[str | Path] | None = None) -> None:
    """Give each kernel of ``rules`` an identity that is the same in every process, so that Numba's on-disk cache
    finds the compiled code of functions that take ``rules`` as an argument (search, perft, solver).

    Numba keys a cached function by its argument types, and the type of a kernel passed as an argument names
    the kernel's dispatcher by an id drawn at random in each process: without this every process compiles
    the search again (a minute per game). The id is built from the kernel's module and name and a digest of
    the game's source files (``sources``; default: the ``.py`` files beside each kernel's module), so editing
    the rules gives new ids and never loads stale code. Kernels that already have an id are left alone.
    Relies on Numba's ``_MemoMixin`` internals; when they change, caching across processes is simply lost.
    """
    files = set()
    if sources is None:
        for kernel in rules:
            module = sys.modules.get(getattr(kernel.py_func, "__module__", ""), None)
            path = getattr(module, "__file__", None)
            if path:
                files.update(Path(path).parent.glob("*.py"))
    else:
        files.update(Path(p) for p in sources)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    tag = digest.hexdigest()[:16]
    for kernel in rules:
        try:
            if kernel._MemoMixin__uuid is None:
                kernel._set_uuid(f"rlengine:{kernel.py_func.__module__}.{kernel.py_func.__qualname__}:{tag}")
        except AttributeError:  # another Numba: no stable identity, only slower start-up
            return


_STAMPED_PACKAGES: set[Path] = set()


def cache_by_package(init_file: str | Path) -> None:
    """Make Numba's on-disk cache of every kernel defined in the package of ``init_file`` (its ``__init__.py``;
    call this before the package's modules are imported) depend on all the ``.py`` files of that package.

    Numba checks a cached kernel against its own source file only, so a kernel that calls kernels of another file
    would keep running stale copies of them after an edit there. With this, kernels can be split across the
    files of one package by concept. Relies on Numba's cache locators; when they change, it does nothing (and a
    stale cache after editing another file is again possible: clear ``__pycache__``).
    """
    _STAMPED_PACKAGES.add(Path(init_file).resolve().parent)
    try:
        from numba.core import caching

        locators = caching.CacheImpl._locator_classes
        if any(getattr(cls, "_rlengine_stamped", False) for cls in locators):
            return
        stamped = [_stamped_locator(cls) for cls in locators if issubclass(cls, caching._SourceFileBackedLocatorMixin)]
        locators[:0] = stamped
    except (ImportError, AttributeError):
        pass


def _package_stamp(directory: Path) -> str:
    """A digest of the ``.py`` files of ``directory`` (names and contents)."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        st = path.stat()
        h.update(path.name.encode() + b"\0" + _file_digest(path, st.st_mtime_ns, st.st_size))
    return h.hexdigest()


@functools.cache
def _file_digest(path: Path, mtime_ns: int, size: int) -> bytes:
    """The digest of a file's contents (memoised by its modification time and size, as Numba does)."""
    return hashlib.sha256(path.read_bytes()).digest()


def _stamped_locator(base):
    """``base`` (a Numba cache locator), stamped with the whole package of the function's file."""

    class PackageStamped(base):
        _rlengine_stamped = True

        @classmethod
        def from_function(cls, py_func, py_file):
            if Path(py_file).resolve().parent not in _STAMPED_PACKAGES:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return (super().get_source_stamp(), _package_stamp(Path(self._py_file).resolve().parent))

    PackageStamped.__name__ = PackageStamped.__qualname__ = f"PackageStamped{base.__name__}"
    return PackageStamped


class IllegalMove(ValueError):
    """A move that is malformed or not legal in the position; the message names the move and why."""


class Game:
    """Python facade over one game's Numba rules.

    Subclasses set the metadata and implement ``parse_move``, ``format_move``, ``render`` and
    ``transform_state``; everything else comes from the rules.
    """

    name: str = "game"
    rules: Rules
    params: np.ndarray
    num_actions: int
    plane_shape: tuple[int, int, int]
    max_game_length: int
    num_players: int = 2
    player_names: tuple[str, str] = ("first", "second")
    num_symmetries: int = 1
    record_format: str = "moves"  # how games are saved: "moves", "sgf" or "pgn"
    # Dirichlet alpha for root noise, scaled to the typical number of legal moves (AlphaZero: 10 / moves).
    dirichlet_alpha: float = 0.3
    # The most legal actions any position can have (None: num_actions); the search keeps this many edge slots
    # per node, so a bound far below num_actions (chess: 218 of 4,672) saves memory and selection time.
    max_legal_actions: int | None = None
    # Whether the AlphaZero player searches with decisive and anti-decisive moves (``MCTSConfig.decisive_moves``):
    # a two-ply look-ahead at every expansion, cheap where positions have few moves and games end on one move.
    decisive_moves: bool = False
    # Whether a finished game defines KataGo's auxiliary targets (Wu 2019): the final owner of each board point
    # (``ownership``) and the final score margin (``score_margin``); Go only.
    has_ownership: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        rules = cls.__dict__.get("rules")
        if isinstance(rules, Rules):
            pin_rules_identity(rules)  # before anything pickles the kernels (see the function)

    # ----------------------------------------------------------------------------- rules, checked
    def initial_state(self) -> np.ndarray:
        return self.rules.init_state(self.params)

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        self.rules.legal_mask(self.params, state, mask)
        return mask

    def legal_actions(self, state: np.ndarray) -> list[int]:
        return [int(a) for a in np.flatnonzero(self.legal_mask(state))]

    def apply(self, state: np.ndarray, action: int) -> np.ndarray:
        """Return the position after ``action``; the given state is left unchanged."""
        action = self._check_action(state, action)
        child = state.copy()
        self.rules.apply(self.params, child, action)
        return child

    def _check_action(self, state: np.ndarray, action) -> int:
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise IllegalMove(f"action {action!r} is not an integer action index")
        action = int(action)
        if not 0 <= action < self.num_actions:
            raise IllegalMove(f"action {action} is out of range 0..{self.num_actions - 1} for {self.name}")
        if self.is_terminal(state):
            raise IllegalMove(f"move {self.format_move(state, action)} after the game is over")
        if not self.legal_mask(state)[action]:
            raise IllegalMove(f"move {self.format_move(state, action)} is illegal: {self._why_illegal(state, action)}")
        return action

    def _why_illegal(self, state: np.ndarray, action: int) -> str:
        return "not a legal move in this position"

    def is_terminal(self, state: np.ndarray) -> bool:
        return int(self.rules.outcome(self.params, state)) != ONGOING

    def result(self, state: np.ndarray) -> int:
        """+1 / 0 / -1 from the first player's view; raises if the game is not over."""
        out = int(self.rules.outcome(self.params, state))
        if out == ONGOING:
            raise ValueError("the game is not over")
        return out

    def to_play(self, state: np.ndarray) -> int:
        return int(self.rules.to_play(self.params, state))

    def encode(self, state: np.ndarray) -> np.ndarray:
        out = np.zeros(self.plane_shape, dtype=np.float32)
        self.rules.encode(self.params, state, out)
        return out

    def state_hash(self, state: np.ndarray) -> int:
        return int(self.rules.state_hash(self.params, state))

    # ----------------------------------------------------------------------------- notation
    def parse_move(self, state: np.ndarray, text: str) -> int:
        """The legal action written ``text`` in the game's notation; ``IllegalMove`` if none."""
        raise NotImplementedError

    def format_move(self, state: np.ndarray, action: int) -> str:
        raise NotImplementedError

    def play_moves(self, moves: str | Iterable[str], state: np.ndarray | None = None) -> np.ndarray:
        """Apply moves written in the game's notation (a list, or one whitespace-separated string)."""
        state = self.initial_state() if state is None else state
        if isinstance(moves, str):
            moves = moves.split()
        for i, text in enumerate(moves):
            try:
                state = self.apply(state, self.parse_move(state, text))
            except IllegalMove as err:
                raise IllegalMove(f"move {i + 1} ({text!r}): {err}") from None
        return state

    def parse_position(self, text: str) -> np.ndarray:
        """A position from one line of text (a move list by default; games may accept more)."""
        return self.play_moves(text)

    def render(self, state: np.ndarray) -> str:
        raise NotImplementedError

    record_extension: str = ".txt"

    def format_record(self, actions: Sequence[int], tags: dict | None = None, start: np.ndarray | None = None) -> str:
        """A game record as text: ``key: value`` tag lines, then the moves in the game's notation and the result.

        Go writes SGF and chess PGN instead (``record_format``, ``record_extension``).
        """
        state = self.initial_state() if start is None else start
        lines = [f"{k}: {v}" for k, v in (tags or {}).items()]
        moves = []
        for a in actions:
            moves.append(self.format_move(state, a))
            state = self.apply(state, a)
        lines.append(" ".join(moves))
        if self.is_terminal(state):
            lines.append(f"result: {self.result(state):+d} ({self.describe_result(state)})")
        return "\n".join(lines) + "\n"

    def describe_result(self, state: np.ndarray) -> str:
        r = self.result(state)
        if r == 0:
            return "draw"
        return f"{self.player_names[0 if r > 0 else 1]} wins"

    # ----------------------------------------------------------------------------- symmetries
    def transform_planes(self, planes: np.ndarray, k: int) -> np.ndarray:
        """Apply symmetry ``k`` to planes ``[..., C, H, W]``."""
        if k == 0:
            return planes
        raise ValueError(f"{self.name} has no symmetry {k}")

    def transform_policy(self, policy: np.ndarray, k: int) -> np.ndarray:
        """Apply symmetry ``k`` to a vector over actions ``[..., A]`` (policy, visits, legal mask)."""
        if k == 0:
            return policy
        raise ValueError(f"{self.name} has no symmetry {k}")

    def transform_state(self, state: np.ndarray, k: int) -> np.ndarray:
        if k == 0:
            return state.copy()
        raise ValueError(f"{self.name} has no symmetry {k}")

    # ----------------------------------------------------------------------------- auxiliary targets
    def ownership(self, state: np.ndarray) -> np.ndarray:
        """Final owner of each point ``float32[H, W]`` (+1 first player, -1 second, 0 neutral) of a finished game."""
        raise NotImplementedError(f"{self.name} has no ownership or score targets (Go has)")

    def score_margin(self, state: np.ndarray) -> float:
        """The first player's final lead in points of a finished game."""
        raise NotImplementedError(f"{self.name} has no ownership or score targets (Go has)")

    # ----------------------------------------------------------------------------- misc
    def describe(self) -> dict:
        return {
            "game": self.name,
            "num_actions": self.num_actions,
            "plane_shape": list(self.plane_shape),
            "max_game_length": self.max_game_length,
            "num_symmetries": self.num_symmetries,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


# --------------------------------------------------------------------------------- dihedral helpers
def dihedral(x: np.ndarray, k: int) -> np.ndarray:
    """Symmetry ``k`` in 0..7 of the dihedral group on the last two axes (square boards).

    ``k % 4`` quarter turns counter-clockwise, then for ``k >= 4`` a transpose of the last two axes.
    """
    if not 0 <= k < 8:
        raise ValueError(f"dihedral symmetry index {k} is not in 0..7")
    y = np.rot90(x, k % 4, axes=(-2, -1))
    if k >= 4:
        y = np.swapaxes(y, -1, -2)
    return np.ascontiguousarray(y)


def dihedral_policy(policy: np.ndarray, k: int, height: int, width: int) -> np.ndarray:
    """Dihedral symmetry of a vector over board cells ``h * width + w`` plus trailing extra actions (pass)."""
    cells = height * width
    board = policy[..., :cells].reshape(policy.shape[:-1] + (height, width))
    out = dihedral(board, k).reshape(policy.shape[:-1] + (cells,))
    if policy.shape[-1] > cells:
        out = np.concatenate([out, policy[..., cells:]], axis=-1)
    return out


def as_moves(moves: str | Sequence[str]) -> list[str]:
    return moves.split() if isinstance(moves, str) else list(moves)
