"""The seeds' own data, bit for bit (issue 15): torch's linspace and sine, in NumPy, without torch.

``x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)`` and ``y = torch.sin(x)`` are what the
seeds compute; :func:`jaxport.data.sine_data` gives the same bits in both dtypes, so a reference fed
them runs the seed's script exactly: the seeds' own scripts (``jaxport/seed_scripts``, verbatim, only
their initial values given) print what ``jaxport run EXX --framework torch --init`` prints, line for
line (``test_seed_scripts.py``).
"""

import math

import numpy as np
import pytest
import torch

from jaxport import data

TORCH = {"float32": torch.float32, "float64": torch.float64}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("start, end, n", [(-math.pi, math.pi, 2000), (-math.pi, math.pi, 1999), (0.0, 1.0, 10001),
                                           (-3.0, 10.0, 7), (2.5, -1.0, 2), (1.0, 1.0, 5)])
def test_linspace_is_torchs(dtype, start, end, n):
    ours = data.torch_linspace(start, end, n, dtype)
    theirs = torch.linspace(start, end, n, dtype=TORCH[dtype]).numpy()
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), int(np.sum(ours != theirs))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_seeds_data_is_torchs(dtype):
    d = data.sine_data(dtype)
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=TORCH[dtype])
    assert np.array_equal(d["x"], x.numpy()) and np.array_equal(d["y"], torch.sin(x).numpy())
    # what it replaces: a float64 linspace and sine rounded once differ from torch's float32 values
    if dtype == "float32":
        x64 = np.linspace(-math.pi, math.pi, 2000)
        assert np.sum(x64.astype(np.float32) != d["x"]) > 500 and np.sum(np.sin(x64).astype(np.float32) != d["y"]) > 500


def test_numpy_seed_data_is_numpys():
    d = data.sine_data("float64", made_by="numpy")
    x = np.linspace(-math.pi, math.pi, 2000)
    assert np.array_equal(d["x"], x) and np.array_equal(d["y"], np.sin(x))
