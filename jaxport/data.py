"""Shared inputs, made once in NumPy so both frameworks receive the same bits.

`torch.linspace` and `np.linspace` can differ in the last bit; building `x` here and handing the
same array to JAX and to the reference removes that difference from every comparison.
"""

import math

import numpy as np

from jaxport.errors import UsageError

DTYPES = {"float32": np.float32, "float64": np.float64}


def np_dtype(dtype: str) -> type:
    """The NumPy dtype for 'float32' or 'float64'."""
    try:
        return DTYPES[dtype]
    except KeyError:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}") from None


def sine_data(dtype: str, n: int = 2000) -> dict[str, np.ndarray]:
    """The seeds' data: ``x = linspace(-pi, pi, 2000)``, ``y = sin(x)``, in ``dtype``.

    Computed in float64 and rounded once, so float32 and float64 runs see the same points.
    """
    x = np.linspace(-math.pi, math.pi, n)
    y = np.sin(x)
    t = np_dtype(dtype)
    return {"x": x.astype(t), "y": y.astype(t)}


def epoch_batches(seed: int, steps: int, n: int, batch_size: int, *, drop_last: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A ``DataLoader(shuffle=True)``'s batches drawn up front: every step's rows and a mask of the real ones.

    Each epoch is ``numpy.random.default_rng(seed).permutation(n)`` (the generator continuing from
    epoch to epoch) cut into batches in order: ``ceil(n / batch_size)`` of them, the last one with
    ``n % batch_size`` real rows padded with index 0 and masked out, or with ``drop_last`` the
    ``n // batch_size`` full ones. Returns ``(idx, mask)``, both ``(steps, batch_size)``; a run of fewer
    steps is a prefix of a longer one. The torch side replays them with
    :class:`jaxport.reference.ReplaySampler`.
    """
    per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    if per_epoch == 0:
        raise UsageError(f"{n} examples: expected at least one batch of {batch_size}")
    epochs = math.ceil(steps / per_epoch)
    rng = np.random.default_rng(seed)
    idx = np.zeros((per_epoch * epochs, batch_size), dtype=np.int32)
    mask = np.zeros(idx.shape, dtype=bool)
    for e in range(epochs):
        order = rng.permutation(n)  # a fresh permutation each epoch
        for b in range(per_epoch):
            rows = order[b * batch_size: (b + 1) * batch_size]
            idx[e * per_epoch + b, : len(rows)] = rows
            mask[e * per_epoch + b, : len(rows)] = True
    return idx[:steps], mask[:steps]
