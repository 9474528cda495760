"""The offline default dataset: scikit-learn's bundled handwritten digits, resized to a model's input.

``sklearn.datasets.load_digits`` reads a CSV that ships inside the scikit-learn wheel (1797 images,
8×8, 17 grey levels, classes 0–9), so a run with no ``--data-dir`` trains on real images with
nothing downloaded. Each image is resized bilinearly (in NumPy, float64, then rounded once to
float32, so both frameworks get the same bits) to ``size × size`` and repeated over ``channels``.
The split is fixed: the first 1500 images train, the last 297 test.
"""

import functools

import numpy as np

from jaxport.datasets import Dataset, check_labels

NAME = "scikit-learn digits (8x8, bundled offline)"
CLASSES = tuple(str(i) for i in range(10))
TRAIN_SIZE = 1500  # of 1797: the rest is the test split


def resize_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, h, w)`` → ``(N, size, size)`` by bilinear interpolation with aligned corners (float64)."""
    n, h, w = images.shape
    ys, xs = np.linspace(0, h - 1, size), np.linspace(0, w - 1, size)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = images[:, y0][:, :, x0] * (1 - wx) + images[:, y0][:, :, x1] * wx
    bottom = images[:, y1][:, :, x0] * (1 - wx) + images[:, y1][:, :, x1] * wx
    return top * (1 - wy) + bottom * wy


@functools.cache
def _raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # reads the CSV inside the installed package

    d = load_digits()
    return d.images.astype(np.float64) / 16.0, d.target


def load(*, size: int = 28, channels: int = 1, split: str = "train") -> Dataset:
    """The digits as a :class:`Dataset`: ``(N, channels, size, size)`` float32 in [0, 1], labels 0–9.

    Args:
        size: the side the 8×8 images are resized to (28 for E17's 784 inputs, 32 for E21).
        channels: how many times the grey image is repeated (3 for E21's RGB input).
        split: ``"train"`` (the first 1500) or ``"test"`` (the last 297).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return _load(size, channels, split)


@functools.cache
def _load(size: int, channels: int, split: str) -> Dataset:
    """:func:`load`, resized once per shape (a run reads it several times: its header, each dtype's data);
    the arrays are read-only, so a cached one cannot be changed under a later caller."""
    images, labels = _raw()
    sl = slice(0, TRAIN_SIZE) if split == "train" else slice(TRAIN_SIZE, None)
    x = resize_bilinear(images[sl], size).astype(np.float32)
    x = np.ascontiguousarray(np.repeat(x[:, None], channels, axis=1))
    y = check_labels(labels[sl], 10, source=NAME)
    x.setflags(write=False)
    y.setflags(write=False)
    return Dataset(f"{NAME}, {split}, resized to {channels}x{size}x{size}", x, y, CLASSES)
