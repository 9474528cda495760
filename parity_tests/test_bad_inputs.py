"""Edges a careless or hostile user reaches: values that are not what they claim, resources, the environment.

Each case is one line on stderr naming what was wrong, and exit 2 (a closed pipe: a quiet 141),
never a traceback; a file is checked against what it may hold before it is read whole.
"""

import gzip
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from jaxport.cli import main

from test_cli import assert_one_line_error, run_cli


def _npz_declaring(path: Path, name: str, shape: tuple[int, ...]) -> Path:
    """An .npz whose member's header declares ``shape`` (float64) with almost no data behind it: what
    a 2 MB file claiming a 2 GiB array looks like to a reader that trusts it."""
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    buf = np.lib.format.magic(1, 0) + b""
    text = repr(header).encode("latin1")
    pad = 64 - (len(buf) + 2 + len(text) + 1) % 64
    buf += struct.pack("<H", len(text) + pad + 1) + text + b" " * pad + b"\n" + b"\0" * 1024
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.npy", buf)
    return path


# --- values that are not what they claim ------------------------------------------------------------

@pytest.mark.parametrize("value, needle", [
    ('"0.1"', "is not a number"),
    ("true", "is not a number"),
    ("null", "is not a number"),
    ("[1, [2]]", "ragged nested list"),
    ("1" + "0" * 400, "too large for float64"),
])
def test_json_init_values_must_be_numbers(capsys, tmp_path, value, needle):
    f = tmp_path / "init.json"
    f.write_text('{"a": %s, "b": 0.1, "c": 0.1, "d": 0.1}' % value)
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "parameter 'a'", needle)


@pytest.mark.parametrize("array", [
    np.array("0.1"), np.array(True), np.array(1 + 2j), np.array(np.datetime64("2026-01-01")),
    np.zeros((), dtype=[("x", "f8")]),
], ids=["str", "bool", "complex", "datetime64", "structured"])
def test_npz_init_entries_must_be_real_numbers(capsys, tmp_path, array):
    f = tmp_path / "init.npz"
    np.savez(f, a=array, b=np.float64(0.1), c=np.float64(0.1), d=np.float64(0.1))
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "parameter 'a'", "expected real numbers")


@pytest.mark.parametrize("content, needle", [
    ('{"a": 1e39, "b": 0, "c": 0, "d": 0}', "1e+39, which float32 cannot hold"),
    ('{"a": 1e308, "b": 0, "c": 0, "d": 0}', "which float32 cannot hold"),
])
def test_a_value_the_runs_dtype_cannot_hold_is_bad_input(capsys, tmp_path, content, needle):
    f = tmp_path / "init.json"
    f.write_text(content)
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f), "--dtype", "float32")
    assert_one_line_error(code, err, "parameter 'a'", needle, "--dtype float64")
    code, out, _ = run_cli(capsys, "compare", "E03", "--steps", "5", "--init", str(f), "--dtype", "float32")
    assert code == 2 and "FAIL" not in out


def test_a_float64_npz_value_beyond_float32_is_named(capsys, tmp_path):
    f = tmp_path / "init.npz"
    np.savez(f, a=np.float64(1e300), b=np.float64(0), c=np.float64(0), d=np.float64(0))
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "parameter 'a'", "float32 cannot hold")


@pytest.mark.parametrize("argv, needle", [
    (["--lr", "1e-50"], "rounds to 0"),
    (["--lr", "1e39"], "cannot hold it"),
    (["--lr", "1e308"], "cannot hold it"),
])
def test_a_learning_rate_the_dtype_cannot_hold_is_bad_input(capsys, argv, needle):
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--dtype", "float32", *argv)
    assert_one_line_error(code, err, argv[0], needle)


def test_a_set_value_the_dtype_cannot_hold_is_bad_input(capsys):
    code, _, err = run_cli(capsys, "compare", "E17", "--steps", "5", "--dtype", "both", "--set", "weight_decay=1e39")
    assert_one_line_error(code, err, "--set weight_decay", "float32")


def test_a_float64_learning_rate_that_diverges_is_a_diverged_run_without_warnings(capsys, recwarn):
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--dtype", "float64", "--lr", "1e308")
    assert_one_line_error(code, err, "diverged", exit_code=1)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in recwarn]


