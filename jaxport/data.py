"""Shared inputs, made once in NumPy so both frameworks receive the same bits, as the seeds make them.

`torch.linspace` and `np.linspace` differ in the last bit (604 of the seeds' 2000 float32 points), and
`torch.sin` in float32 is not NumPy's: :func:`sine_data` gives the seeds' own values, so a reference
fed them is the seed's script bit for bit, and the same array goes to JAX.
"""

import math
from fractions import Fraction
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
# appended to jaxport/data.py


def load_file(path: str | Path, defaults: Mapping[str, np.ndarray], *, source: str) -> dict[str, np.ndarray]:
    """An ``.npz`` of named arrays replacing some of an example's data (``--data PATH``).

    ``defaults`` is what the example's ``make_data`` gives for the run's config: the names, shapes and
    dtypes the file must match. Each array in the file replaces the default of its name; names it does
    not give keep the example's. Only floating arrays (inputs, targets) come from a file: integer ones
    (E08's orders, E21's shuffle and labels) are drawn from ``--seed`` or read with ``--data-dir``. Floating arrays keep their values
    exactly when the run's dtype holds them (float32 data in a float64 run are widened; float64 data
    in a float32 run must already be float32 values, or the run would silently use others).

    Raises:
        UsageError: a missing or unreadable file, not an ``.npz``; a name the example does not take; a
            shape or kind that differs from the example's; a non-finite value; a float64 value a
            float32 run would round. One line naming the file, the array and what was expected.
    """
    p = Path(path)
    floats = {k: np.asarray(v) for k, v in defaults.items() if np.asarray(v).dtype.kind == "f"}
    expected = ", ".join(f"{k}{list(v.shape)} {v.dtype}" for k, v in floats.items()) or "nothing"
    if p.suffix.lower() != ".npz":
        raise UsageError(f"{source}: expected an .npz of named arrays ({expected}), got a {p.suffix or 'suffix-less'} file")
    try:
        with np.load(p, allow_pickle=False) as f:
            given = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except (OSError, ValueError, EOFError) as e:
        raise UsageError(f"{source}: not a readable .npz ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") from None
    if not given:
        raise UsageError(f"{source}: the file holds no arrays; expected some of: {expected}")
    out = dict(defaults)
    for name, value in given.items():
        if name not in defaults:
            raise UsageError(f"{source}: unknown array {name!r}; this example's data are: {expected}")
        want = np.asarray(defaults[name])
        if value.shape != want.shape:
            raise UsageError(f"{source}: array {name!r} has shape {list(value.shape)}, expected {list(want.shape)}")
        if want.dtype.kind == "f":
            if value.dtype.kind not in "fiu" or value.dtype.kind == "b":
                raise UsageError(f"{source}: array {name!r} has dtype {value.dtype}, expected real numbers ({want.dtype})")
            if not np.all(np.isfinite(value)):
                raise UsageError(f"{source}: array {name!r} has a non-finite value "
                                 f"({value.ravel()[~np.isfinite(value.ravel())][0]})")
            held = value.astype(want.dtype)
            if not np.array_equal(held.astype(np.float64), value.astype(np.float64)):
                i = int(np.flatnonzero(held.astype(np.float64) != value.astype(np.float64))[0])
                raise UsageError(f"{source}: array {name!r} holds {float(value.ravel()[i])!r}, which {want.dtype} cannot hold "
                                 f"exactly; expected {want.dtype} values (round them yourself), or --dtype float64")
            out[name] = held
        else:  # indices and labels: drawn from --seed or read by --data-dir, where their ranges are known
            raise UsageError(f"{source}: array {name!r} ({want.dtype}) is not data a file can give: it is drawn from "
                             f"--seed or read with --data-dir; this example's --data takes: {expected}")
    return out


def with_file(example: Any, path: str | Path) -> Any:
    """``example`` whose ``make_data`` takes the arrays of ``path`` (:func:`load_file`) over its own, for
    every config it is asked for (the harness's float64 truth gets the same values, widened)."""
    own = example.make_data

    def make_data(cfg: Any) -> dict[str, np.ndarray]:
        return load_file(path, own(cfg), source=f"--data {path}")

    return dataclasses.replace(example, make_data=make_data)
