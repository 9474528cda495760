"""jaxport.datasets.idx: Fashion-MNIST's IDX files, raw or gzipped, every defect one clear DatasetError (exit 2)."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from jaxport.cli import main
from jaxport.datasets import DatasetError, idx


def idx_bytes(magic: int, dims: tuple[int, ...], payload: np.ndarray) -> bytes:
    """An IDX file: big-endian magic, each dimension, then the unsigned bytes."""
    return struct.pack(f">i{len(dims)}i", magic, *dims) + np.asarray(payload, dtype=np.uint8).tobytes()


def write_fashion_mnist(root: Path, n: int = 100, *, split: str = "train", gz: bool = False, seed: int = 0,
                        side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Write a small valid split (``n`` random images and labels) to ``root``; return (pixels, labels)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    root.mkdir(parents=True, exist_ok=True)
    prefix = idx.PREFIX[split]
    for name, blob in ((f"{prefix}-images-idx3-ubyte", idx_bytes(2051, (n, side, side), pixels)),
                       (f"{prefix}-labels-idx1-ubyte", idx_bytes(2049, (n,), labels))):
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(blob))
        else:
            (root / name).write_bytes(blob)
    return pixels, labels


@pytest.mark.parametrize("gz", [False, True])
def test_reads_a_valid_split(tmp_path, gz):
    pixels, labels = write_fashion_mnist(tmp_path, 37, gz=gz)
    ds = idx.load(tmp_path)
    assert ds.name == f"Fashion-MNIST ({tmp_path})" and ds.classes == idx.CLASSES and len(ds.classes) == 10
    assert ds.images.shape == (37, 1, 28, 28) and ds.images.dtype == np.float32
    np.testing.assert_array_equal(ds.images[:, 0], pixels.astype(np.float32) / np.float32(255))  # ToTensor's pixel / 255
    assert ds.labels.dtype == np.int64 and ds.labels.tolist() == labels.tolist()
    assert idx.count(tmp_path) == 37


def test_test_split_raw_preferred_and_torchvision_layout(tmp_path):
    write_fashion_mnist(tmp_path, 5, split="test")
    assert len(idx.load(tmp_path, "test")) == 5
    write_fashion_mnist(tmp_path, 7, gz=True, seed=1)  # gz beside raw: raw wins
    write_fashion_mnist(tmp_path, 9, seed=2)
    assert len(idx.load(tmp_path)) == 9
    nested = tmp_path / "root"
    write_fashion_mnist(nested / "FashionMNIST" / "raw", 4)  # torchvision's download layout
    assert len(idx.load(nested)) == 4


def _expect(path, *fragments):
    with pytest.raises(DatasetError) as e:
        idx.load(path)
    msg = str(e.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, msg
    return msg


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    write_fashion_mnist(tmp_path, 10, gz=gz)
    images = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    blob = idx_bytes(2051, (10, 28, 28), np.zeros((10, 28, 28)))[:-5]
    images.write_bytes(gzip.compress(blob) if gz else blob)
    _expect(tmp_path, str(images), "truncated", f"expected {16 + 7840}")


def test_cut_gzip_stream_and_garbage_gzip(tmp_path):
    write_fashion_mnist(tmp_path, 10, gz=True)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:30])
    _expect(tmp_path, str(images), "gzip")
    images.write_bytes(b"not gzip at all")
    _expect(tmp_path, str(images), "gzip")


def test_too_long_file(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes() + b"\0")
    _expect(tmp_path, str(labels), "too long", "expected 18")


def test_wrong_magic(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(idx_bytes(2049, (10, 28, 28), np.zeros((10, 28, 28))))
    _expect(tmp_path, str(images), "magic number 2049", "expected 2051")
    write_fashion_mnist(tmp_path, 10)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(2051, (10,), np.zeros(10)))
    _expect(tmp_path, str(labels), "magic number 2051", "expected 2049")
    with pytest.raises(DatasetError, match="expected 2049"):
        idx.count(tmp_path)


def test_wrong_image_size(tmp_path):
    write_fashion_mnist(tmp_path, 3, side=27)
    _expect(tmp_path, "27x27", "expected 28x28")


def test_label_out_of_range(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(2049, (10,), [0, 1, 2, 3, 12, 5, 6, 7, 8, 9]))
    _expect(tmp_path, str(labels), "label 12 at index 4", "expected 0..9")


def test_counts_disagree(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(2049, (9,), np.zeros(9)))
    _expect(tmp_path, str(labels), "9 labels, expected 10")


def test_missing_file_and_directory(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    _expect(tmp_path, "train-labels-idx1-ubyte", "missing", "train-labels-idx1-ubyte.gz")
    _expect(tmp_path / "nowhere", "not a directory")


def test_a_changed_file_is_read_again(tmp_path):
    write_fashion_mnist(tmp_path, 10)
    assert len(idx.load(tmp_path)) == 10
    write_fashion_mnist(tmp_path, 12, seed=3)  # same paths, new contents: the cache must not answer
    assert len(idx.load(tmp_path)) == 12


@pytest.mark.parametrize("command", [["run", "E17"], ["run", "E17", "--framework", "torch"], ["compare", "E17"]])
def test_cli_corrupt_data_dir_is_one_line_and_exit_2(tmp_path, capsys, command):
    write_fashion_mnist(tmp_path, 100)
    images = tmp_path / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    assert main([*command, "--data-dir", str(tmp_path), "--steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("jaxport: error: ") and str(images) in err and "truncated" in err
    assert main([*command, "--data-dir", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a directory" in err


def test_cli_data_dir_on_an_example_without_data(tmp_path, capsys):
    assert main(["run", "E28", "--data-dir", str(tmp_path)]) == 2
    assert "reads no dataset files" in capsys.readouterr().err


def test_an_empty_split_is_one_clear_error(tmp_path, capsys):
    """Header-only files (0 images) or a negative count: one line naming the file, exit 2 (not a ZeroDivisionError)."""
    write_fashion_mnist(tmp_path, 0)
    assert main(["run", "E17", "--data-dir", str(tmp_path), "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "expected at least one" in err, err
    labels = tmp_path / "train-labels-idx1-ubyte"
    labels.write_bytes(idx_bytes(2049, (-3,), np.zeros(0, np.uint8)))
    with pytest.raises(DatasetError, match="expected at least one"):
        idx.count(tmp_path)
