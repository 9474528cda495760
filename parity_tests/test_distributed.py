"""Data-parallel across processes (jaxport.distributed): N local processes joined through a loopback
coordinator train the same compiled scan as one process over the same number of devices, and as one
device; a killed worker ends the run with one line, a busy port is one line."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jaxport import catalog, distributed, tolerances
from jaxport.errors import UsageError


def _jaxport(*argv, devices: int, timeout: int = 600, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAXPORT_CPU_THREADS": "1", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    for k in distributed.ENV:
        env.pop(k, None)
    return subprocess.run([sys.executable, "-m", "jaxport", *argv], capture_output=True, text=True, env=env,
                          timeout=timeout, **kw)


def _final(example: str, argv: list[str], devices: int, processes: int | None) -> dict:
    extra = []
    if devices > 1 or processes:
        extra = ["--data-parallel"] + (["--processes", str(processes)] if processes else [])
    p = _jaxport("run", example, *argv, "--json", *extra, devices=devices)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def _same_run(example: str, argv: list[str], dtype: str, per_process: int, processes: int) -> None:
    """``processes`` × ``per_process`` devices against one process over as many devices, and one device:
    final parameters and every loss within the table's free-running bound for two correct runs (the
    sums over the batch are ordered differently; that is all that differs)."""
    argv = [*argv, "--dtype", dtype]
    many = _final(example, argv, per_process, processes)
    one_process = _final(example, argv, per_process * processes, None)
    one_device = _final(example, argv, 1, None)
    tol = tolerances.tolerance(example, dtype, "free_running", "cpu")
    for other, label in ((one_process, f"1 process x {per_process * processes} devices"), (one_device, "1 device")):
        for k, v in many["params"].items():
            a, b = np.asarray(v, np.float64), np.asarray(other["params"][k], np.float64)
            scale = max(float(np.abs(b).max()), np.finfo(np.float32).tiny)
            assert float(np.abs(a - b).max()) <= tol.atol + tol.rtol * scale, (label, k, float(np.abs(a - b).max()) / scale)
        la, lb = np.array(many["history"])[:, 1], np.array(other["history"])[:, 1]
        assert np.all(np.abs(la - lb) <= tol.atol + tol.rtol * np.abs(lb)), (label, float(np.max(np.abs(la - lb) / np.abs(lb))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_processes_of_two_devices_train_as_one_process_of_four(dtype):
    _same_run("E28", ["--set", "batch_size=8", "--steps", "60"], dtype, per_process=2, processes=2)


@pytest.mark.slow
@pytest.mark.parametrize("example, argv", [("E17", ["--steps", "48"]),
                                           ("E21", ["--set", "batch_size=8", "--steps", "40"])])
def test_two_processes_of_four_devices_train_as_one_process_of_eight(example, argv):
    _same_run(example, argv, "float32", per_process=4, processes=2)


def test_process_zero_alone_prints_the_seeds_lines():
    """Two processes of one device each print what one process of two devices prints (the same two
    halves of each batch, summed once), and nothing of the collectives' own chatter."""
    one = _jaxport("run", "E28", "--steps", "50", "--dtype", "float64", "--data-parallel", devices=2)
    many = _jaxport("run", "E28", "--steps", "50", "--dtype", "float64", "--data-parallel", "--processes", "2", devices=1)
    assert many.returncode == 0, many.stderr
    assert many.stdout == one.stdout and "[Gloo]" not in many.stdout + many.stderr
    assert many.stderr.startswith("E28 dummy_dataloader_training: 50 steps in") and many.stderr.count("\n") == 1


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        out += [int(c) for c in children]
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the workers through /proc")
def test_a_killed_worker_ends_the_run_with_one_line():
    env = {**os.environ, "JAXPORT_CPU_THREADS": "1", "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    launcher = subprocess.Popen([sys.executable, "-m", "jaxport", "run", "E21", "--steps", "100000", "--data-parallel",
                                 "--processes", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        first = ""
        while not first.startswith("[1,") and time.monotonic() < deadline:  # training, in step, in both processes
            first = launcher.stdout.readline()
        assert first.startswith("[1,"), launcher.stderr.read() if launcher.poll() is not None else "no line in 120 s"
        workers = _children(launcher.pid)
        assert len(workers) == 2
        os.kill(workers[1], signal.SIGKILL)
        start = time.monotonic()
        code = launcher.wait(timeout=60)
        took = time.monotonic() - start
    finally:
        if launcher.poll() is None:
            launcher.kill()
    err = launcher.stderr.read()
    lines = [line for line in err.strip().splitlines() if line]
    assert code == 1 and len(lines) == 1, err
    assert "process 1 of 2" in lines[0] and "killed by SIGKILL" in lines[0] and "stopped" in lines[0]
    assert took < 30
    for pid in workers:  # none left behind
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_busy_port_is_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        if port < 1024:
            pytest.skip("the kernel gave a privileged port")
        p = _jaxport("run", "E28", "--data-parallel", "--processes", "2", "--port", str(port), devices=2)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert f"--port {port}: 127.0.0.1:{port} is busy" in p.stderr


@pytest.mark.parametrize("environ, needle", [
    ({"JAXPORT_COORDINATOR": "127.0.0.1:1234"}, "unset, but JAXPORT_COORDINATOR is set"),
    ({"JAXPORT_COORDINATOR": "nohost", "JAXPORT_NUM_PROCESSES": "2", "JAXPORT_PROCESS_ID": "0"}, "expected host:port"),
    ({"JAXPORT_COORDINATOR": "h:1", "JAXPORT_NUM_PROCESSES": "2", "JAXPORT_PROCESS_ID": "2"}, "0 <= ID < N"),
    ({"JAXPORT_COORDINATOR": "h:1", "JAXPORT_NUM_PROCESSES": "two", "JAXPORT_PROCESS_ID": "0"}, "expected integers"),
])
def test_a_malformed_cluster_environment_is_one_line(environ, needle):
    with pytest.raises(UsageError, match=needle):
        distributed.from_env(environ)


def test_processes_needs_data_parallel_and_an_example_with_batches(capsys):
    from jaxport.cli import main

    assert main(["run", "E28", "--processes", "2"]) == 2
    assert "give it with --data-parallel" in capsys.readouterr().err
    assert main(["run", "E03", "--data-parallel", "--processes", "2"]) == 2
    assert "no batch to shard" in capsys.readouterr().err
    assert catalog.load("E28").batch_axes
