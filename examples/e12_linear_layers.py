"""E12 linear_layers: the JAX counterpart of seed 001's "Pytorch Modules" script.

A torch ``Linear`` owns randomly initialised weights. Here a layer is built from values: the
parameters are a flat dict under torch's keys (``lin.weight``, ``lin1.bias``, ...), and the port turns
each layer's entries into an ``nnx.Linear`` (the weight transposed into nnx's kernel). No random init
is drawn.

The port (the seed's code beside it: reference.py): jaxport/examples/e12_linear_layers/port.py.

Run: python examples/e12_linear_layers.py (the same lines as jaxport run E12)
"""

import jax
from _loop import inputs

from jaxport.examples.e12_linear_layers.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # nnx.Linear layers built from torch's weights, called on x
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
