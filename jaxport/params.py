"""Initial values: drawn from a seed, or read from a file, and handed to both frameworks.

The seeds draw their initial values with ``torch.randn`` and set no seed. jaxport never compares
random streams across frameworks: it draws the values once in NumPy (``--seed S``) or reads them
(``--init PATH``), validates them against the example's parameter names and shapes, and gives the
same numbers to JAX and to the reference.
"""

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


def load(path: str | Path, shapes: Shapes) -> Params:
    """Read initial values from ``.json``, ``.npz``, ``.safetensors`` or a torch ``.pth`` state_dict.

    Names as the reference's parameters (``a b c d``; ``0.weight``...). A ``.pth`` is read with
    ``torch.load(weights_only=True)`` only (see :mod:`jaxport.checkpoint`).

    Raises:
        UsageError: the file is missing, unreadable, malformed or would run code; a name is missing
            or unknown; a shape is wrong; a value is not finite. The message names the file and the
            parameter.
    """
    from jaxport import checkpoint

    return validate(checkpoint.load(path, what="--init"), shapes, source=f"--init {path}")


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
        try:
            value = np.asarray(raw[name], dtype=np.float64)
        except (TypeError, ValueError):
            raise UsageError(f"{source}: parameter {name!r} is not numeric (got {raw[name]!r:.60})") from None
        if value.shape != tuple(shape):
            raise UsageError(f"{source}: parameter {name!r} has shape {list(value.shape)}, expected {list(shape)}")
        if not np.all(np.isfinite(value)):
            raise UsageError(f"{source}: parameter {name!r} has a non-finite value ({value.ravel()[~np.isfinite(value.ravel())][0]})")
        out[name] = value
    return out


def cast(params: Mapping[str, np.ndarray], dtype: str) -> Params:
    """The same values in ``dtype`` ('float32' or 'float64'), as NumPy arrays."""
    t = np_dtype(dtype)
    return {k: np.asarray(v, dtype=t) for k, v in params.items()}


def to_jsonable(params: Mapping[str, object]) -> dict[str, object]:
    """name → Python float or nested list, for ``--json`` output and ``.json`` init files."""
    out = {}
    for k, v in params.items():
        a = np.asarray(v, dtype=np.float64)
        out[k] = a.item() if a.ndim == 0 else a.tolist()
    return out
