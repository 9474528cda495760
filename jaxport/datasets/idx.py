"""Fashion-MNIST from its IDX files on disk (gzipped or raw), E17's real data. Nothing downloads.

The four files, as Zalando publishes them and torchvision keeps them (``<root>/FashionMNIST/raw/``):
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``, each optionally ``.gz``. An IDX file is a big-endian header (a magic
number: 2051 for unsigned-byte images with 3 dimensions, 2049 for unsigned-byte labels with 1; then
each dimension as a 4-byte count) followed by exactly that many bytes. Everything is checked: the
magic number, 28×28 images, the exact length (a truncated or overlong file is an error), the same
count of images and labels, labels in 0..9. Each problem is one :class:`DatasetError` naming the
file and what was expected.
"""

import functools
import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from jaxport.datasets import Dataset, DatasetError, check_labels

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
SIDE = 28  # Fashion-MNIST images are 28×28
PREFIX = {"train": "train", "test": "t10k"}


def files(data_dir: str | Path, split: str = "train") -> tuple[Path, Path]:
    """The (images, labels) files of ``split`` in ``data_dir`` (or its ``FashionMNIST/raw``), raw preferred to ``.gz``.

    Raises:
        DatasetError: ``data_dir`` is not a directory, or a file is in neither form.
    """
    if split not in PREFIX:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"--data-dir {data_dir}: not a directory (expected the Fashion-MNIST IDX files)")
    dirs = [root] + ([root / "FashionMNIST" / "raw"] if (root / "FashionMNIST" / "raw").is_dir() else [])
    out = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{PREFIX[split]}-{kind}"
        found = [d / n for d in dirs for n in (name, name + ".gz") if (d / n).is_file()]
        if not found:
            raise DatasetError(f"{root / name}: missing: expected {name} or {name}.gz in {root} (Fashion-MNIST IDX files)")
        out.append(found[0])
    return out[0], out[1]


MOST = {"images": 60000 * SIDE * SIDE, "labels": 60000}  # the largest split, train: what a file may hold


def _read(path: Path, *, magic: int, ndim: int, most: int) -> bytes:
    """The file's bytes (decompressed when it ends in ``.gz``), reading no more than its header says it
    holds plus one byte (so a file longer than its header is still told), and refusing before reading
    a header that claims more than ``most`` bytes of data: a small ``.gz`` inflating to gigabytes is
    never inflated."""
    header = 4 + 4 * ndim
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            head = f.read(header)
            if len(head) == header and struct.unpack(">i", head[:4])[0] == magic and min(struct.unpack(f">{ndim}i", head[4:])) > 0:
                claimed = int(np.prod(struct.unpack(f">{ndim}i", head[4:]), dtype=np.int64))
                if claimed > most:
                    raise DatasetError(f"{path}: its header claims {claimed:,} bytes of data, expected at most "
                                       f"{most:,} (Fashion-MNIST's 60000 training examples)")
                return head + f.read(claimed + 1)
            return head  # parse() names what is wrong with it
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError; a cut .gz is an EOFError
        raise DatasetError(f"{path}: cannot be read{' as gzip' if path.suffix == '.gz' else ''}: {e}") from None


def parse(buf: bytes, *, magic: int, ndim: int, source: str) -> tuple[tuple[int, ...], np.ndarray]:
    """An IDX file's dimensions and its bytes as uint8, after checking its magic number and exact length."""
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise DatasetError(f"{source}: truncated: {len(buf)} bytes, expected an IDX header of {header}")
    (found,) = struct.unpack(">i", buf[:4])
    if found != magic:
        raise DatasetError(f"{source}: magic number {found}, expected {magic} (an IDX {ndim}-d unsigned-byte file)")
    dims = struct.unpack(f">{ndim}i", buf[4:header])
    if min(dims) <= 0:
        raise DatasetError(f"{source}: dimensions {list(dims)} in the header, expected positive ones (an empty or corrupt file)")
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(buf) != expected:
        what = "truncated" if len(buf) < expected else "too long"
        raise DatasetError(f"{source}: {what}: {len(buf)} bytes, expected {expected} for dimensions {list(dims)}")
    return dims, np.frombuffer(buf, dtype=np.uint8, offset=header)


def count(data_dir: str | Path, split: str = "train") -> int:
    """How many examples ``split`` has, from the labels file's header alone (no image is read)."""
    _, labels = files(data_dir, split)
    if labels.suffix == ".gz":
        try:
            with gzip.open(labels, "rb") as f:
                head = f.read(8)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetError(f"{labels}: cannot be read as gzip: {e}") from None
    else:
        try:
            with open(labels, "rb") as f:
                head = f.read(8)
        except OSError as e:
            raise DatasetError(f"{labels}: cannot be read: {e.strerror or e}") from None
    if len(head) < 8:
        raise DatasetError(f"{labels}: truncated: {len(head)} bytes, expected an IDX header of 8")
    magic, n = struct.unpack(">ii", head)
    if magic != LABELS_MAGIC:
        raise DatasetError(f"{labels}: magic number {magic}, expected {LABELS_MAGIC} (an IDX 1-d unsigned-byte file)")
    if n <= 0:
        raise DatasetError(f"{labels}: {n} labels in the header, expected at least one (an empty or corrupt file)")
    return n


def load(data_dir: str | Path, split: str = "train") -> Dataset:
    """Fashion-MNIST's ``split`` (``"train"``: 60000, ``"test"``: 10000) as a :class:`Dataset`.

    Images ``(N, 1, 28, 28)`` float32, pixel / 255; labels int64 in 0..9; name ``"Fashion-MNIST (<dir>)"``.

    Raises:
        DatasetError: a file is missing, unreadable, of the wrong magic number or dimensions, truncated
            or too long; images and labels disagree in number; a label is outside 0..9.
    """
    images_path, labels_path = files(data_dir, split)
    stats = tuple((str(p.resolve()), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in (images_path, labels_path))
    return _load(str(data_dir), images_path, labels_path, stats)


@functools.lru_cache(maxsize=4)
def _load(data_dir: str, images_path: Path, labels_path: Path, stats: tuple) -> Dataset:
    """Read and check both files (cached by path, size and modification time: a harness run reads them once)."""
    dims, pixels = parse(_read(images_path, magic=IMAGES_MAGIC, ndim=3, most=MOST["images"]), magic=IMAGES_MAGIC, ndim=3, source=str(images_path))
    n, rows, cols = dims
    if (rows, cols) != (SIDE, SIDE):
        raise DatasetError(f"{images_path}: images are {rows}x{cols}, expected {SIDE}x{SIDE} (Fashion-MNIST)")
    (m,), labels = parse(_read(labels_path, magic=LABELS_MAGIC, ndim=1, most=MOST["labels"]), magic=LABELS_MAGIC, ndim=1, source=str(labels_path))
    if m != n:
        raise DatasetError(f"{labels_path}: {m} labels, expected {n} (one per image in {images_path.name})")
    labels = check_labels(labels, len(CLASSES), source=str(labels_path))
    images = (pixels.reshape(n, 1, rows, cols).astype(np.float32) / np.float32(255.0))
    return Dataset(f"Fashion-MNIST ({data_dir})", np.ascontiguousarray(images), labels, CLASSES)
