"""The seeds' own scripts against ``jaxport run EXX --framework torch --init`` (issue 15): bit for bit.

``jaxport/seed_scripts/`` holds each seed's script verbatim (E01–E08, chapter 1 of the catalog). Each
test runs one with ``runpy``, its initial values replaced by given ones without editing the script,
and runs the reference through ``jaxport.cli.main`` with the same values in an ``--init`` file; every
printed line must be equal, and so must the final parameters (the script's globals against
``--save``'s ``.npz``), bit for bit. How each script gets its values:

* E01: ``np.random.randn()`` returns the given numbers in order;
* E02, E03, E07, E08: ``torch.randn(...)`` returns them, as 0-d tensors of the asked dtype;
* E04: the seed fixes them with ``torch.full((), v, ...)``: its own values are run as they are, other
  values by ``torch.full`` giving them in order;
* E05, E06: ``torch.nn.Linear(3, 1)``'s default init (``reset_parameters``) fills ``weight`` and ``bias``
  from a given ``state_dict`` (the init file's ``0.weight``, ``0.bias``).
"""

import contextlib
import io
import json
import random
import runpy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from jaxport import cpu_threads_from_env
from jaxport.bench import SEED_SCRIPTS
from jaxport.cli import main


def _seed_script(name: str, monkeypatch, py_seed: int | None = None) -> tuple[list[str], dict]:
    """The seed's own script's printed lines and its globals at the end; the patches made on ``monkeypatch``
    before the call (its random draws replaced) are undone after the script."""
    if py_seed is not None:
        random.seed(py_seed)  # the seed's random.randint: jaxport draws it from random.Random(seed)
    # torch's threads as `jaxport run` sets them (JAXPORT_CPU_THREADS, default 1): Linear's weight gradient
    # (MmBackward0, a sum over the 2000 points) splits that sum by thread, so E05/E06's bits depend on it
    threads = torch.get_num_threads()
    torch.set_num_threads(cpu_threads_from_env())
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            g = runpy.run_path(str(SEED_SCRIPTS / name), run_name="__main__")
    finally:
        torch.set_num_threads(threads)
        monkeypatch.undo()
    return out.getvalue().splitlines(), g


def _draws(values) -> Callable[[], Any]:
    """The next of ``values`` at each call; a call too many fails the test (the script drew more)."""
    it: Iterator[Any] = iter(values)

    def nxt() -> Any:
        v = next(it, None)
        assert v is not None, "the seed's script drew more initial values than given"
        return v

    return nxt


def _randn_gives(values, monkeypatch) -> None:
    """``torch.randn(shape, dtype=, device=, requires_grad=)``: the given numbers, as 0-d tensors."""
    nxt = _draws(values)
    monkeypatch.setattr(torch, "randn", lambda *a, **k: torch.tensor(
        nxt(), dtype=k.get("dtype") or torch.float32, device=k.get("device"), requires_grad=k.get("requires_grad", False)))


def _numpy_randn_gives(values, monkeypatch) -> None:
    """``np.random.randn()``: the given numbers (Python floats, as ``randn()`` without a shape returns)."""
    nxt = _draws(values)
    monkeypatch.setattr(np.random, "randn", lambda *shape: float(nxt()))


def _full_gives(values, monkeypatch) -> None:
    """``torch.full(size, fill_value, ...)``: the given numbers in place of the script's fill values."""
    nxt, full = _draws(values), torch.full
    monkeypatch.setattr(torch, "full", lambda size, fill_value, *a, **k: full(size, nxt(), *a, **k))


def _linear_init_gives(state: dict, monkeypatch) -> None:
    """``torch.nn.Linear``'s default init (``reset_parameters``, called by its constructor): ``weight`` and
    ``bias`` copied from ``state`` (a ``Sequential``'s ``state_dict``: ``0.weight``, ``0.bias``), once."""
    nxt = _draws([state])

    def reset_parameters(self):
        given = nxt()
        with torch.no_grad():
            self.weight.copy_(torch.tensor(given["0.weight"], dtype=self.weight.dtype))
            self.bias.copy_(torch.tensor(given["0.bias"], dtype=self.bias.dtype))

    monkeypatch.setattr(torch.nn.Linear, "reset_parameters", reset_parameters)


def _jaxport(example: str, framework: str, init: dict, tmp_path, capsys, *extra: str) -> tuple[list[str], dict]:
    """``jaxport run EXAMPLE --framework F --init init.json --save final.npz``: its printed lines and final parameters."""
    f, saved = tmp_path / "init.json", tmp_path / "final.npz"
    f.write_text(json.dumps(init))
    capsys.readouterr()
    assert main(["run", example, "--framework", framework, "--init", str(f), "--save", str(saved), *extra]) == 0
    lines = capsys.readouterr().out.splitlines()
    with np.load(saved) as z:
        return lines, {k: z[k] for k in z.files}


def _bits(v) -> np.ndarray:
    """A final value as an array (a tensor detached, a NumPy or Python scalar as it is)."""
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


def _assert_same_params(seed: dict, ours: dict) -> None:
    """Same names; each the same dtype, shape and bytes (bit for bit: -0.0 and NaN payloads included)."""
    assert sorted(seed) == sorted(ours)
    for k, v in seed.items():
        a, b = _bits(v), ours[k]
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes()), (k, a, b)


