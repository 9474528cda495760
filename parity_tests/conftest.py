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
