"""E29 grad_accumulation: the JAX counterpart of seed 004's ".grad accumulates" script.

torch's ``.grad`` accumulates across ``backward()`` calls until ``zero_grad()``. A JAX gradient is a
value returned by ``jax.grad``: nothing accumulates by accident and there is nothing to zero.
Accumulation, when wanted, is an explicit sum, ``jax.tree.map(jnp.add, g1, g2)``, or ``optax.MultiSteps``
(which applies the mean of the gradients unless told ``use_grad_mean=False``).

The port (the seed's code beside it: reference.py): jaxport/examples/e29_grad_accumulation/port.py.

Run: python examples/e29_grad_accumulation.py (the same lines as jaxport run E29)
"""

import jax
from _loop import inputs

from jaxport.examples.e29_grad_accumulation.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # two gradients summed explicitly, one step, then a fresh gradient
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
