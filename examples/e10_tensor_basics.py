"""E10 tensor_basics: the JAX counterpart of seed 001's "Pytorch Tensor Library" script.

The seed's tensor cells in ``jax.numpy``: the API is NumPy's and the values are torch's, but dtypes are
configuration: an integer list is int64 in torch and int32 in JAX unless x64 is on (it is, here).
``view`` becomes ``reshape``, ``torch.cat`` ``jnp.concatenate``, and the seed's deliberate broadcasting
error raises in JAX too, at the same ``+``.

The port (the seed's code beside it: reference.py): jaxport/examples/e10_tensor_basics/port.py.

Run: python examples/e10_tensor_basics.py (the same lines as jaxport run E10)
"""

import jax
from _loop import inputs

from jaxport.examples.e10_tensor_basics.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # every cell of the section, in jax.numpy
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
