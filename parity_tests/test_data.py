"""The seeds' own data, bit for bit (issue 15): torch's linspace and sine, in NumPy, without torch.

``x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)`` and ``y = torch.sin(x)`` are what the
seeds compute; :func:`jaxport.data.sine_data` gives the same bits in both dtypes, so a reference fed
them runs the seed's script exactly: the seed's own E03 script (``jaxport/seed_scripts``, verbatim,
only ``torch.randn`` replaced by given values) prints what ``jaxport run E03 --framework torch --init``
prints, line for line.
"""

import contextlib
import io
import json
import math
import random
import runpy

import numpy as np
import pytest
import torch

from jaxport import data
from jaxport.bench import SEED_SCRIPTS
from jaxport.cli import main

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


def _seed_script(name: str, values: list[float], monkeypatch, py_seed: int | None = None) -> list[str]:
    """The seed's own script's printed lines, its ``torch.randn`` draws replaced by ``values`` in order."""
    draws = iter(values)
    monkeypatch.setattr(torch, "randn", lambda *a, **k: torch.tensor(
        next(draws), dtype=k.get("dtype") or torch.float32, requires_grad=k.get("requires_grad", False)))
    if py_seed is not None:
        random.seed(py_seed)  # the seed's random.randint: jaxport draws it from random.Random(seed)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(SEED_SCRIPTS / name), run_name="__main__")
    monkeypatch.undo()
    return out.getvalue().splitlines()


def _jaxport_lines(argv: list[str], capsys) -> list[str]:
    capsys.readouterr()
    assert main(argv) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("init", [(0.3, -0.2, 0.15, 0.05), (-1.1, 0.4, 2.0, -0.7), (0.0, 1.0, 0.0, -0.1666)])
def test_the_e03_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    f = tmp_path / "init.json"
    f.write_text(json.dumps(dict(zip("abcd", init))))
    seed = _seed_script("e03_polynomial_autograd.py", list(init), monkeypatch)
    ours = _jaxport_lines(["run", "E03", "--framework", "torch", "--init", str(f)], capsys)
    assert len(seed) == 22 and seed == ours


@pytest.mark.slow
def test_the_e08_reference_is_the_seeds_script_bit_for_bit(monkeypatch, capsys, tmp_path):
    """30000 eager steps of the seed's DynamicNet: its orders from random.seed(0), as jaxport's seed 0 draws them."""
    init = (0.1, -0.2, 0.05, 0.3, -0.01)
    f = tmp_path / "init.json"
    f.write_text(json.dumps(dict(zip("abcde", init))))
    seed = _seed_script("e08_dynamic_net.py", list(init), monkeypatch, py_seed=0)
    ours = _jaxport_lines(["run", "E08", "--framework", "torch", "--init", str(f)], capsys)
    assert seed == ours
