"""Process-wide JAX settings jaxport relies on, applied by the CLI and the test suite at start-up.

Importing jaxport applies none of them: a library user's JAX configuration stays theirs. Nothing here
imports torch or JAX before it is needed: ``jaxport list`` imports neither, a JAX-only ``jaxport run``
never imports torch (its thread count is applied by :func:`configure_torch` when a reference first
needs torch).
"""

import os
import sys
from pathlib import Path

_TORCH_THREADS: int | None = None  # what limit_cpu_threads asked for, applied when torch is first used


def enable_x64() -> None:
    """Let JAX hold float64 arrays. Call before any array exists (the CLI and conftest do).

    float32 work stays float32: every jaxport array is created with an explicit dtype.
    """
    import jax

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
    global _TORCH_THREADS
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    _TORCH_THREADS = threads
    if "torch" in sys.modules:  # already imported (the test suite): apply now; else when a reference needs it
        configure_torch()
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


def configure_torch() -> None:
    """Import torch and give it the threads :func:`limit_cpu_threads` asked for (once; a no-op without
    a request). The references call it before their first tensor, so only a run that uses torch pays
    for importing it (0.9 s here)."""
    import torch

    if _TORCH_THREADS is not None and torch.get_num_threads() != _TORCH_THREADS:
        torch.set_num_threads(_TORCH_THREADS)


def cache_dir() -> Path | None:
    """Where compiled XLA programs persist between runs: ``$JAXPORT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/jaxport/xla`` (``~/.cache/jaxport/xla``); ``None`` when ``JAXPORT_COMPILATION_CACHE=0``."""
    if os.environ.get("JAXPORT_COMPILATION_CACHE", "1").strip().lower() in ("0", "false", "off", "no"):
        return None
    given = os.environ.get("JAXPORT_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxport" / "xla"


def enable_compilation_cache() -> Path | None:
    """Turn on JAX's persistent compilation cache in :func:`cache_dir` (before the first compile), so a
    second run of an example loads its compiled loop instead of compiling it again.

    Every program is cached, however quick to compile (the examples' loops compile in 0.1–2 s; those
    seconds are the start-up a user waits for). JAX writes each entry to a temporary file and renames it
    into place, so two runs sharing the folder never read half an entry; the key covers the program,
    the compiler options, the jax/jaxlib versions and the device, so a stale entry is never used. A
    folder that cannot be created or written leaves the cache off (a run never fails for it). The
    cache is trusted code: keep it in a folder only you can write (the default is your own).
    """
    folder = cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder


def start_backend() -> None:
    """Start JAX's default backend; a platform it cannot start (``JAX_PLATFORMS=cuda`` on a machine
    without one, or a misspelt name) is one UsageError naming the variable, not XLA's traceback."""
    import jax

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
