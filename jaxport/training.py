"""The one training loop: ``jit`` + ``lax.scan`` over steps, in chunks so progress prints as it runs.

Each example supplies a pure step (:meth:`jaxport.spec.TrainingExample.train_step`:
``(state, data, t, cfg) -> (state, aux)``). A chunk of steps is one
compiled ``lax.scan``; between chunks the host prints the seed's periodic line from the chunk's
stacked ``aux`` (no host callback per step) and checks the losses for NaN/inf. With no report the
whole run is a single scan. On CPU it compiles with :data:`CPU_COMPILER_OPTIONS` (see there), and so
do the parity harness's evaluations of the same step.
"""

import functools
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.errors import DivergenceError, UsageError
from jaxport.spec import TrainingExample


def jax_device(device: str) -> jax.Device:
    """The first JAX device of a platform ('cpu' or 'gpu'); a clear error when there is none."""
    if device not in ("cpu", "gpu"):
        raise UsageError(f"--device {device!r}: expected 'cpu' or 'gpu'")
    try:
        return jax.devices(device)[0]
    except RuntimeError:
        found = ", ".join(sorted({d.platform for d in jax.devices()}))
        raise UsageError(f"--device {device}: JAX sees no {device} device (it has: {found})") from None


# XLA's CPU compiler rewrites every reduction longer than 32 elements into partial sums over windows
# of 32 (``reduce-window``) and a second reduce: the ``tree_reduction_rewriter`` pass, there for the
# accuracy of long float sums. The polynomial examples' step is a handful of 2000-element sums, so
# each sum became three kernels and a step about 21 of them. Measured here, XLA CPU's direct reduce
# is as accurate as the rewrite beyond 2000 elements and comparable at 2000 (XLA itself drops the pass
# for its MLIR-emitter compiles: "reduce window is quite slow, and reduce is supposed to have similar
# numerics"). Float32 sums of squares of uniform values against float64 (one default_rng(0) stream,
# drawn in turn for n = 2e3, 1.6e4, 1e6, 1e7): 1.1e-7 direct against 7.5e-8 rewritten at 2000; 6.6e-8,
# 6.6e-8, 1.4e-8 both at the others (a sequential float32 sum: 3.6e-4 at 1e6). E03's float32 loss and
# gradients against float64: 1.7-2.3e-7 either way. Without the pass E03's 2000 steps take 2.7 ms
# instead of 7.1-7.2 (bench).
# The training loop and the parity harness's regime evaluations compile with these options, so what
# is checked is what is timed (the demonstrations' one-off ``values`` keep plain ``jax.jit``); GPU
# compiles keep XLA's defaults.
CPU_COMPILER_OPTIONS: Mapping[str, str] = {"xla_disable_hlo_passes": "tree_reduction_rewriter"}


def compiler_options(platform: str | None) -> dict[str, str]:
    """The XLA options jaxport compiles with on ``platform`` ('cpu': :data:`CPU_COMPILER_OPTIONS`;
    ``None``: none, for a jit nested in an outer trace, which only the outermost jit may configure)."""
    return dict(CPU_COMPILER_OPTIONS) if platform == "cpu" else {}


def jit(fn: Callable, platform: str | None, **kwargs: Any) -> Callable:
    """``jax.jit(fn, **kwargs)`` with jaxport's :func:`compiler_options` for ``platform``."""
    return jax.jit(fn, compiler_options=compiler_options(platform) or None, **kwargs)


def _tracing(tree: Any) -> bool:
    """Whether we are inside an outer staging transformation (jit, make_jaxpr, eval_shape, or a vmap or
    grad of the loop's own arguments): a leaf is a tracer, or an operation on constants is staged into
    an outer trace instead of running (no public API says "top level"; this asks JAX by doing)."""
    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree)):
        return True
    return isinstance(jax.lax.add(np.int32(0), np.int32(0)), jax.core.Tracer)