@pytest.mark.parametrize("example, setting, needle", [
    ("E03", "print_every=0", "an integer at least 1"),
    ("E21", "batch_size=0", "an integer at least 1"),
    ("E17", "batch_size=-1", "an integer at least 1"),
    ("E13", "momentum=-1", "a finite number at least 0"),
    ("E15", "betas=0.9,1.5", "each a finite number in [0, 1)"),
    ("E28", "data_seed=-3", "an integer at least 0"),
])
def test_a_set_value_outside_its_fields_range_is_refused(capsys, example, setting, needle):
    """A config field says its range in its type (``jaxport.spec.Positive``, ``Fraction``...): a count
    of 0, a negative momentum or a beta of 1.5 is refused as torch's optimizers would refuse it."""
    for command in ("run", "compare"):
        code, _, err = run_cli(capsys, command, example, "--set", setting)
        assert_one_line_error(code, err, f"--set {setting}", needle)


def test_extra_orders_are_refused_not_ignored(capsys, tmp_path):
    f = tmp_path / "orders.json"
    f.write_text(json.dumps([4, 5, 6] * 17))
    code, _, err = run_cli(capsys, "run", "E08", "--steps", "10", "--orders", str(f))
    assert_one_line_error(code, err, "51 orders", "10 steps", "--steps 51")


@pytest.mark.parametrize("flag", ["--save", "--init", "--orders", "--plot", "--data-dir"])
def test_an_empty_path_is_refused(capsys, flag):
    command = "compare" if flag == "--plot" else "run"
    example = {"--orders": "E08", "--data-dir": "E17"}.get(flag, "E03")
    code, _, err = run_cli(capsys, command, example, "--steps", "5", flag, "")
    assert_one_line_error(code, err, flag, "expected a")


@pytest.mark.parametrize("example, argv, needle", [
    ("E10", ["--steps", "5"], "has no steps"),
    ("E25", ["--lr", "0.5"], "has no lr"),
    ("E19", ["--steps", "5"], "has no steps"),
])
def test_a_flag_the_example_does_not_have_is_refused(capsys, example, argv, needle):
    for command in ("run", "compare"):
        code, _, err = run_cli(capsys, command, example, *argv)
        assert_one_line_error(code, err, argv[0], needle)


def test_with_several_examples_a_flag_applies_to_those_that_have_it(capsys):
    code, _, err = run_cli(capsys, "compare", "E10", "E12", "--steps", "5")
    assert_one_line_error(code, err, "--steps", "none of E10, E12 has a 'steps' to set")
    # E03 trains, E12 does not: --steps reaches E03 alone (test_seed_sweep runs that pair)


# --- resources -----------------------------------------------------------------------------------------

def test_an_npz_declaring_a_huge_array_is_refused_before_it_is_read(capsys, tmp_path):
    f = _npz_declaring(tmp_path / "big.npz", "a", (2**28,))  # 2 GiB of float64 declared, ~1 kB stored
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "parameter 'a' has shape [268435456], expected []")


def test_a_json_or_pth_far_larger_than_the_parameters_is_refused_unread(capsys, tmp_path):
    f = tmp_path / "init.json"
    f.write_text('{"a": 0.1, "b": 0.1, "c": 0.1, "d": 0.1, "pad": "' + "x" * 2**21 + '"}')
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "bytes, more than the")


def test_a_gzipped_idx_inflating_past_its_split_is_never_inflated(capsys, tmp_path):
    """A header claiming 5,000,000 28×28 images (3.9 GB): refused from the header; one claiming the
    train split's 60000 followed by far more bytes: read to one byte past the expected size, refused."""
    from jaxport.datasets import DatasetError, idx

    def write(name, magic, dims, extra):
        with gzip.open(tmp_path / f"{name}.gz", "wb") as f:
            f.write(struct.pack(f">i{len(dims)}i", magic, *dims))
            f.write(b"\0" * extra)

    write("train-images-idx3-ubyte", idx.IMAGES_MAGIC, (5_000_000, 28, 28), 1000)
    write("train-labels-idx1-ubyte", idx.LABELS_MAGIC, (5_000_000,), 1000)
    with pytest.raises(DatasetError, match="claims 3,920,000,000 bytes of data, expected at most"):
        idx.load(tmp_path)
    write("train-images-idx3-ubyte", idx.IMAGES_MAGIC, (100, 28, 28), 100 * 784 + 10**7)
    with pytest.raises(DatasetError, match=r"too long: 78417 bytes"):  # header 16 + 78400 + the one byte past
        idx.load(tmp_path)


