"""The command line: JSON shapes, the seed's lines, and one clear line + exit code on bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from jaxport.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles, exit_code=2):
    assert code == exit_code
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("jaxport: error:"), err
    for n in needles:
        assert n in lines[0], (n, err)


def test_list(capsys):
    code, out, _ = run_cli(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == [f"E{i:02d}" for i in range(1, 30)]
    assert {r["id"] for r in rows if r["implemented"]} >= {"E01", "E02", "E03", "E04"}


@pytest.mark.parametrize("name", ["E03", "e03", "polynomial_autograd"])
def test_run_json_shape_and_names(capsys, name):
    code, out, _ = run_cli(capsys, "run", name, "--steps", "150", "--json")
    doc = json.loads(out)
    assert code == 0
    assert set(doc) == {"example", "framework", "dtype", "device", "steps", "final_loss", "params", "history"}
    assert doc["example"] == "E03" and doc["framework"] == "jax" and doc["steps"] == 150
    assert set(doc["params"]) == set("abcd") and len(doc["history"]) == 150
    assert doc["history"][-1] == [149, doc["final_loss"]]


@pytest.mark.parametrize(
    "example, jax_line, ref_line, final",
    [
        ("E01", r"step: 99 loss: \S+", r"step: 99 loss: \S+", r"Result: y = \S+ \+ \S+ x \+ \S+ x\^2 \+ \S+ x\^3"),
        ("E02", r"99 \S+", r"99 \S+", r"Final Loss: \S+"),
        ("E03", r"Step: 99 Loss: \S+ a.grad: \S+ b.grad: \S+ c.grad: \S+ d.grad: \S+", None, r"Final Loss: \S+"),
        ("E04", r"Step: 99 Loss: \S+", None, r"Result: y = \S+ \+ \S+ \* P3\(\S+ \+ \S+ x\)"),
    ],
)
def test_run_prints_the_seeds_lines_in_both_frameworks(capsys, example, jax_line, ref_line, final):
    import re

    outs = []
    for fw in ("jax", "reference"):
        code, out, err = run_cli(capsys, "run", example, "--steps", "200", "--framework", fw)
        assert code == 0, err
        outs.append(out.splitlines())
    jax_out, ref_out = outs
    assert len(jax_out) == len(ref_out)  # line for line, the same shape
    assert re.fullmatch(jax_line, jax_out[0]) and re.fullmatch(ref_line or jax_line, ref_out[0]), (jax_out[0], ref_out[0])
    assert any(re.fullmatch(final, line) for line in jax_out), jax_out
    assert any(re.fullmatch(final, line) for line in ref_out), ref_out


def test_compare_json_shape(capsys):
    code, out, _ = run_cli(capsys, "compare", "E02", "--steps", "300", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["passed"] is True
    assert {"example", "passed", "regimes", "jax_seconds", "torch_seconds"} <= set(doc)
    for r in doc["regimes"]:
        assert set(r) == {"name", "passed", "max_abs", "max_rel", "tolerance", "worst_leaf", "worst_step", "ratio", "note",
                          "message"}
        assert r["tolerance"]["reason"]


def test_compare_text_table_and_plot(capsys, tmp_path):
    png = tmp_path / "e04.png"
    code, out, err = run_cli(capsys, "compare", "E04", "--steps", "200", "--dtype", "float64", "--plot", str(png))
    assert code == 0
    assert "E04 legendre_custom_function  [float64, cpu]  JAX vs torch: PASS " in out
    for regime in ("same_point", "teacher_forced", "free_running"):
        assert regime in out
    assert out.strip().endswith("1 passed, 0 failed")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_json_shape(capsys):
    code, out, _ = run_cli(capsys, "bench", "E02", "--repeats", "1", "--json")
    doc = json.loads(out)
    assert code == 0
    assert {"example", "jax_steady_ms", "torch_steady_ms", "ratio", "jax_compile_ms"} <= set(doc)
    assert doc["ratio"] == pytest.approx(doc["torch_steady_ms"] / doc["jax_steady_ms"])
    assert doc["config"] == {}


def test_bench_times_a_values_example_and_takes_set(capsys):
    """A values example is one call of each side's ``values`` (E19's ResNet step is the one that matters;
    E12 is quick); --set benches another config and the row says what it changed."""
    code, out, _ = run_cli(capsys, "bench", "E12", "E02", "--repeats", "1", "--set", "dtype=float64", "--json")
    assert code == 0, out
    e12, e02 = json.loads(out)
    assert e12["steps"] == 1 and e12["jax_steady_ms"] > 0 and e12["torch_steady_ms"] > 0
    assert e12["dtype"] == e02["dtype"] == "float64" and e02["config"] == {"dtype": "float64"}
    code, _, err = run_cli(capsys, "bench", "E02", "--set", "nope=1")
    assert_one_line_error(code, err, "--set nope=1", "no field 'nope'")


@pytest.mark.parametrize("framework", ["jax", "torch"])
def test_divergence_names_example_and_step(capsys, framework):
    code, _, err = run_cli(capsys, "run", "E03", "--lr", "1e-2", "--framework", framework)
    assert_one_line_error(code, err, "E03 polynomial_autograd", f"the {framework} run diverged", "at step", exit_code=1)


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["run", "E99"], ["unknown example 'E99'"]),
        (["run", "E03", "--steps", "0"], ["--steps", "positive integer"]),
        (["run", "E03", "--lr", "nan"], ["--lr", "positive finite"]),
        (["run", "E03", "--dtype", "float16"], ["--dtype", "float16"]),
        (["run", "E03", "--seed", "-1"], ["--seed"]),
        (["run", "E03", "--seed", "1", "--init", "x.json"], ["not allowed with argument"]),
        (["run", "E03", "--framework", "numpy"], ["reference is torch"]),
        (["compare"], ["name an example"]),
        (["compare", "E03", "--all"], ["not both"]),
        (["bogus"], ["invalid choice"]),
    ],
)
def test_bad_flags_one_line_exit_2(capsys, argv, needles):
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *needles)


def _write(tmp_path, name, content):
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    return str(p)


@pytest.mark.parametrize(
    "name, content, needles",
    [
        ("missing.json", None, ["no such file"]),
        ("bad.json", "{not json", ["cannot read it"]),
        ("list.json", "[1, 2]", ["expected a mapping of parameter name"]),
        ("short.json", '{"a": 1, "b": 2, "c": 3}', ["missing parameter 'd'"]),
        ("extra.json", '{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}', ["unknown parameter 'e'"]),
        ("shape.json", '{"a": [1, 2], "b": 2, "c": 3, "d": 4}', ["'a' has shape [2], expected []"]),
        ("inf.json", '{"a": 1, "b": 2, "c": 3, "d": Infinity}', ["'d' has a non-finite value"]),
        ("text.json", '{"a": "x", "b": 2, "c": 3, "d": 4}', ["'a': 'x' is not a number"]),
        ("trunc.npz", b"PK\x03\x04garbage", ["cannot read it"]),
        ("init.txt", "a=1", ["unsupported file type"]),
    ],
)
def test_bad_init_files_one_line_exit_2(capsys, tmp_path, name, content, needles):
    path = str(tmp_path / name) if content is None else _write(tmp_path, name, content)
    code, _, err = run_cli(capsys, "run", "E03", "--init", path)
    assert_one_line_error(code, err, f"--init {path}", *needles)


@pytest.mark.parametrize("fmt", ["json", "npz"])
def test_init_file_is_used_by_both_frameworks(capsys, tmp_path, fmt):
    values = {"a": 0.1, "b": 0.8, "c": -0.05, "d": -0.09}
    if fmt == "json":
        path = _write(tmp_path, "init.json", json.dumps(values))
    else:
        path = str(tmp_path / "init.npz")
        np.savez(path, **{k: np.float64(v) for k, v in values.items()})
    docs = []
    for fw in ("jax", "torch"):
        code, out, _ = run_cli(capsys, "run", "E03", "--init", path, "--steps", "1", "--json", "--framework", fw)
        docs.append(json.loads(out))
    assert docs[0]["history"][0][1] == pytest.approx(docs[1]["history"][0][1], rel=1e-6)
    assert docs[0]["params"]["b"] == pytest.approx(0.8, rel=1e-3)


def test_subprocess_bad_input_has_no_traceback():
    """End to end through `python -m jaxport`: one line on stderr, exit code 2."""
    p = subprocess.run([sys.executable, "-m", "jaxport", "run", "nope"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip() == "jaxport: error: unknown example 'nope': expected an id E01–E29 or a name such as 'polynomial_autograd' (see `jaxport list`)"


def test_progress_bar_per_period_on_stderr_only(capsys, monkeypatch):
    """E17: a bar per epoch between compiled chunks (stderr), the seed's lines unchanged on stdout."""
    monkeypatch.setenv("JAXPORT_PROGRESS", "0")
    assert main(["run", "E17", "--steps", "48", "--dtype", "float64"]) == 0
    plain = capsys.readouterr()
    monkeypatch.setenv("JAXPORT_PROGRESS", "1")
    assert main(["run", "E17", "--steps", "48", "--dtype", "float64"]) == 0
    shown = capsys.readouterr()
    assert shown.out == plain.out  # the same lines, the same numbers: smaller chunks, the same scan
    assert "1/2 [" in shown.err and "2/2 [" in shown.err and "23/24" in shown.err
    assert "[" not in plain.err


def test_an_unimplemented_example_is_one_clear_error(capsys, monkeypatch):
    """Every catalog example is implemented now; one that is not (a catalog entry without its module) says so."""
    from jaxport import catalog

    monkeypatch.setattr(catalog, "is_implemented", lambda e: e.id != "E17")
    code, _, err = run_cli(capsys, "run", "E17")
    assert_one_line_error(code, err, "E17 fashion_mnist_classifier is in the catalog but not implemented yet")
