"""E24 tensor_hooks: the JAX counterpart of seed 003's "hooks" script.

A torch hook is a callback attached to a tensor (``c.register_hook(fn)``), fired during ``backward()``.
A JAX array carries nothing, so the hook goes into the function: an identity whose ``jax.custom_vjp``
backward applies ``fn`` to the cotangent. ``retain_grad`` becomes the gradient with respect to a zero
perturbation added to ``c``.

The port (the seed's code beside it: reference.py): jaxport/examples/e24_tensor_hooks/port.py.

Run: python examples/e24_tensor_hooks.py (the same lines as jaxport run E24)
"""

import jax
from _loop import inputs

from jaxport.examples.e24_tensor_hooks.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the hook inside the function: a custom_vjp identity
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