POLY = [(0.3, -0.2, 0.15, 0.05), (-1.1, 0.4, 2.0, -0.7), (0.0, 1.0, 0.0, -0.1666)]
# torch.randn(4) after torch.manual_seed(7), and np.random.RandomState(42).randn(4): full-precision draws
POLY_DRAWN = [(-0.1467950940132141, 0.7861412763595581, 0.9468216300010681, -1.1143440008163452),
              (0.4967141530112327, -0.13826430117118466, 0.6476885381006925, 1.5230298564080254)]


@pytest.mark.parametrize("init", POLY + POLY_DRAWN[1:])
def test_the_e01_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _numpy_randn_gives(init, monkeypatch)
    seed, g = _seed_script("e01_polynomial_numpy.py", monkeypatch)
    ours, final = _jaxport("E01", "numpy", dict(zip("abcd", init)), tmp_path, capsys)
    _assert_same_params({k: g[k] for k in "abcd"}, final)
    assert len(seed) == 21 and seed == ours  # 20 losses, the result


@pytest.mark.parametrize("init", POLY[:2] + POLY_DRAWN[:1])
def test_the_e02_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _randn_gives(init, monkeypatch)
    seed, g = _seed_script("e02_polynomial_tensor.py", monkeypatch)
    ours, final = _jaxport("E02", "torch", dict(zip("abcd", init)), tmp_path, capsys)
    _assert_same_params({k: g[k] for k in "abcd"}, final)
    assert len(seed) == 22 and seed == ours  # 20 losses, the result, the final loss


@pytest.mark.parametrize("init", POLY + POLY_DRAWN[:1])
def test_the_e03_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _randn_gives(init, monkeypatch)
    seed, g = _seed_script("e03_polynomial_autograd.py", monkeypatch)
    ours, final = _jaxport("E03", "torch", dict(zip("abcd", init)), tmp_path, capsys)
    _assert_same_params({k: g[k] for k in "abcd"}, final)
    assert len(seed) == 22 and seed == ours


# None: the seed's own torch.full values (0, -1, 0, 0.3), run unpatched
@pytest.mark.parametrize("init", [None, (0.1, -0.8, 0.05, 0.35), (-0.05, -1.2, -0.1, 0.25)])
def test_the_e04_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    if init is not None:
        _full_gives(init, monkeypatch)
    seed, g = _seed_script("e04_legendre_custom_function.py", monkeypatch)
    ours, final = _jaxport("E04", "torch", dict(zip("abcd", init or (0.0, -1.0, 0.0, 0.3))), tmp_path, capsys)
    _assert_same_params({k: g[k] for k in "abcd"}, final)
    assert len(seed) == 21 and seed == ours  # 20 losses, the result


LINEAR = [
    # torch.manual_seed(0); torch.nn.Linear(3, 1): E05's DEFAULT_INIT
    {"0.weight": [[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646]], "0.bias": [-0.4248946011066437]},
    # torch.manual_seed(1); torch.nn.Linear(3, 1)
    {"0.weight": [[0.2974873483181, -0.2548298239707947, -0.11192598193883896]], "0.bias": [0.2709902822971344]},
    {"0.weight": [[-0.41, 0.07, 0.52]], "0.bias": [-0.15]},
]


@pytest.mark.parametrize("init", LINEAR)
def test_the_e05_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _linear_init_gives(init, monkeypatch)
    seed, g = _seed_script("e05_polynomial_nn.py", monkeypatch)
    ours, final = _jaxport("E05", "torch", init, tmp_path, capsys)
    _assert_same_params(g["model"].state_dict(), final)
    assert len(seed) == 25 and seed == ours  # x, y, p, xx (11 lines), 2 losses, the result, y_pred, the parameters


@pytest.mark.parametrize("init", LINEAR)
def test_the_e06_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _linear_init_gives(init, monkeypatch)
    seed, g = _seed_script("e06_polynomial_optim.py", monkeypatch)
    ours, final = _jaxport("E06", "torch", init, tmp_path, capsys)
    _assert_same_params(g["model"].state_dict(), {k: final[k] for k in ("0.weight", "0.bias")})
    assert len(seed) == 21 and seed == ours  # 20 losses, the result


@pytest.mark.parametrize("init", POLY[1:] + POLY_DRAWN[:1])
def test_the_e07_reference_is_the_seeds_script_bit_for_bit(init, monkeypatch, capsys, tmp_path):
    _randn_gives(init, monkeypatch)
    seed, g = _seed_script("e07_polynomial_module.py", monkeypatch)
    ours, final = _jaxport("E07", "torch", dict(zip("abcd", init)), tmp_path, capsys)
    _assert_same_params(g["model"].state_dict(), final)
    assert len(seed) == 21 and seed == ours  # 20 losses, the result


@pytest.mark.slow
def test_the_e08_reference_is_the_seeds_script_bit_for_bit(monkeypatch, capsys, tmp_path):
    """30000 eager steps of the seed's DynamicNet: its orders from random.seed(0), as jaxport's seed 0 draws them."""
    init = (0.1, -0.2, 0.05, 0.3, -0.01)
    _randn_gives(init, monkeypatch)
    seed, g = _seed_script("e08_dynamic_net.py", monkeypatch, py_seed=0)
    ours, final = _jaxport("E08", "torch", dict(zip("abcde", init)), tmp_path, capsys)
    _assert_same_params(g["model"].state_dict(), final)
    assert seed == ours
