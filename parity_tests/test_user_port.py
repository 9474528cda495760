"""A user's own port (issue 14, item 1): ``jaxport compare path/to/my_port.py`` (or ``--module``) gets
the catalog's report, regimes, ``--seeds`` and ``--json``; a wrong port FAILs; a file that does not
define what the contract needs is one line, exit 2. The port is ``parity_tests/user_port/``."""

import json
import shutil
from pathlib import Path

import pytest

from jaxport.cli import main

PORT = Path(__file__).parent / "user_port" / "my_port.py"


def _cli(capsys, *argv):
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_users_port_file_passes_every_regime(capsys):
    code, out, err = _cli(capsys, "compare", PORT, "--dtype", "both", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(c["example"], c["dtype"], c["passed"]) for c in doc] == [("U01", "float32", True), ("U01", "float64", True)]
    assert {"same_point", "teacher_forced", "free_running"} <= {r["name"] for r in doc[0]["regimes"]}


def test_a_users_port_sweeps_and_runs(capsys):
    code, out, err = _cli(capsys, "compare", PORT, "--seeds", "0:3", "--dtype", "float32", "--steps", "60")
    assert code == 0, err
    assert "U01 my_mlp" in out
    code, jax_out, _ = _cli(capsys, "run", PORT, "--steps", "100")
    code2, torch_out, _ = _cli(capsys, "run", PORT, "--steps", "100", "--framework", "torch")
    assert code == code2 == 0
    assert [ln.split()[0] for ln in jax_out.splitlines()[:2]] == [ln.split()[0] for ln in torch_out.splitlines()[:2]] == ["49", "99"]


def test_a_users_port_as_a_module(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(PORT.parent))
    code, out, err = _cli(capsys, "compare", "--module", "my_port", "--dtype", "float64", "--steps", "50")
    assert code == 0, err
    assert "U01 my_mlp  [float64, cpu]  JAX vs torch: PASS" in out


def test_a_wrong_port_fails(capsys, tmp_path):
    """The nnx side's activation planted wrong (sin for tanh): every regime that sees it FAILs, naming U01."""
    for f in ("my_port.py", "my_reference.py"):
        shutil.copy(PORT.parent / f, tmp_path / f)
    bad = tmp_path / "my_port.py"
    bad.write_text(bad.read_text().replace("jnp.tanh(", "jnp.sin("))
    code, out, err = _cli(capsys, "compare", bad, "--dtype", "float64", "--steps", "50")
    assert code == 1
    assert "U01 my_mlp  [float64, cpu]  JAX vs torch: FAIL" in out and "same_point" in out


@pytest.mark.parametrize("text, needles", [
    ("x = 1\n", ["defines no EXAMPLE", "TrainingExample"]),
    ("EXAMPLE = 3\n", ["EXAMPLE is a int", "TrainingExample"]),
    ("import numpy\nraise ValueError('my bug')\n", ["importing it raised ValueError at line 2: my bug"]),
    ("import dataclasses, my_port_x\n", ["importing it raised ModuleNotFoundError"]),
])
def test_a_port_file_that_does_not_fit_is_one_line(capsys, tmp_path, text, needles):
    f = tmp_path / "port.py"
    f.write_text(text)
    code, out, err = _cli(capsys, "compare", f)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"port file {f}" in err
    for n in needles:
        assert n in err, err


def test_a_missing_port_or_reference_is_one_line(capsys, tmp_path):
    code, _, err = _cli(capsys, "compare", tmp_path / "nope.py")
    assert code == 2 and "no such file" in err, err
    shutil.copy(PORT, tmp_path / "my_port.py")  # its my_reference.py is not beside it
    code, _, err = _cli(capsys, "compare", tmp_path / "my_port.py")
    assert code == 2 and "its reference my_reference.py is not a file" in err, err
    code, _, err = _cli(capsys, "compare", "--module", "no_such_module_xyz")
    assert code == 2 and "--module no_such_module_xyz: importing it raised ModuleNotFoundError" in err, err


def test_the_study_pages_are_the_catalogs(capsys):
    code, _, err = _cli(capsys, "docs", "--refresh", PORT)
    assert code == 2 and "the study pages are the catalog's" in err, err
