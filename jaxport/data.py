"""Shared inputs, made once in NumPy so both frameworks receive the same bits, as the seeds make them.

`torch.linspace` and `np.linspace` differ in the last bit (604 of the seeds' 2000 float32 points), and
`torch.sin` in float32 is not NumPy's: :func:`sine_data` gives the seeds' own values, so a reference
fed them is the seed's script bit for bit, and the same array goes to JAX.
"""

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from jaxport.errors import UsageError

DTYPES = {"float32": np.float32, "float64": np.float64}


def np_dtype(dtype: str) -> type:
    """The NumPy dtype for 'float32' or 'float64'."""
    try:
        return DTYPES[dtype]
    except KeyError:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}") from None


def torch_linspace(start: float, end: float, n: int, dtype: str) -> np.ndarray:
    """``torch.linspace(start, end, n, dtype=dtype)`` on the CPU, bit for bit, in NumPy.

    torch's kernel is two-sided: value ``i`` is ``start + i*step`` in the first half (``i < n // 2``)
    and ``end - (n-1-i)*step`` in the second, ``start``, ``end`` and ``step = (end - start)/(n - 1)``
    each rounded to ``dtype`` first, and each value rounded once, as a fused multiply-add does. For
    float32 a float64 evaluation is exact before that one rounding; for float64 the products and sums
    are exact rationals (a float64 FMA's single rounding; ``np.longdouble`` is not enough: 2 of 10001
    values on [0, 1] differ). ``parity_tests/test_data.py`` checks it against torch in both dtypes.
    """
    t = np_dtype(dtype)
    s, e = t(start), t(end)
    step = t((e - s) / t(n - 1)) if n > 1 else t(0)
    half = n // 2
    if t == np.float32:
        i = np.arange(n, dtype=np.float64)
        lo = np.float64(s) + np.float64(step) * i
        hi = np.float64(e) - np.float64(step) * (n - 1 - i)
        return np.where(i < half, lo, hi).astype(np.float32)
    S, E, ST = Fraction(float(s)), Fraction(float(e)), Fraction(float(step))
    return np.array([float(S + ST * i) if i < half else float(E - ST * (n - 1 - i)) for i in range(n)], dtype=np.float64)


# torch.sin of the seeds' x (torch_linspace(-pi, pi, 2000)) in float32 and float64, as torch 2.13's CPU
# kernels compute it (float32: SLEEF's vectorised sinf, which differs from NumPy's float32 sin in 256 of
# the 2000 values and from the correctly rounded sine in 92). Written by write_seed_sine() with torch;
# parity_tests/test_data.py recomputes it with torch and compares. Read here, so a JAX run needs no torch.
SEED_SINE = Path(__file__).parent / "seed_sine.npz"


def sine_data(dtype: str, n: int = 2000, *, made_by: str = "torch") -> dict[str, np.ndarray]:
    """The seeds' data in ``dtype``, as their code makes it: ``x = torch.linspace(-math.pi, math.pi, 2000,
    dtype=dtype)`` (:func:`torch_linspace`) and ``y = torch.sin(x)`` (:data:`SEED_SINE`, torch's own values;
    for another ``n``, NumPy's sine of the same ``x``, which may differ from torch's in the last bit).

    ``made_by="numpy"``: E01's seed, ``x = np.linspace(-math.pi, math.pi, 2000)``, ``y = np.sin(x)`` in
    float64 (rounded once to ``dtype``).
    """
    if made_by == "numpy":
        x64 = np.linspace(-math.pi, math.pi, n)
        return {"x": x64.astype(np_dtype(dtype)), "y": np.sin(x64).astype(np_dtype(dtype))}
    x = torch_linspace(-math.pi, math.pi, n, dtype)
    if n == 2000:
        with np.load(SEED_SINE) as stored:
            y = stored[dtype]
    else:
        y = np.sin(x)
    return {"x": x, "y": y.astype(np_dtype(dtype))}


def write_seed_sine(path: Path = SEED_SINE) -> None:
    """(Re)write :data:`SEED_SINE` with torch: ``torch.sin(torch.linspace(-pi, pi, 2000, dtype))`` per dtype."""
    import torch

    out = {}
    for dtype, tdt in (("float32", torch.float32), ("float64", torch.float64)):
        out[dtype] = torch.sin(torch.linspace(-math.pi, math.pi, 2000, dtype=tdt)).numpy()
    np.savez(path, **out)


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
