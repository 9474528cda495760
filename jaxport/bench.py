"""Steady-state training-loop time: the JAX port against its reference, in one process.

JAX's loop is timed as a single compiled ``lax.scan`` over all steps (no printing); the first call
(trace + compile + run) is reported apart as compile time. The reference runs its seed loop without
recording or printing. Both: one warm-up, then the median of ``repeats`` timed runs.
"""

import statistics
import time

from jaxport import harness, params, training
from jaxport.spec import Example


def bench(example: Example, *, device: str = "cpu", repeats: int = 5) -> dict:
    """``{"example", "jax_steady_ms", "torch_steady_ms", "ratio", "jax_compile_ms"}`` (+ settings)."""
    cfg = example.config
    p0 = params.cast(example.init(), cfg.dtype)
    ref_mod = harness.reference_module(example)
    data = example.make_data(cfg)

    t0 = time.perf_counter()
    training.train(example, p0, cfg, device=device)
    first_ms = (time.perf_counter() - t0) * 1e3
    jax_ms = statistics.median(training.train(example, p0, cfg, device=device).seconds * 1e3 for _ in range(repeats))

    ref_mod.train(p0, data, cfg, device=device)  # warm-up
    ref_ms = statistics.median(ref_mod.train(p0, data, cfg, device=device).seconds * 1e3 for _ in range(repeats))
    return {
        "example": example.id,
        "jax_steady_ms": jax_ms,
        "torch_steady_ms": ref_ms,
        "ratio": ref_ms / jax_ms,
        "jax_compile_ms": max(0.0, first_ms - jax_ms),
        "reference": ref_mod.FRAMEWORK,
        "steps": cfg.steps,
        "dtype": cfg.dtype,
        "device": device,
    }


def format_row(row: dict) -> str:
    return (f"{row['example']}  {row['steps']} steps {row['dtype']} {row['device']}:  jax {row['jax_steady_ms']:.1f} ms "
            f"(compile {row['jax_compile_ms']:.0f} ms)  {row['reference']} {row['torch_steady_ms']:.1f} ms  "
            f"→ {row['ratio']:.1f}× faster")
