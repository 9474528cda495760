"""Past one machine: the same data-parallel loop over the devices of several processes.

JAX is multi-controller: every process (one per host, usually) runs the same program, joins the
others through a coordinator (``jax.distributed.initialize``), and then ``jax.devices()`` lists the
devices of all of them. A mesh over those devices is global; ``jit`` compiles the same ``lax.scan``
for it and XLA's collectives (gloo on CPU, NCCL on GPU) carry the cross-process sums. Nothing in the
step changes from one process (:mod:`jaxport.parallel`): each process builds the same data in NumPy
and hands the mesh the rows its own devices hold.

Each process is told where it stands by three environment variables, the same on real hosts as for
the local processes ``jaxport run --processes N`` starts:

- ``JAXPORT_COORDINATOR``: ``host:port`` of process 0's coordinator (loopback for local processes);
- ``JAXPORT_NUM_PROCESSES``: how many processes take part;
- ``JAXPORT_PROCESS_ID``: this one's index, 0 … N-1. Process 0 prints the seed's lines and saves.

torch's counterpart is ``torchrun`` (``MASTER_ADDR``/``MASTER_PORT``, ``WORLD_SIZE``, ``RANK``) and
``DistributedDataParallel``; here the launcher only starts processes, and the sharding does the rest.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

from jaxport.errors import JaxportError, UsageError

ENV = ("JAXPORT_COORDINATOR", "JAXPORT_NUM_PROCESSES", "JAXPORT_PROCESS_ID")
JOIN_TIMEOUT_S = 60  # how long a process waits for the others to join before it gives up
POLL_S = 0.2


class WorkerError(JaxportError):
    """A process of a multi-process run failed or was killed: the run ends, exit 1."""

    exit_code = 1


@dataclass(frozen=True)
class Cluster:
    """Where this process stands in a multi-process run."""

    coordinator: str  # "host:port"
    num_processes: int
    process_id: int

    @property
    def leader(self) -> bool:
        """Process 0: the one that prints and saves."""
        return self.process_id == 0


def from_env(environ: dict[str, str] | None = None) -> Cluster | None:
    """The cluster the environment describes (:data:`ENV`), or None when none of the variables is set.

    Raises:
        UsageError: some are set and others not, or a value is malformed.
    """
    env = os.environ if environ is None else environ
    given = {k: env.get(k) for k in ENV}
    if not any(given.values()):
        return None
    missing = [k for k, v in given.items() if not v]
    if missing:
        raise UsageError(f"{', '.join(missing)}: unset, but {', '.join(k for k in ENV if k not in missing)} is set; "
                         f"a multi-process run needs all three of {', '.join(ENV)}")
    host, _, port = given["JAXPORT_COORDINATOR"].rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"JAXPORT_COORDINATOR={given['JAXPORT_COORDINATOR']!r}: expected host:port (e.g. 10.0.0.1:1234)")
    try:
        n, i = int(given["JAXPORT_NUM_PROCESSES"]), int(given["JAXPORT_PROCESS_ID"])
    except ValueError:
        raise UsageError(f"JAXPORT_NUM_PROCESSES={given['JAXPORT_NUM_PROCESSES']!r}, JAXPORT_PROCESS_ID="
                         f"{given['JAXPORT_PROCESS_ID']!r}: expected integers") from None
    if n < 1 or not 0 <= i < n:
        raise UsageError(f"JAXPORT_NUM_PROCESSES={n}, JAXPORT_PROCESS_ID={i}: expected N >= 1 and 0 <= ID < N")
    return Cluster(given["JAXPORT_COORDINATOR"], n, i)


def join(cluster: Cluster) -> None:
    """Join the other processes (before JAX's backend starts): gloo collectives on CPU, then
    ``jax.distributed.initialize``. The C++ runtime's own chatter on stdout ("[Gloo] Rank 0 is
    connected…") goes to stderr, so stdout carries only the seed's lines."""
    import jax

    _keep_stdout_for_python()
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(cluster.coordinator, num_processes=cluster.num_processes,
                                   process_id=cluster.process_id, initialization_timeout=JOIN_TIMEOUT_S)
    except Exception as e:  # noqa: BLE001 - XLA's errors for an unreachable or busy coordinator
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise WorkerError(f"process {cluster.process_id} of {cluster.num_processes} could not join the coordinator "
                          f"at {cluster.coordinator} within {JOIN_TIMEOUT_S} s ({first})") from None


def _keep_stdout_for_python() -> None:
    """Point file descriptor 1 at stderr and give Python's ``sys.stdout`` a copy of the original."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stdout.flush()
        original = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = os.fdopen(original, "w", buffering=1, encoding=sys.stdout.encoding,
                               errors=sys.stdout.errors)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port(port: int) -> None:
    """A clear error when ``port`` on 127.0.0.1 is taken (the coordinator could not listen there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise UsageError(f"--port {port}: 127.0.0.1:{port} is busy ({e.strerror}); expected a free port, or "
                             "leave --port out to have one chosen") from None


def launch(argv: Sequence[str], processes: int, *, port: int | None = None) -> int:
    """Run ``jaxport <argv>`` as ``processes`` local processes joined through a coordinator on
    127.0.0.1 (``port``, default a free one); return the run's exit code.

    Process 0's stdout is this one's (the seed's lines); every process's stderr is kept, and process
    0's is shown when the run ends. When any process fails or is killed, the others are stopped at
    once (no process is left waiting on a collective that will never complete) and one line names
    the process that failed first: its own error line (exit 1 or 2 as it gave), or a
    :class:`WorkerError` saying how it ended.
    """
    if port is None:
        port = free_port()
    else:
        check_port(port)
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for i in range(processes):
            env = {**os.environ, "JAXPORT_COORDINATOR": f"127.0.0.1:{port}", "JAXPORT_NUM_PROCESSES": str(processes),
                   "JAXPORT_PROCESS_ID": str(i), "JAXPORT_PROGRESS": "0"}  # the same compiled chunks everywhere
            log = tempfile.TemporaryFile(mode="w+")
            logs.append(log)
            procs.append(subprocess.Popen([sys.executable, "-m", "jaxport", *argv], env=env, stdin=subprocess.DEVNULL,
                                          stdout=None if i == 0 else subprocess.DEVNULL, stderr=log))
        return _wait(procs, logs)
    finally:
        _stop(procs)
        for log in logs:
            log.close()


def _wait(procs: list[subprocess.Popen], logs: list) -> int:
    while True:
        codes = [p.poll() for p in procs]
        if all(code == 0 for code in codes):
            sys.stderr.write("".join(_lines(logs[0], keep_all=True)))
            return 0
        failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            _stop(procs)
            # the first to fail: one killed by a signal caused the others' failures, not the reverse
            i = next((i for i in failed if codes[i] < 0), failed[0])
            last = _lines(logs[i])
            if codes[i] in (1, 2) and last and last[-1].startswith("jaxport:"):
                sys.stderr.write(last[-1] if i == 0 else last[-1].replace("jaxport: ", f"jaxport: process {i}: ", 1))
                return codes[i]
            raise WorkerError(f"process {i} of {len(procs)} (pid {procs[i].pid}) {_how(codes[i])}"
                              + (f" ({last[-1].strip()[:200]})" if last else "") + "; the other processes were stopped")
        time.sleep(POLL_S)


def _lines(log, keep_all: bool = False) -> list[str]:
    """A process's stderr, less the collectives' own chatter; non-empty lines only unless ``keep_all``."""
    log.flush()
    log.seek(0)
    lines = [line for line in log.read().splitlines(keepends=True) if not line.startswith("[Gloo]")]
    return lines if keep_all else [line for line in lines if line.strip()]


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _stop(procs: list[subprocess.Popen]) -> None:
    """Terminate every process still running, then kill any that has not ended within 5 s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


__all__ = ["Cluster", "ENV", "WorkerError", "check_port", "free_port", "from_env", "join", "launch"]
