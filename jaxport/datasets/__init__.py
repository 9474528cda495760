"""Datasets on disk, read offline: nothing here downloads.

Each loader returns a :class:`Dataset` of NumPy arrays, made once and handed to both frameworks (the
parity contract: share inputs, never random streams). A file that is missing, truncated, of the
wrong format or with an out-of-range label raises :class:`DatasetError` (exit code 2) naming the
file and what was expected.

- :mod:`jaxport.datasets.digits`: the offline default, scikit-learn's bundled 8×8 digits (a real,
  shipped dataset) resized to a model's input;
- :mod:`jaxport.datasets.idx`: Fashion-MNIST's IDX files (gzipped or raw), E17's real data;
- :mod:`jaxport.datasets.cifar10`: CIFAR-10's binary version, E21's real data.
"""

from dataclasses import dataclass

import numpy as np

from jaxport.errors import UsageError


class DatasetError(UsageError):
    """A dataset file that cannot be used: missing, truncated, wrong magic number, label out of range."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images and labels of one split, as NumPy arrays.

    ``images`` is float32 in [0, 1] (pixel / max), shape ``(N, C, H, W)`` (torch's layout: the
    reference takes it as is, the JAX port transposes where it needs NHWC); ``labels`` is int64
    ``(N,)`` in ``[0, len(classes))``; ``name`` says which dataset this is, for the run's output.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]

    def __post_init__(self):
        if self.images.ndim != 4 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"{self.name}: images (N, C, H, W) and labels (N,) expected, got "
                             f"{self.images.shape} and {self.labels.shape}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def check_labels(labels: np.ndarray, num_classes: int, *, source: str) -> np.ndarray:
    """``labels`` as int64, or a DatasetError naming the first one outside ``[0, num_classes)``."""
    labels = np.asarray(labels).astype(np.int64)
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise DatasetError(f"{source}: label {int(labels[bad[0]])} at index {int(bad[0])} is out of range: "
                           f"expected 0..{num_classes - 1}")
    return labels
