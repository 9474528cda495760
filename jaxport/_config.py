"""Process-wide JAX settings jaxport relies on, applied by the CLI and the test suite at start-up.

Importing jaxport applies none of them: a library user's JAX configuration stays theirs.
"""

import os

import jax


def enable_x64() -> None:
    """Let JAX hold float64 arrays. Call before any array exists (the CLI and conftest do).

    float32 work stays float32: every jaxport array is created with an explicit dtype.
    """
    jax.config.update("jax_enable_x64", True)


def limit_cpu_threads(threads: int) -> None:
    """Run JAX's CPU backend and torch on ``threads`` cores each (the CLI and the tests use 1).

    Why: the examples' steps are many tiny kernels. XLA's CPU runtime runs independent kernels
    concurrently on its thread pool, and on a 2-core machine the cross-core hand-offs cost more than
    the kernels: E04's 2000-step loop takes 39–58 ms with the default pool and 12–20 ms with a
    one-core pool (median of 15). torch's intra-op threads stall the same way on small matmuls: a
    recorded 2000-step E05 run took 0.5–0.7 s on one thread and up to 41 s on two on a loaded
    machine. Benchmarks then compare the two frameworks on equal terms, one core each.

    JAX's pool sizes itself from the CPU affinity when the backend starts, so the calling thread
    narrows its affinity, starts the backend, and restores it. Must run before JAX's CPU backend
    starts (before any array or ``jax.devices()``). ``threads`` at least the number of allowed cores
    leaves JAX's pool as it is.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    import torch

    torch.set_num_threads(threads)
    if not hasattr(os, "sched_setaffinity"):
        start_backend()
        return
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        start_backend()
        return
    os.sched_setaffinity(0, allowed[:threads])
    try:
        start_backend()  # and its pool, sized now
    finally:
        os.sched_setaffinity(0, allowed)


def start_backend() -> None:
    """Start JAX's default backend; a platform it cannot start (``JAX_PLATFORMS=cuda`` on a machine
    without one, or a misspelt name) is one UsageError naming the variable, not XLA's traceback."""
    try:
        jax.numpy.zeros((), jax.numpy.float32).block_until_ready()
    except Exception as e:  # RuntimeError for an unknown name; jax 0.10 asserts for cuda without its plugin
        from jaxport.errors import UsageError

        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        given = os.environ.get("JAX_PLATFORMS") or os.environ.get("JAX_PLATFORM_NAME")
        where = f"JAX_PLATFORMS={given!r}: " if given else ""
        raise UsageError(f"{where}JAX cannot start its backend ({first}); expected a platform this machine has "
                         "(cpu, or cuda with a GPU), or the variable unset") from None


def cpu_threads_from_env(default: int = 1) -> int:
    """``JAXPORT_CPU_THREADS`` (default 1): the threads JAX and torch each get, for the CLI and tests."""
    raw = os.environ.get("JAXPORT_CPU_THREADS", str(default))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= cores:
        from jaxport.errors import UsageError

        raise UsageError(f"JAXPORT_CPU_THREADS={raw!r}: expected an integer from 1 to {cores} (the cores this process may use)")
    return value
