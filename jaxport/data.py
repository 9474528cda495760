"""Shared inputs, made once in NumPy so both frameworks receive the same bits.

`torch.linspace` and `np.linspace` can differ in the last bit; building `x` here and handing the
same array to JAX and to the reference removes that difference from every comparison.
"""

import math

import numpy as np

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
