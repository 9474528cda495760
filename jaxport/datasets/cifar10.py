"""CIFAR-10's binary version, read from a directory: E21's real data (the blitz's ``torchvision.datasets.CIFAR10``).

The directory is ``cifar-10-batches-bin/`` itself or one that holds it (as the tarball unpacks):
``data_batch_1.bin`` … ``data_batch_5.bin`` (the 50000 training images), ``test_batch.bin`` (10000)
and, optionally, ``batches.meta.txt`` (the class names, one a line). Each file is a run of
3073-byte records: 1 label byte (0–9), then 3072 pixel bytes, the R, G and B planes of 32×32 in
row-major order, so a record reshapes straight to torch's ``(3, 32, 32)``.

Nothing is downloaded (``torchvision``'s ``download=True`` has no counterpart here). A missing
file, a size that is not a whole number of records (truncated) or a label byte above 9 raises
:class:`~jaxport.datasets.DatasetError`, naming the file and what was expected.
:func:`normalize` is the blitz's ``transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`` after
``ToTensor()``, in NumPy float32, so both frameworks get the same bits.
"""

import functools
from pathlib import Path

import numpy as np

from jaxport.datasets import Dataset, DatasetError, check_labels

NAME = "CIFAR-10 (binary version)"
# the blitz's names (torchvision's are 'airplane', 'automobile', ...; batches.meta.txt overrides)
CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SUBDIR = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
META_FILE = "batches.meta.txt"
SHAPE = (3, 32, 32)  # R, G, B planes, row-major: torch's (C, H, W)
RECORD = 1 + 3 * 32 * 32  # 1 label byte + 3072 pixel bytes


MOST_RECORDS = 10000  # each of CIFAR-10's binary batch files holds 10000 images


def find_dir(data_dir: str | Path) -> Path:
    """The directory holding the ``.bin`` files: ``data_dir/cifar-10-batches-bin`` if it exists, else ``data_dir``."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory: expected CIFAR-10's binary version (a {SUBDIR}/ directory "
                           "or one holding it)")
    return root / SUBDIR if (root / SUBDIR).is_dir() else root


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One ``.bin`` file: images uint8 ``(n, 3, 32, 32)`` and labels int64 ``(n,)``."""
    if not path.is_file():
        hint = ""
        if (path.parent / path.stem).exists() or (path.parent.parent / "cifar-10-batches-py").exists():
            hint = " (this looks like the Python/pickle version; jaxport reads the binary version, cifar-10-binary.tar.gz)"
        raise DatasetError(f"{path}: missing: expected CIFAR-10 binary file {path.name} with 3073-byte records{hint}")
    size = path.stat().st_size
    if size > MOST_RECORDS * RECORD:  # checked before reading: a batch file holds 10000 records
        raise DatasetError(f"{path}: {size:,} bytes, expected at most {MOST_RECORDS * RECORD:,} ({MOST_RECORDS} "
                           f"{RECORD}-byte records, one CIFAR-10 batch file)")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise DatasetError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte records (1 label byte + "
                           f"3072 pixel bytes): truncated, or not CIFAR-10's binary version")
    records = raw.reshape(-1, RECORD)
    labels = check_labels(records[:, 0], 10, source=str(path))
    return np.ascontiguousarray(records[:, 1:].reshape(-1, *SHAPE)), labels


def read_classes(directory: Path) -> tuple[str, ...]:
    """The class names from ``batches.meta.txt`` when it is there (10 non-empty lines), else :data:`CLASSES`."""
    path = directory / META_FILE
    if not path.is_file():
        return CLASSES
    try:
        names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"{path}: unreadable: expected 10 class names, one a line ({e})") from None
    if len(names) != 10:
        raise DatasetError(f"{path}: {len(names)} class names: expected 10, one a line")
    return names


def _stamp(directory: Path, names: tuple[str, ...]) -> tuple:
    """What identifies the files' contents for the cache: size and mtime of each (None when missing)."""
    out = []
    for name in (*names, META_FILE):
        try:
            st = (directory / name).stat()
            out.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((name, None))
    return tuple(out)


@functools.lru_cache(maxsize=4)  # make_data runs several times per comparison: read the files once
def _read(directory: Path, names: tuple[str, ...], stamp: tuple) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    parts = [read_batch(directory / name) for name in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels, read_classes(directory)


def load(data_dir: str | Path, *, split: str = "train") -> Dataset:
    """CIFAR-10 as a :class:`Dataset`: ``(N, 3, 32, 32)`` float32 in [0, 1] (``ToTensor()``: pixel / 255).

    Args:
        data_dir: ``cifar-10-batches-bin/`` or the directory holding it.
        split: ``"train"`` (data_batch_1..5, in that order) or ``"test"`` (test_batch).

    Raises:
        DatasetError: the directory or a file is missing, a file is truncated, a label is above 9,
            ``batches.meta.txt`` does not hold 10 names.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = find_dir(data_dir).resolve()
    names = TRAIN_FILES if split == "train" else (TEST_FILE,)
    images, labels, classes = _read(directory, names, _stamp(directory, names))
    x = images.astype(np.float32) / np.float32(255)  # ToTensor(): uint8 -> float32 in [0, 1]
    return Dataset(f"{NAME}, {split}, from {directory}", x, labels.copy(), classes)


def normalize(images: np.ndarray) -> np.ndarray:
    """``transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`` on ``ToTensor()``'s output: (x - 0.5) / 0.5, float32.

    torch does ``sub_(mean).div_(std)`` in float32, one rounding each; so does this, bit for bit.
    """
    x = np.asarray(images, dtype=np.float32)
    half = np.float32(0.5)
    return (x - half) / half
