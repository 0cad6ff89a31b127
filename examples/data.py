"""Data for the examples: MNIST from its four IDX files, a character-level text corpus, batches, augmentation.

**MNIST** (LeCun, Bottou, Bengio & Haffner 1998; http://yann.lecun.com/exdb/mnist/): 60,000 training and
10,000 test digits of 28x28 grey levels in the IDX format, a big-endian header followed by the raw array::

    bytes 0-1   0x00 0x00
    byte  2     element type (0x08 = unsigned byte)
    byte  3     number of dimensions d
    4 * d       each dimension as a big-endian uint32 (images: N, 28, 28; labels: N)
    ...         the elements, row-major

The files may be gzip-compressed (``.gz``) or not; ``load_mnist`` looks in ``--data-dir``, then in
``../shared/data/mnist`` beside the repository and in ``./data/mnist``, and checks the SHA-256 of each file's
uncompressed bytes against the published files (so a truncated or altered file is named, never half-read).
``download_mnist`` fetches them from a public mirror; nothing here needs the network unless asked.

**Text**: ``CharCorpus`` reads a text file, builds the sorted character vocabulary and splits the characters
into the first 90% for training and the last 10% for validation (the split of char-rnn and nanoGPT's
``shakespeare_char``, so validation losses compare with theirs).
"""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.cli import UserError
from engine.core import atomic_write_bytes

REPO_ROOT = Path(__file__).resolve().parent.parent


class DataError(UserError):
    """A data file that is missing, corrupt or not what it should be."""


