"""E23 grad_clipping: the JAX counterpart of seed 003's "gradient clipping" script.

The notes clip ``p.grad`` in place between ``backward()`` and ``step()``. In optax a clip is a gradient
transformation like any optimizer, so "clip, then step" is a chain,
``optax.chain(optim.clip_grad_value(1), optim.sgd(lr))``, on gradients that are values. torch's clip by
norm adds 1e-6 to the norm; ``optim.clip_grad_norm`` does too, plain ``optax.clip_by_global_norm`` not.

The port (the seed's code beside it: reference.py): jaxport/examples/e23_grad_clipping/port.py.

Run: python examples/e23_grad_clipping.py (the same lines as jaxport run E23)
"""

import jax
from _loop import inputs

from jaxport.examples.e23_grad_clipping.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the gradients clipped by value and by norm, then the step
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
