"""examples.data: IDX files (gzip and raw, corrupt ones), the MNIST loader's checks, the text corpus, augmentation."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch

from engine.cli import UserError
from examples import data
from examples.data import DataError
from tests.conftest import shared_file


def _digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_fake_mnist(folder, n_train: int = 40, n_test: int = 20, compress: bool = True) -> None:
    """The four MNIST files with random contents (the loader's checks off: ``verify=False``)."""
    suffix = ".gz" if compress else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        x, y = _digits(n, seed=n)
        data.write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", x)
        data.write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", y)


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
def test_idx_round_trip_gzip_and_raw(tmp_path, name):
    x, _ = _digits(5)
    path = data.write_idx(tmp_path / name, x)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = data.read_idx(path)
    assert back.dtype == np.uint8 and back.shape == (5, 28, 28)
    np.testing.assert_array_equal(back, x)


def test_idx_header_is_big_endian_and_decoded_by_hand():
    raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(data.parse_idx(raw), [[1, 2, 3], [4, 5, 6]])
    # gzip is recognized by its magic number, whatever the file is called
    assert data.parse_idx(gzip.decompress(gzip.compress(raw))).shape == (2, 3)


def test_corrupt_idx_files_name_the_file_and_the_problem(tmp_path):
    x, _ = _digits(3)
    good = data.write_idx(tmp_path / "x.idx", x).read_bytes()
    cut = tmp_path / "cut.idx"
    cut.write_bytes(good[:-10])
    with pytest.raises(DataError, match=r"cut\.idx holds 2342 bytes of data.*truncated"):
        data.read_idx(cut)
    foreign = tmp_path / "foreign.idx"
    foreign.write_bytes(b"PK\x03\x04" + good[4:])
    with pytest.raises(DataError, match="foreign.idx is not an IDX file"):
        data.read_idx(foreign)
    broken_gz = tmp_path / "broken.idx.gz"
    broken_gz.write_bytes(gzip.compress(good)[:-20])
    with pytest.raises(DataError, match="broken.idx.gz is a corrupt or truncated gzip file"):
        data.read_idx(broken_gz)
    with pytest.raises(DataError, match="missing.idx does not exist"):
        data.read_idx(tmp_path / "missing.idx")
    assert issubclass(DataError, UserError)


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_loader_reads_gzip_or_raw_files(tmp_path, compress):
    write_fake_mnist(tmp_path, compress=compress)
    mnist = data.load_mnist(tmp_path, verify=False)
    assert mnist.train_images.shape == (40, 1, 28, 28) and mnist.test_images.shape == (20, 1, 28, 28)
    assert mnist.train_images.dtype == torch.float32 and 0 <= mnist.train_images.min() <= mnist.train_images.max() <= 1
    x, y = _digits(40, seed=40)
    np.testing.assert_allclose(mnist.train_images[:, 0].numpy() * 255, x, atol=1e-3)
    assert mnist.train_labels.tolist() == y.tolist()
    small = mnist.limit(7)
    assert len(small.train_images) == len(small.test_labels) == 7


def test_mnist_loader_checks_checksums_and_names_missing_files(tmp_path):
    write_fake_mnist(tmp_path)
    # Not the published files: the checksum names the first file it reads.
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz is corrupt or not the original: SHA-256"):
        data.load_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=rf"t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte.gz\) is missing; "
                                        rf"looked in {tmp_path}"):
        data.load_mnist(tmp_path, verify=False)


def test_mnist_loader_rejects_mismatched_images_and_labels(tmp_path):
    write_fake_mnist(tmp_path)
    data.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(39, dtype=np.uint8))
    with pytest.raises(DataError, match=r"train images \(40, 28, 28\) and labels \(39,\) do not match"):
        data.load_mnist(tmp_path, verify=False)


def test_real_mnist_verifies_and_has_the_published_label_counts(tmp_path):
    folder = shared_file("mnist", "train-images-idx3-ubyte.gz").parent
    mnist = data.load_mnist(folder)
    assert mnist.train_images.shape == (60000, 1, 28, 28) and mnist.test_images.shape == (10000, 1, 28, 28)
    counts = torch.bincount(mnist.train_labels).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    # A corrupted copy (one byte changed inside the gzip stream's data) is caught by name.
    for f in folder.iterdir():
        if f.name.endswith(".gz"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz is corrupt or not the original"):
        data.load_mnist(tmp_path)


def test_char_corpus_holds_out_the_last_ten_percent(tmp_path):
    text = "".join(chr(ord("a") + i % 7) for i in range(1000))
    path = tmp_path / "t.txt"
    path.write_text(text)
    corpus = data.CharCorpus.from_file(path)
    assert corpus.chars == list("abcdefg") and corpus.vocab_size == 7
    assert len(corpus.train) == 900 and len(corpus.val) == 100
    assert corpus.decode(corpus.val) == text[900:]
    assert corpus.decode(corpus.encode("gab")) == "gab"
    x, y = corpus.random_windows(4, 16, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 16) and torch.equal(x[:, 1:], y[:, :-1])
    cx, cy = data.CharCorpus.chunks(corpus.val, 30)
    assert cx.shape == (3, 30) and torch.equal(cx.flatten()[1:], cy.flatten()[:-1])
    with pytest.raises(DataError, match="not in the vocabulary"):
        corpus.encode("xyz")
    with pytest.raises(DataError, match="does not exist"):
        data.CharCorpus.from_file(tmp_path / "none.txt")
    with pytest.raises(DataError, match="too few"):
        data.CharCorpus("abc")


def test_random_affine_is_the_identity_at_zero_and_reproducible():
    x = torch.rand(6, 1, 28, 28)
    same = data.random_affine(x, torch.Generator().manual_seed(0), shift=0.0, rotate=0.0, scale=0.0)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    a = data.random_affine(x, torch.Generator().manual_seed(3))
    b = data.random_affine(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(a, x)
    # a shift inside the frame moves the ink without losing any (bilinear weights sum to one)
    dot = torch.zeros(1, 1, 28, 28)
    dot[0, 0, 10, 10] = 1.0
    moved = data.random_affine(dot, torch.Generator().manual_seed(1), shift=3.0, rotate=0.0, scale=0.0)
    assert moved.sum().item() == pytest.approx(1.0, abs=1e-4)
