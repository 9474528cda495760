"""What the scripts here share: the seed's inputs (:func:`inputs`) and the training loop (:func:`train`).

The loop is a seed's ``for t in range(steps)``, compiled. A seed's script runs its loop body once per
step in Python, mutating tensors, and prints every ``print_every`` steps. In JAX the body is the port's
pure step, ``state, aux = train_step(state, data, t, cfg)``: the parameters (and the optimizer's
buffers) in, new ones out, nothing mutated. So ``jax.lax.scan`` can repeat it: the ``print_every``
steps between two printed lines are one ``jax.jit``-compiled call, and between calls Python prints the
seed's lines from the steps' stacked outputs (``aux``). What differs between examples (the step, the
data, which steps print, what they print) is the port's ``EXAMPLE``; the loop is this one. It prints
what ``jaxport run ENN`` prints, bit for bit: the same step, the same chunks, the same compiler options.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

import jaxport
from jaxport import params, training
from jaxport.spec import Example, TrainingExample

# As `jaxport run` starts: float64 available (E01, E26 are float64 as their NumPy seeds), which JAX
# allows only if switched on before any array exists; JAX (and torch) on JAXPORT_CPU_THREADS cores (1).
jaxport.enable_x64()
jaxport.limit_cpu_threads(jaxport.cpu_threads_from_env())
CPU = jax.devices("cpu")[0]  # where `jaxport run` runs by default (--device cpu)


def inputs(example: Example) -> tuple:
    """The seed's settings, initial values (cast to its dtype) and data, placed on the CPU."""
    cfg = example.config
    p0 = params.cast(example.init(), cfg.dtype)  # the seed's fixed values, else default_rng(0)'s draws
    return cfg, jax.device_put(p0, CPU), jax.device_put(example.make_data(cfg), CPU)


def train(example: TrainingExample) -> dict[str, np.ndarray]:
    """Train ``example`` with its seed's settings, printing the seed's lines; return the final state."""
    cfg, p0, data = inputs(example)
    state = example.state(p0, cfg)  # the parameters, and the optimizer's buffers under torch's names
    for line in example.header_lines(cfg) if example.header_lines else ():
        print(line)

    # n steps of the seed's loop body as one compiled call. XLA's CPU compiler would split every long
    # sum into partial sums (a pass that changes how float32 sums round); jaxport compiles without that
    # pass, so the same options give the same numbers as `jaxport run`, bit for bit.
    @functools.partial(jax.jit, static_argnums=3, compiler_options=training.CPU_COMPILER_OPTIONS)
    def run_steps(state, data, t0, n):
        data = example.prepared(data)  # loop-invariant arrays (E05's powers of x): once per call, not per step
        return jax.lax.scan(lambda s, t: example.train_step(s, data, t, cfg), state,
                            t0 + jnp.arange(n, dtype=jnp.int32))

    for t0 in range(0, cfg.steps, cfg.print_every):
        n = min(cfg.print_every, cfg.steps - t0)
        state, aux = run_steps(state, data, jnp.int32(t0), n)  # aux: each step's outputs, stacked
        aux = jax.tree.map(np.asarray, aux)
        for i in range(n):
            if example.prints_at(t0 + i, cfg):  # the seed's `if t % 100 == 99:`
                print(example.report_line(t0 + i, jax.tree.map(lambda a: a[i], aux)))
    final = jax.tree.map(np.asarray, state)
    for line in example.result_lines(final, float(aux["loss"][-1])):
        print(line)
    return final