def platform_of(tree: Any) -> str | None:
    """The platform ('cpu', 'gpu') that a pytree's first placed array lives on; JAX's default backend if
    none is placed (NumPy values); ``None`` inside an outer transformation (:func:`_tracing`), where a
    nested ``jit`` must not carry compiler options (the outermost compile decides; a top-level ``vmap``
    or ``grad`` of the loop therefore compiles with XLA's defaults)."""
    if _tracing(tree):
        return None
    for leaf in jax.tree.leaves(tree):
        if isinstance(leaf, jax.Array):
            return next(iter(leaf.devices())).platform
    return jax.default_backend()


def _scan_steps(step: Callable, cfg: Any, params: Any, data: Any, t0: jax.Array, length: int, loss_only: bool = False,
                prepare: Callable | None = None):
    if prepare is not None:
        data = {**data, **prepare(data)}

    def body(p, t):
        p, aux = step(p, data, t, cfg)
        return p, ({"loss": aux["loss"]} if loss_only else aux)

    return jax.lax.scan(body, params, t0 + jnp.arange(length, dtype=jnp.int32))


@functools.cache
def compiled_scan(platform: str | None) -> Callable:
    """:func:`scan_steps`' compiled form for ``platform`` (``.lower(...)`` gives its HLO)."""
    return jit(_scan_steps, platform, static_argnames=("step", "cfg", "length", "loss_only", "prepare"))


def scan_steps(step: Callable, cfg: Any, params: Any, data: Any, t0: jax.Array, length: int, loss_only: bool = False,
               prepare: Callable | None = None):
    """``length`` steps from step ``t0``: returns the new params and each step's ``aux``, stacked.

    One ``jit`` + ``lax.scan``, compiled for the platform ``params`` and ``data`` live on. ``loss_only`` keeps just
    ``aux["loss"]`` (nothing else is stacked when nothing will be printed). ``prepare`` (an example's
    loop-invariant data, :attr:`Example.prepare`) runs once, before the scan.
    """
    return compiled_scan(platform_of((params, data, t0)))(step, cfg, params, data, t0, length, loss_only, prepare)


def run_steps(
    example: TrainingExample,
    cfg: Any,
    params: Any,
    data: Any,
    *,
    chunk: int | None = None,
    on_chunk: Callable[[int, Mapping[str, np.ndarray]], None] | None = None,
) -> tuple[Any, np.ndarray]:
    """Run ``cfg.steps`` steps of ``example.train_step`` in compiled chunks; return (state, losses).

    Raises:
        DivergenceError: a loss is NaN or infinite (naming the first such step).
    """
    chunk = max(1, chunk or cfg.steps)
    losses = []
    t = 0
    while t < cfg.steps:
        n = min(chunk, cfg.steps - t)
        params, aux = scan_steps(example.train_step, cfg, params, data, jnp.asarray(t, jnp.int32), n, on_chunk is None,
                                 example.prepare)
        aux = jax.tree.map(np.asarray, aux)
        loss = aux["loss"]
        bad = np.flatnonzero(~np.isfinite(loss))
        if bad.size:
            raise DivergenceError(example.label, "jax", t + int(bad[0]), float(loss[bad[0]]))
        losses.append(loss)
        if on_chunk is not None:
            on_chunk(t, aux)
        t += n
    return params, (np.concatenate(losses) if losses else np.zeros((0,)))


