"""E22 manual_sgd_update: the JAX counterpart of seed 003's "updating the weights" script.

The seed's ``f.data.sub_(f.grad.data * learning_rate)`` writes into every parameter behind autograd's
back. In JAX the gradients are a value with the parameters' structure, and the update is one
``jax.tree.map(lambda f, g: f - g * learning_rate, params, grads)`` that returns new parameters:
nothing to zero first, nothing mutated.

The port (the seed's code beside it: reference.py): jaxport/examples/e22_manual_sgd_update/port.py.

Run: python examples/e22_manual_sgd_update.py (the same lines as jaxport run E22)
"""

import jax
from _loop import inputs

from jaxport.examples.e22_manual_sgd_update.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the loss, its gradients, and one tree.map update
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
