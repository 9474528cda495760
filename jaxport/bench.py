"""Time: the JAX port against its reference.

:func:`bench`, steady state in one process: JAX's loop is timed as a single compiled ``lax.scan`` over
all steps (no printing); the first call (trace + compile + run) is reported apart as compile time
(``jaxport bench`` leaves the persistent compilation cache off, so that is the compiler's own time). The
reference runs its seed loop without recording or printing. Both: one warm-up, then the median of
``repeats`` timed runs.

:func:`startup`, whole processes as a user starts them (``jaxport bench --startup``): ``jaxport run
E03`` and ``E08`` against the seeds' own scripts (:data:`SEED_SCRIPTS`, verbatim), and ``jaxport list``,
each the median of ``repeats`` runs taken in turn, after one untimed run that fills the compilation
cache (a first run ever is reported apart, with the cache off).
"""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from jaxport import harness, params, training
from jaxport.spec import Example


def _timed(fn: Callable[[], Any]) -> float:
    """Seconds of one call, until its result is ready."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - t0


def bench(example: Example, cfg: Any = None, *, device: str = "cpu", repeats: int = 5) -> dict:
    """``{"example", "jax_steady_ms", "torch_steady_ms", "ratio", "jax_compile_ms"}`` (+ settings).

    A training example times its loop (each side's own ``seconds``: the loop, not the set-up); a values
    example (E19's ResNet-18 step) one call of its ``values`` against the reference's (``steps`` 1).
    ``cfg``: the example's config by default."""
    cfg = example.config if cfg is None else cfg
    p0 = params.cast(example.init(), cfg.dtype)
    ref_mod = harness.reference_module(example)
    data = example.make_data(cfg)
    if example.kind == "training":
        def ours() -> float:
            return training.train(example, p0, cfg, device=device).seconds

        def theirs() -> float:
            return ref_mod.train(p0, data, cfg, device=device).seconds
    else:
        on = jax.devices(device)[0]
        placed = jax.device_put(({k: jnp.asarray(v) for k, v in p0.items()}, {k: jnp.asarray(v) for k, v in data.items()}), on)

        def ours() -> float:  # as the port runs it (E19's is compiled; a few are eager, with NumPy inside)
            return _timed(lambda: example.values(*placed, cfg))

        def theirs() -> float:
            return _timed(lambda: ref_mod.values(p0, data, cfg, device=device))

    first_ms = _timed(ours) * 1e3
    jax_ms = statistics.median(ours() * 1e3 for _ in range(repeats))
    theirs()  # warm-up
    ref_ms = statistics.median(theirs() * 1e3 for _ in range(repeats))
    return {
        "example": example.id,
        "jax_steady_ms": jax_ms,
        "torch_steady_ms": ref_ms,
        "ratio": ref_ms / jax_ms,
        "jax_compile_ms": max(0.0, first_ms - jax_ms),
        "reference": ref_mod.FRAMEWORK,
        "steps": getattr(cfg, "steps", 1) if example.kind == "training" else 1,
        "dtype": cfg.dtype,
        "device": device,
        "config": {k: v for k, v in vars(cfg).items() if v != getattr(example.config, k)},  # what --set changed
    }


def format_row(row: dict) -> str:
    return (f"{row['example']}  {row['steps']} step{'s' if row['steps'] != 1 else ''} {row['dtype']} {row['device']}:  jax {row['jax_steady_ms']:.1f} ms "
            f"(compile {row['jax_compile_ms']:.0f} ms)  {row['reference']} {row['torch_steady_ms']:.1f} ms  "
            f"→ {row['ratio']:.1f}× faster" + "".join(f"  {k}={v}" for k, v in row.get("config", {}).items()))


SEED_SCRIPTS = Path(__file__).parent / "seed_scripts"  # the seeds' own E01–E08 scripts, verbatim
# (what is timed, what it is timed against, the target ratio; None: an absolute target in seconds)
STARTUP = (
    ("jaxport list", ["-m", "jaxport", "list"], None, 0.5),
    ("jaxport run E03", ["-m", "jaxport", "run", "E03"], "e03_polynomial_autograd.py", 1.0),
    ("jaxport run E08", ["-m", "jaxport", "run", "E08"], "e08_dynamic_net.py", 0.15),
)


def _wall(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def startup(repeats: int = 5) -> list[dict]:
    """Whole-process seconds, median of ``repeats``: each row ``{"what", "seconds", "against",
    "against_seconds", "ratio", "target", "met", "first_run_seconds"}`` (``ratio``: ours / theirs)."""
    rows = []
    for what, argv, seed, target in STARTUP:
        cold = _wall(argv, {**os.environ, "JAXPORT_COMPILATION_CACHE": "0"})  # a first run ever: compiles
        _wall(argv)  # fills the cache
        theirs = [str(SEED_SCRIPTS / seed)] if seed else None
        ours_s, their_s = [], []
        for _ in range(repeats):  # in turn, so a slow moment of the machine falls on both
            ours_s.append(_wall(argv))
            if theirs:
                their_s.append(_wall(theirs))
        ours = statistics.median(ours_s)
        against = statistics.median(their_s) if theirs else None
        ratio = ours / against if against else None
        met = (ratio <= target) if ratio is not None else (ours <= target)
        rows.append({"what": what, "seconds": ours, "against": f"the seed's {seed}" if seed else None,
                     "against_seconds": against, "ratio": ratio, "target": target, "met": met,
                     "first_run_seconds": cold})
    return rows


def format_startup(row: dict) -> str:
    head = f"{row['what']:<16} {row['seconds']:.2f} s (first run, compiling: {row['first_run_seconds']:.2f} s)"
    if row["ratio"] is None:
        return f"{head}; target <= {row['target']} s: {'met' if row['met'] else 'MISSED'}"
    return (f"{head}; {row['against']} {row['against_seconds']:.2f} s -> {row['ratio']:.2f}x "
            f"(target <= {row['target']}x: {'met' if row['met'] else 'MISSED'})")