class Progress:
    """A progress bar for each report period (an epoch for E17), on stderr when it is a terminal.

    It redraws between compiled chunks of ``period // 20`` steps, so the loop stays a scan (no host
    callback per step); ``JAXPORT_PROGRESS=1`` forces it on, ``0`` off.
    """

    WIDTH = 30

    def __init__(self, steps: int, period: int, stream: Any = None):
        self.steps, self.period = steps, max(1, period)
        self.stream = sys.stderr if stream is None else stream
        self.chunk = max(1, self.period // 20)

    @staticmethod
    def wanted(stream: Any = None) -> bool:
        flag = os.environ.get("JAXPORT_PROGRESS")
        if flag is not None:
            return flag not in ("", "0")
        stream = sys.stderr if stream is None else stream
        return hasattr(stream, "isatty") and stream.isatty()

    def show(self, done: int) -> None:
        """Draw the bar of the period that step ``done`` falls in."""
        period, into = divmod(done, self.period)
        if into == 0:  # a period just ended: its line is printed, the next bar starts with its first chunk
            return
        filled = self.WIDTH * into // self.period
        total = -(-self.steps // self.period)
        self.stream.write(f"\r{period + 1}/{total} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {into}/{self.period}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.WIDTH + 30) + "\r")
        self.stream.flush()


@dataclass
class TrainResult:
    params: dict[str, np.ndarray]
    losses: np.ndarray
    seconds: float


def train(
    example: TrainingExample,
    params: Mapping[str, Any],
    cfg: Any = None,
    *,
    device: str = "cpu",
    report: Callable[[str], None] | None = None,
    chunk: int | None = None,
    state: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train ``example`` from ``params`` (cast to ``cfg.dtype``; ``cfg`` default the seed's) with the JAX port.

    ``state``: leaves of the training state to start from instead of the example's initial ones (a
    resumed optimizer's buffers and counts, :func:`jaxport.optim_state.from_torch`), each named and
    shaped as the state's own.

    With ``report`` (e.g. ``print``), prints the seed's periodic lines while it runs and its final lines
    at the end. ``chunk``: steps per compiled call (Ctrl-C is honoured between them); default the print
    period when reporting, else the whole run in one. The result's ``params`` is the final training
    state (parameters, and optimizer buffers if any).
    """
    from jaxport import params as params_mod

    cfg = example.config if cfg is None else cfg
    dev = jax_device(device)
    data = jax.device_put(example.make_data(cfg), dev)
    start = example.state(params_mod.cast(params, cfg.dtype), cfg)
    for k, v in (state or {}).items():
        if k not in start or np.shape(v) != np.shape(start[k]) or np.asarray(v).dtype != np.asarray(start[k]).dtype:
            raise ValueError(f"{example.label}: state leaf {k!r} {np.shape(v)} {np.asarray(v).dtype} does not fit the "
                             f"training state's {np.shape(start.get(k, ()))} {np.asarray(start.get(k, 0)).dtype if k in start else '(absent)'}")
    p = jax.device_put({**start, **(state or {})}, dev)
    return train_placed(example, p, data, cfg, report=report, chunk=chunk)


def train_placed(example: TrainingExample, p: Any, data: Any, cfg: Any, *, report: Callable[[str], None] | None = None,
                 chunk: int | None = None) -> TrainResult:
    """:func:`train` from a state and data already placed on devices (one device, or sharded over a
    mesh by :mod:`jaxport.parallel`): the same loop, the same lines."""
    every = cfg.print_every
    bar = Progress(cfg.steps, every) if report is not None and Progress.wanted() else None

    def on_chunk(t0: int, aux: Mapping[str, np.ndarray]) -> None:
        for i in range(len(aux["loss"])):
            if example.prints_at(t0 + i, cfg):
                if bar is not None:
                    bar.clear()
                report(example.report_line(t0 + i, jax.tree.map(lambda a: a[i], aux)))
        if bar is not None:
            bar.show(t0 + len(aux["loss"]))

    start = time.perf_counter()
    if report is not None:
        chunk = every if bar is None else bar.chunk
    p, losses = run_steps(example, cfg, p, data, chunk=chunk, on_chunk=on_chunk if report else None)
    if bar is not None:
        bar.clear()
    final = {k: np.asarray(v) for k, v in p.items()}
    seconds = time.perf_counter() - start
    if report is not None:
        for line in example.result_lines(final, float(losses[-1]) if losses.size else float("nan")):
            report(line)
    return TrainResult(final, losses, seconds)