def test_cifar_batch_larger_than_one_batch_is_refused_before_it_is_read(tmp_path):
    from jaxport.datasets import DatasetError, cifar10

    big = tmp_path / "data_batch_1.bin"
    with open(big, "wb") as f:
        f.truncate(10001 * cifar10.RECORD)  # sparse: no disk used
    with pytest.raises(DatasetError, match="expected at most 30,730,000"):
        cifar10.read_batch(big)


@pytest.mark.parametrize("argv, needle", [
    (["run", "E03", "--steps", "99999999999999999999"], "at most 100,000,000 steps"),
    (["compare", "E03", "--steps", "99999999999999999999"], "at most 100,000,000 steps"),
    (["bench", "E03", "--repeats", "99999999999"], "at most 1000 repeats"),
])
def test_counts_past_what_a_run_can_hold_are_refused(capsys, argv, needle):
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, needle)


def test_a_json_run_is_chunked_so_ctrl_c_is_honoured(monkeypatch):
    """--json trains in the print period's compiled chunks, as a printed run does (not one scan)."""
    from jaxport import training

    seen = []
    real = training.run_steps

    def spy(example, cfg, params, data, *, chunk=None, on_chunk=None):
        seen.append(chunk)
        return real(example, cfg, params, data, chunk=chunk, on_chunk=on_chunk)

    monkeypatch.setattr(training, "run_steps", spy)
    assert main(["run", "E03", "--steps", "300", "--json"]) == 0
    assert seen == [100]


# --- the environment -----------------------------------------------------------------------------------

def _cli(*argv, env=None, **kw):
    full = {**os.environ, "JAXPORT_CPU_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "jaxport", *argv], capture_output=True, text=True, timeout=300,
                          env=full, **kw)


@pytest.mark.parametrize("env, needle", [
    ({"JAXPORT_CPU_THREADS": "100000"}, "expected an integer from 1 to"),
    ({"JAX_PLATFORMS": "bogus"}, "JAX_PLATFORMS='bogus'"),
    ({"JAX_PLATFORMS": "cuda"}, "JAX_PLATFORMS='cuda'"),
])
def test_an_environment_jax_cannot_start_in_is_one_line(env, needle):
    p = _cli("run", "E03", "--steps", "5", env=env)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip().count("\n") == 0 and needle in p.stderr, p.stderr


def test_an_ascii_terminal_gets_the_list_without_a_traceback():
    p = _cli("list", env={"PYTHONIOENCODING": "ascii"})
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert "E03  +  polynomial_autograd" in p.stdout


def test_a_closed_pipe_ends_quietly():
    p = subprocess.run(f"{sys.executable} -m jaxport run E03 | head -1", shell=True, capture_output=True, text=True,
                       timeout=300, env={**os.environ, "JAXPORT_CPU_THREADS": "1"})
    assert p.stdout.count("\n") == 1 and p.stderr == "", p.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_one_line():
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "jaxport", "list"], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=120, env={**os.environ, "JAXPORT_CPU_THREADS": "1"})
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.count("\n") == 1, p.stderr
    assert "No space left on device" in p.stderr


@pytest.mark.parametrize("flag", ["--save", "--init", "--plot", "--data-dir"])
def test_a_name_too_long_for_the_file_system_is_one_line(capsys, tmp_path, flag):
    name = str(tmp_path / ("x" * 300 + {"--save": ".npz", "--init": ".npz", "--plot": ".png"}.get(flag, "")))
    command, example = ("compare", "E03") if flag == "--plot" else ("run", "E17" if flag == "--data-dir" else "E03")
    code, _, err = run_cli(capsys, command, example, "--steps", "5", flag, name)
    assert_one_line_error(code, err, flag)


