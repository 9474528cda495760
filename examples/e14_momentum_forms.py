"""E14 momentum_forms: the JAX counterpart of seed 001's "Momentum" script.

The notes write momentum as an average, ``V = βV + (1-β)g``; torch's SGD keeps a sum, ``V = μV + g``.
Each form is one optax transformation with its buffer in an explicit state, so the three (the notes',
torch's, and torch's with dampening) run side by side on the same gradients and their relation is
checked, not argued: the notes' form with α = lr/(1-β) is torch's; the dampened one is not.

The port (the seed's code beside it: reference.py): jaxport/examples/e14_momentum_forms/port.py.

Run: python examples/e14_momentum_forms.py (the same lines as jaxport run E14)
"""

import jax
from _loop import inputs

from jaxport.examples.e14_momentum_forms.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the three forms, run side by side on one stream of gradients
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
