"""E26 linear_regression_numpy: the JAX counterpart of seed 004's "from scratch" script.

The seed writes its gradients by hand ("every time you change the model, you need to change how the
gradients are calculated"). JAX derives them: the per-example gradients are
``jax.vmap(jax.grad(...))`` of one prediction, the loss's gradient is ``jax.grad`` of the loss, and the
hand-written ones are checked against them.

The port (the seed's code beside it: reference.py): jaxport/examples/e26_linear_regression_numpy/port.py.

Run: python examples/e26_linear_regression_numpy.py (the same lines as jaxport run E26)
"""

import jax
from _loop import inputs

from jaxport.examples.e26_linear_regression_numpy.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # predict, the seed's hand gradients, and jax.grad's
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
