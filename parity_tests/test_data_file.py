"""``--data PATH`` (issue 14, item 5): an ``.npz`` of the named arrays an example's data contract takes
replaces them, for both frameworks and every regime; bad files are one line, exit 2."""

import json

import numpy as np
import pytest

from jaxport import catalog, data
from jaxport.cli import main


def _cli(capsys, *argv):
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _other_sine(path, dtype=np.float32):
    """x on [-2, 2], y = cos(x): not the seeds' data, in float32 as torch would make it."""
    x = np.linspace(-2.0, 2.0, 2000).astype(dtype)
    np.savez(path, x=x, y=np.cos(x.astype(np.float64)).astype(dtype))
    return path


def test_data_file_reaches_both_frameworks_and_the_comparison(capsys, tmp_path):
    f = _other_sine(tmp_path / "cos.npz")
    code, default_out, _ = _cli(capsys, "run", "E03", "--framework", "torch")
    code2, torch_out, _ = _cli(capsys, "run", "E03", "--framework", "torch", "--data", str(f))
    code3, jax_out, _ = _cli(capsys, "run", "E03", "--data", str(f))
    assert code == code2 == code3 == 0
    assert torch_out != default_out
    assert torch_out.splitlines()[0].split()[:2] == jax_out.splitlines()[0].split()[:2] == ["Step:", "99"]
    code, out, err = _cli(capsys, "compare", "E03", "--data", str(f), "--steps", "300", "--dtype", "both", "--json")
    doc = json.loads(out)
    assert code == 0, err
    assert [c["dtype"] for c in doc] == ["float32", "float64"] and all(c["passed"] for c in doc)


def test_data_file_keeps_what_it_does_not_give(tmp_path):
    example = catalog.load("E03")
    cfg = example.config
    x = np.linspace(-1.0, 1.0, 2000).astype(np.float32)
    np.savez(tmp_path / "x.npz", x=x)
    got = data.with_file(example, tmp_path / "x.npz").make_data(cfg)
    want = example.make_data(cfg)
    assert np.array_equal(got["x"], x) and np.array_equal(got["y"], want["y"])
    # a float64 run widens float32 values exactly
    import dataclasses
    got64 = data.with_file(example, tmp_path / "x.npz").make_data(dataclasses.replace(cfg, dtype="float64"))
    assert got64["x"].dtype == np.float64 and np.array_equal(got64["x"], x.astype(np.float64))


@pytest.mark.parametrize("arrays, needles", [
    ({"z": np.zeros(2000, np.float32)}, ["unknown array 'z'", "x[2000] float32"]),
    ({"x": np.zeros(1999, np.float32)}, ["array 'x' has shape [1999], expected [2000]"]),
    ({"x": np.full(2000, np.nan, np.float32)}, ["array 'x' has a non-finite value"]),
    ({"x": np.full(2000, 0.1, np.float64)}, ["array 'x' holds 0.1", "float32 cannot hold exactly"]),
    ({"x": np.array(["a"] * 2000)}, ["array 'x' has dtype <U1, expected real numbers"]),
    ({}, ["holds no arrays"]),
])
def test_bad_data_files_are_one_line(capsys, tmp_path, arrays, needles):
    f = tmp_path / "bad.npz"
    np.savez(f, **arrays)
    code, out, err = _cli(capsys, "run", "E03", "--data", str(f))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and f"--data {f}" in err, err
    for n in needles:
        assert n in err, err


def test_data_file_refusals(capsys, tmp_path):
    np.savez(tmp_path / "order.npz", order=np.zeros((200, 4), np.int64))
    code, _, err = _cli(capsys, "run", "E21", "--data", str(tmp_path / "order.npz"))
    assert code == 2 and "array 'order' (int" in err and "drawn from --seed" in err, err
    (tmp_path / "x.json").write_text("{}")
    code, _, err = _cli(capsys, "run", "E03", "--data", str(tmp_path / "x.json"))
    assert code == 2 and "expected an .npz" in err, err
    code, _, err = _cli(capsys, "run", "E03", "--data", str(tmp_path / "missing.npz"))
    assert code == 2 and "missing.npz" in err and len(err.strip().splitlines()) == 1, err
    code, _, err = _cli(capsys, "run", "E10", "--data", str(tmp_path / "order.npz"))
    assert code == 2 and "--data" in err, err
