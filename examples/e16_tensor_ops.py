"""E16 tensor_ops: the JAX counterpart of seed 002's "Lesson 4 intro" script.

What has a JAX equivalent and what is impossible by design: ``*``, ``@`` and ``reshape`` map one to one;
everything that writes into existing memory (``add_``, ``out=``, ``from_numpy``'s sharing, ``resize_``)
becomes a new value (``a + b``, ``.at[]``, a copy), and the global ``manual_seed`` an explicit key.

The port (the seed's code beside it: reference.py): jaxport/examples/e16_tensor_ops/port.py.

Run: python examples/e16_tensor_ops.py (the same lines as jaxport run E16)
"""

import jax
from _loop import inputs

from jaxport.examples.e16_tensor_ops.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # each operation, and what replaces the in-place ones
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
