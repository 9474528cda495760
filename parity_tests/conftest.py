"""Suite-wide settings: x64 on (float32 and float64 in one process), strict promotion.

Strict dtype promotion and rank-promotion errors make a silent float64 upcast or an accidental
broadcast fail loudly instead of passing a comparison by luck.
"""

import os

import jax
import pytest

import jaxport

# The CLI turns on JAX's persistent compilation cache in the user's cache folder; the suite runs it
# in-process hundreds of times and leaves that folder alone (test_startup.py tests the cache in its own).
os.environ.setdefault("JAXPORT_COMPILATION_CACHE", "0")


def _own_core() -> None:
    """Under pytest-xdist (``-n 2``, the default: see pyproject.toml) each worker keeps to its own cores.

    ``limit_cpu_threads`` starts JAX's one-thread pool on the first allowed core; two workers would
    otherwise both run on core 0 and leave core 1 idle. Worker ``gwK`` keeps core ``K mod cores``
    (its subprocesses inherit it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1 or len(cores) < 2:
        return
    k = int(worker[2:])
    share = max(1, len(cores) // workers)
    os.sched_setaffinity(0, cores[(k * share) % len(cores):][:share] or cores[:share])


_own_core()
jaxport.enable_x64()
jaxport.limit_cpu_threads(jaxport.cpu_threads_from_env())  # as the CLI does
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_addoption(parser):
    parser.addoption("--device", default="cpu", choices=("cpu", "gpu"), help="where the parity tests run both frameworks")


@pytest.fixture(scope="session")
def device(request) -> str:
    dev = request.config.getoption("--device")
    if dev == "gpu":
        import torch

        if not torch.cuda.is_available() or not [d for d in jax.devices() if d.platform == "gpu"]:
            pytest.skip("--device gpu: no GPU visible to JAX and torch")
    return dev