def test_a_save_name_that_fits_but_its_temporary_name_would_not_is_written(capsys, tmp_path):
    target = tmp_path / ("y" * 250 + ".npz")
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--save", str(target))
    assert code == 0 and target.exists(), err


def _as_nobody(argv, cwd):
    """``argv`` run as an unprivileged user (root writes anywhere: a permission test needs someone else)."""
    env = {**os.environ, "JAXPORT_CPU_THREADS": "1", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "jaxport", *argv], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env, **_demoted())


def _demoted() -> dict:
    """subprocess arguments that run a child as 'nobody' when we are root (none otherwise)."""
    if os.geteuid() != 0:
        return {}
    import pwd

    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _readonly_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(folder, 0o555)
    return folder


def _unprivileged_possible() -> bool:
    """Not root, or root with a 'nobody' who can run this interpreter (a pyenv under /root cannot)."""
    if os.geteuid() != 0:
        return True
    try:
        return subprocess.run([sys.executable, "-c", "import jaxport"], capture_output=True, timeout=120,
                              **_demoted()).returncode == 0
    except (OSError, KeyError):
        return False


needs_unprivileged = pytest.mark.skipif(not _unprivileged_possible(), reason="needs to run as a user who is not root")


@pytest.mark.parametrize("command, flag, value", [("run", "--save", "out.npz"), ("compare", "--plot", "out.png")])
def test_a_folder_that_refuses_the_write_is_found_before_the_run(capsys, monkeypatch, tmp_path, command, flag, value):
    """What a folder without write permission does to anyone not root (the tests below, where they can
    run): creating the temporary file fails. Found before training; nothing printed on stdout."""
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, out, err = run_cli(capsys, command, "E03", "--steps", "5", flag, value)
    assert_one_line_error(code, err, f"{flag} {value}: cannot write there (Permission denied)")
    assert out == ""


@needs_unprivileged
@pytest.mark.parametrize("save", ["ro/out.npz", "out.npz"])
def test_save_where_the_user_cannot_write_is_refused_before_training(tmp_path, save):
    folder = _readonly_folder(tmp_path)
    cwd = folder if save == "out.npz" else tmp_path
    p = _as_nobody(["run", "E03", "--save", save], cwd)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert "cannot write there" in p.stderr and p.stdout == "", (p.stdout, p.stderr)


@needs_unprivileged
def test_plot_in_a_read_only_home_and_folder_is_refused_before_the_run(tmp_path):
    folder = _readonly_folder(tmp_path)
    p = _as_nobody(["compare", "E03", "--steps", "5", "--plot", "out.png"], folder)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "Matplotlib" not in p.stderr, p.stderr
    assert "--plot out.png: cannot write there" in p.stderr and p.stdout == ""


@pytest.mark.parametrize("umask, existing, expected", [(0o022, None, 0o644), (0o077, None, 0o600),
                                                        (0o022, 0o640, 0o640)])
def test_save_keeps_the_files_mode_or_the_umasks(tmp_path, umask, existing, expected):
    from jaxport import checkpoint

    target = tmp_path / "p.npz"
    if existing is not None:
        target.write_bytes(b"")
        os.chmod(target, existing)
    old = os.umask(umask)
    try:
        checkpoint.save({"a": np.zeros(2)}, target)
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == expected


def test_a_read_only_file_is_not_replaced(capsys, tmp_path):
    target = tmp_path / "keep.npz"
    target.write_bytes(b"mine")
    os.chmod(target, 0o444)
    if os.geteuid() == 0:  # root may write anything: os.access says so, and jaxport takes its word
        pytest.skip("root may replace a read-only file")
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--save", str(target))
    assert_one_line_error(code, err, "read-only")
    assert target.read_bytes() == b"mine"


def test_a_safetensors_header_declaring_other_shapes_is_refused_before_reading(capsys, tmp_path):
    from safetensors.numpy import save_file

    f = tmp_path / "init.safetensors"
    save_file({"a": np.zeros(3), "b": np.zeros(()), "c": np.zeros(()), "d": np.zeros(())}, str(f))
    code, _, err = run_cli(capsys, "run", "E03", "--steps", "5", "--init", str(f))
    assert_one_line_error(code, err, "parameter 'a' has shape [3], expected []")