# ------------------------------------------------------------------------------------------------- IDX files
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
             0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when it is a gzip file (recognized by its magic number, not its name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            raise DataError(f"{path} is a corrupt or truncated gzip file ({err})") from None
    return raw


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode an IDX array; a wrong header or a size that does not match it is a ``DataError`` naming ``name``."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{name} is not an IDX file (it must start with two zero bytes, a type and a rank)")
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES:
        raise DataError(f"{name} has unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DataError(f"{name} is truncated inside its IDX header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(f"{name} holds {len(data) - header} bytes of data, but its header {shape} says {expected} "
                        f"({'truncated' if len(data) - header < expected else 'trailing bytes'})")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not."""
    return parse_idx(read_bytes(path), str(path))


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file; gzip when ``compress`` (default: when the name ends in ``.gz``)."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes() + array.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    atomic_write_bytes(path, data)
    return path


# ------------------------------------------------------------------------------------------------- MNIST
@dataclass(frozen=True)
class MnistFile:
    name: str                # canonical file name without .gz
    sha256: str              # of the uncompressed bytes
    shape: tuple[int, ...]


MNIST_FILES = {
    "train_images": MnistFile("train-images-idx3-ubyte",
                              "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", (60000, 28, 28)),
    "train_labels": MnistFile("train-labels-idx1-ubyte",
                              "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", (60000,)),
    "test_images": MnistFile("t10k-images-idx3-ubyte",
                             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", (10000, 28, 28)),
    "test_labels": MnistFile("t10k-labels-idx1-ubyte",
                             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", (10000,)),
}
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")


def mnist_search_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Where MNIST is looked for: ``data_dir`` alone when given, else the shared data and ``./data/mnist``."""
    if data_dir is not None:
        return [Path(data_dir)]
    return [REPO_ROOT.parent / "shared" / "data" / "mnist", Path("data") / "mnist"]


def _find(file: MnistFile, dirs: list[Path]) -> Path | None:
    for folder in dirs:
        for candidate in (folder / file.name, folder / f"{file.name}.gz"):
            if candidate.is_file():
                return candidate
    return None


@dataclass
class Mnist:
    """MNIST as tensors: images float32 ``[N, 1, 28, 28]`` in [0, 1], labels int64 ``[N]``."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str = ""

    def limit(self, n: int | None) -> Mnist:
        """The first ``n`` training and ``n`` test examples (tiny slices for smoke runs)."""
        if not n:
            return self
        return Mnist(self.train_images[:n], self.train_labels[:n], self.test_images[:n], self.test_labels[:n],
                     f"{self.source} (first {n})")


def load_mnist(data_dir: str | Path | None = None, *, verify: bool = True, download: bool = False) -> Mnist:
    """Read the four MNIST files (gzip or not); ``verify`` checks their SHA-256; ``download`` fetches missing ones.

    A missing file is an error naming it and every folder searched; a file whose checksum or shape is wrong is
    an error naming it and what is wrong.
    """
    dirs = mnist_search_dirs(data_dir)
    arrays = {}
    for key, file in MNIST_FILES.items():
        path = _find(file, dirs)
        if path is None and download:
            path = download_mnist_file(file, dirs[0])
        if path is None:
            searched = ", ".join(str(d) for d in dirs)
            raise DataError(f"MNIST file {file.name} (or {file.name}.gz) is missing; looked in {searched}. "
                            f"Give --data-dir, or --download to fetch it")
        data = read_bytes(path)
        if verify:
            digest = hashlib.sha256(data).hexdigest()
            if digest != file.sha256:
                raise DataError(f"MNIST file {path} is corrupt or not the original: SHA-256 of its contents is "
                                f"{digest[:16]}..., expected {file.sha256[:16]}... (use --no-verify for other "
                                f"versions of the files)")
        array = parse_idx(data, str(path))
        if verify and array.shape != file.shape:
            raise DataError(f"MNIST file {path} has shape {array.shape}, expected {file.shape}")
        arrays[key] = array
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"MNIST {split} images {images.shape} and labels {labels.shape} do not match")
        if labels.size and labels.max() > 9:
            raise DataError(f"MNIST {split} labels must be digits 0-9, found {int(labels.max())}")

    def images(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64))

    return Mnist(images(arrays["train_images"]), labels(arrays["train_labels"]), images(arrays["test_images"]),
                 labels(arrays["test_labels"]), source=str(_find(MNIST_FILES["train_images"], dirs).parent))


def download_mnist_file(file: MnistFile, folder: Path, mirrors=MNIST_MIRRORS) -> Path:
    """Fetch ``file.gz`` from the first mirror that has it, check it, and write it atomically into ``folder``."""
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{file.name}.gz"
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                payload = response.read()
        except (urllib.error.URLError, OSError) as err:
            errors.append(f"{url}: {err}")
            continue
        try:
            digest = hashlib.sha256(gzip.decompress(payload)).hexdigest()
        except (OSError, EOFError) as err:
            errors.append(f"{url}: not a gzip file ({err})")
            continue
        if digest != file.sha256:
            errors.append(f"{url}: checksum mismatch")
            continue
        path = folder / f"{file.name}.gz"
        atomic_write_bytes(path, payload)
        return path
    raise DataError(f"could not download MNIST file {file.name}: " + "; ".join(errors))


def download_mnist(folder: str | Path) -> list[Path]:
    """Fetch the four files into ``folder`` (skipping those already there)."""
    folder = Path(folder)
    return [_find(f, [folder]) or download_mnist_file(f, folder) for f in MNIST_FILES.values()]


# ------------------------------------------------------------------------------------------------- batches
def batches(n: int, batch_size: int, generator: torch.Generator | None = None, shuffle: bool = True,
            drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)``, in a random order drawn from ``generator`` when ``shuffle``."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def random_affine(images: torch.Tensor, generator: torch.Generator | None = None, *, shift: float = 2.0,
                  rotate: float = 10.0, scale: float = 0.1) -> torch.Tensor:
    """Each image moved by its own random rotation, zoom and shift (data augmentation; Simard et al. 2003).

    ``shift`` in pixels, ``rotate`` in degrees, ``scale`` as a fraction, each uniform in [-value, value].
    Bilinear resampling, zeros outside. ``images`` is ``[B, C, H, W]``.
    """
    b, _, h, w = images.shape
    u = torch.rand(b, 4, generator=generator).to(images.device) * 2 - 1           # uniform in [-1, 1]
    angle = u[:, 0] * (rotate * torch.pi / 180)
    zoom = 1 + u[:, 1] * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # affine_grid takes output -> input coordinates in [-1, 1]; a pixel is 2 / size of that range.
    theta = torch.stack([torch.stack([cos, -sin, u[:, 2] * shift * 2 / w], 1),
                         torch.stack([sin, cos, u[:, 3] * shift * 2 / h], 1)], 1)     # [B, 2, 3]
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# ------------------------------------------------------------------------------------------------- text
def default_text_path() -> Path:
    """tinyshakespeare in the shared data beside the repository, else ``./data/text/tinyshakespeare.txt``."""
    shared = REPO_ROOT.parent / "shared" / "data" / "text" / "tinyshakespeare.txt"
    return shared if shared.exists() else Path("data") / "text" / "tinyshakespeare.txt"


class CharCorpus:
    """A text as character ids: ``chars`` (sorted vocabulary), ``encode``, ``decode``, ``train`` / ``val``.

    ``val_fraction`` of the characters at the end are held out (0.1: the last 10%, as char-rnn and nanoGPT).
    """

    def __init__(self, text: str, val_fraction: float = 0.1, name: str = "text"):
        if not 0.0 < val_fraction < 1.0:
            raise DataError(f"the validation fraction must be in (0, 1), got {val_fraction}")
        self.name = name
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.data = torch.tensor([self.stoi[c] for c in text], dtype=torch.long) if text else torch.empty(0)
        split = int(len(text) * (1 - val_fraction))
        self.train, self.val = self.data[:split], self.data[split:]
        if len(self.train) < 2 or len(self.val) < 2:
            raise DataError(f"{name} has {len(text)} characters: too few to split into training and validation")

    @classmethod
    def from_file(cls, path: str | Path | None = None, val_fraction: float = 0.1, limit: int | None = None
                  ) -> CharCorpus:
        """Read a UTF-8 text file (the first ``limit`` characters when given)."""
        path = Path(path) if path is not None else default_text_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(f"text corpus {path} does not exist (give --text PATH)") from None
        except UnicodeDecodeError as err:
            raise DataError(f"text corpus {path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
        except OSError as err:
            raise DataError(f"cannot read text corpus {path}: {err.strerror or err}") from None
        if limit:
            text = text[:limit]
        return cls(text, val_fraction, name=str(path))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            raise DataError(f"characters {''.join(unknown)!r} are not in the vocabulary of {self.name}")
        return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def random_windows(self, batch_size: int, length: int, generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_size`` random training windows: inputs ``[B, T]`` and the next characters ``[B, T]``."""
        if len(self.train) <= length:
            raise DataError(f"the training text ({len(self.train)} characters) is shorter than the context {length}")
        starts = torch.randint(len(self.train) - length, (batch_size,), generator=generator)
        offsets = starts[:, None] + torch.arange(length + 1)
        windows = self.train[offsets]                                     # [B, T + 1]
        return windows[:, :-1], windows[:, 1:]

    @staticmethod
    def chunks(data: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Consecutive non-overlapping windows covering ``data``: inputs and targets ``[N, length]`` (the tail
        that does not fill a window is dropped, the last window ends at or before the last target)."""
        n = (len(data) - 1) // length
        x = data[: n * length].view(n, length)
        y = data[1: n * length + 1].view(n, length)
        return x, y
