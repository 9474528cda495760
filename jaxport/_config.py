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
    """Start JAX's CPU backend with a thread pool confined to ``threads`` cores.

    Why: the polynomial examples' steps are ~25 kernels on 2000-element arrays. XLA's CPU runtime
    runs independent kernels concurrently on its thread pool, and on a 2-core machine the cross-core
    hand-offs cost more than the kernels: E04's 2000-step loop takes 39–58 ms with the default pool
    and 12–20 ms with a one-core pool (measured here, median of 15). The pool sizes itself from the
    CPU affinity at start-up, so the calling thread narrows its affinity, starts the backend, and
    restores its affinity: torch and the rest of the process keep every core.

    Must run before JAX's CPU backend starts (before any array or ``jax.devices()``); a no-op where
    the OS has no ``sched_setaffinity`` or ``threads`` is at least the number of allowed cores.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if not hasattr(os, "sched_setaffinity"):
        return
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return
    os.sched_setaffinity(0, allowed[:threads])
    try:
        jax.numpy.zeros((), jax.numpy.float32).block_until_ready()  # starts the backend and its pool
    finally:
        os.sched_setaffinity(0, allowed)


def cpu_threads_from_env(default: int = 1) -> int:
    """``JAXPORT_CPU_THREADS`` (default 1), the size of JAX's CPU thread pool for the CLI and tests."""
    raw = os.environ.get("JAXPORT_CPU_THREADS", str(default))
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from jaxport.errors import UsageError

        raise UsageError(f"JAXPORT_CPU_THREADS={raw!r}: expected a positive integer")
    return value
