"""E18 grad_modes: the JAX counterpart of seed 002's "Autograd (Part 3)" script.

torch decides while running the forward pass what to record, from flags (``requires_grad``) and a
global mode (``no_grad``, ``set_grad_enabled``). JAX records nothing: ``jax.grad``'s ``argnums`` picks
what to differentiate, ``jax.lax.stop_gradient`` makes a value a constant (``no_grad``, ``.detach()``),
and "is ``y`` tracked?" becomes "does a tangent reach ``y``?" (``jax.jvp``); ``grad_fn``, an equation
of the jaxpr (the port's ``graph_lines()`` prints them).

The port (the seed's code beside it: reference.py): jaxport/examples/e18_grad_modes/port.py.

Run: python examples/e18_grad_modes.py (the same lines as jaxport run E18)
"""

import jax
from _loop import inputs

from jaxport.examples.e18_grad_modes.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # stop_gradient, argnums and jvp where torch has flags and modes
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
