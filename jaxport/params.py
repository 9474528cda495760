"""Initial values: drawn from a seed, or read from a file, and handed to both frameworks.

The seeds draw their initial values with ``torch.randn`` and set no seed. jaxport never compares
random streams across frameworks: it draws the values once in NumPy (``--seed S``) or reads them
(``--init PATH``), validates them against the example's parameter names and shapes, and gives the
same numbers to JAX and to the reference.
"""

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jaxport.data import np_dtype
from jaxport.errors import UsageError

Shapes = Mapping[str, tuple[int, ...]]
Params = dict[str, np.ndarray]


def draw(shapes: Shapes, seed: int) -> Params:
    """Standard-normal values from ``numpy.random.default_rng(seed)``, float64.

    Order: one ``standard_normal(shape)`` call per parameter, in the order of ``shapes`` (for the
    polynomial examples ``a, b, c, d``), as the seeds call ``torch.randn`` once per parameter.
    """
    rng = np.random.default_rng(seed)
    return {name: np.asarray(rng.standard_normal(shape), dtype=np.float64) for name, shape in shapes.items()}


def torch_init(shapes: Shapes, seed: int) -> Params:
    """torch's default init distribution of ``nn.Linear`` and ``nn.Conv2d``, drawn in NumPy (float64):
    every ``*.weight`` and ``*.bias`` U(±1/√fan_in), fan_in the weight's ``in × kh × kw``.

    One ``numpy.random.default_rng(seed).uniform`` call per parameter, in the order of ``shapes``
    (``state_dict`` order: fc1.weight, fc1.bias, ...): distribution-equal to torch's init, not
    stream-equal (torch's RNG is never replayed; the values go to both frameworks).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes.items():
        weight = name.rsplit(".", 1)[0] + ".weight"
        if weight not in shapes:
            raise ValueError(f"torch_init: {name!r} has no {weight!r} to take its fan-in from")
        bound = 1.0 / math.sqrt(math.prod(shapes[weight][1:]))
        out[name] = rng.uniform(-bound, bound, shape)
    return out


def load(path: str | Path, shapes: Shapes) -> Params:
    """Read initial values from ``.json``, ``.npz``, ``.safetensors`` or a torch ``.pth`` state_dict
    (or the ``model`` of a training checkpoint: :func:`load_training`).

    Names as the reference's parameters (``a b c d``; ``0.weight``...). A ``.pth`` is read with
    ``torch.load(weights_only=True)`` only (see :mod:`jaxport.checkpoint`).

    Raises:
        UsageError: the file is missing, unreadable, malformed or would run code; a name is missing
            or unknown; a shape is wrong; a value is not finite. The message names the file and the
            parameter.
    """
    return load_training(path, shapes)[0]


def load_training(path: str | Path, shapes: Shapes) -> tuple[Params, dict | None]:
    """:func:`load`, and the optimizer's ``state_dict()`` where the file is torch's training checkpoint
    ``{"model": ..., "optimizer": ...}`` (:func:`jaxport.checkpoint.load_training`), else ``None``."""
    from jaxport import checkpoint

    raw, optimizer = checkpoint.load_training(path, what="--init", shapes=shapes)
    return validate(raw, shapes, source=f"--init {path}"), optimizer


def validate(raw: Mapping[str, object], shapes: Shapes, *, source: str) -> Params:
    """Check names, shapes and finiteness; return float64 arrays in the order of ``shapes``."""
    missing = [n for n in shapes if n not in raw]
    unknown = [n for n in raw if n not in shapes]
    expected = ", ".join(f"{n}{list(s)}" for n, s in shapes.items())
    if missing:
        raise UsageError(f"{source}: missing parameter {missing[0]!r}; expected exactly: {expected}")
    if unknown:
        raise UsageError(f"{source}: unknown parameter {unknown[0]!r}; expected exactly: {expected}")
    out: Params = {}
    for name, shape in shapes.items():
        value = _real(raw[name], f"{source}: parameter {name!r}")
        if value.shape != tuple(shape):
            raise UsageError(f"{source}: parameter {name!r} has shape {list(value.shape)}, expected {list(shape)}")
        if not np.all(np.isfinite(value)):
            raise UsageError(f"{source}: parameter {name!r} has a non-finite value ({value.ravel()[~np.isfinite(value.ravel())][0]})")
        out[name] = value
    return out


def _real(value: object, where: str) -> np.ndarray:
    """``value`` as float64 if it is real numbers: a number, a nested list of them, or an integer or
    floating array. Anything else (a string such as "0.1", a bool, a complex, a date, a record) is a
    UsageError, never silently converted."""
    if isinstance(value, np.ndarray) or np.isscalar(value) and isinstance(value, np.generic):
        kind = np.asarray(value).dtype
        if kind.kind not in "fiu":
            raise UsageError(f"{where} has dtype {kind}, expected real numbers (a floating or integer array)")
        return np.asarray(value, dtype=np.float64)

    def leaves(v: object) -> object:
        if isinstance(v, list):
            return [leaves(x) for x in v]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UsageError(f"{where}: {v!r:.60} is not a number (expected numbers or nested lists of numbers)")
        try:
            return float(v)
        except OverflowError:
            raise UsageError(f"{where}: the integer {str(v)[:20]}... ({len(str(v))} digits) is too large for "
                             "float64 (at most ~1.8e308)") from None

    try:
        return np.asarray(leaves(value), dtype=np.float64)
    except ValueError:  # ragged nested lists
        raise UsageError(f"{where} is a ragged nested list, expected a rectangular array of numbers") from None


def cast(params: Mapping[str, np.ndarray], dtype: str, *, source: str = "initial values") -> Params:
    """The same values in ``dtype`` ('float32' or 'float64'), as NumPy arrays.

    Raises:
        UsageError: a finite value the dtype cannot hold (1e39 in float32 would become inf), naming it.
    """
    t = np_dtype(dtype)
    out = {}
    for k, v in params.items():
        with np.errstate(over="ignore"):
            a = np.asarray(v, dtype=t)
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            given = np.asarray(v)
            bad = ~np.isfinite(a) & np.isfinite(given)
            if bad.any():
                raise UsageError(f"{source}: parameter {k!r} holds {given[bad].ravel()[0]:.6g}, which {dtype} cannot "
                                 f"hold (largest {np.finfo(t).max:.6g}); expected values within that, or --dtype float64")
        out[k] = a
    return out


def to_jsonable(params: Mapping[str, object]) -> dict[str, object]:
    """name → Python float or nested list, for ``--json`` output and ``.json`` init files."""
    out = {}
    for k, v in params.items():
        a = np.asarray(v, dtype=np.float64)
        out[k] = a.item() if a.ndim == 0 else a.tolist()
    return out
