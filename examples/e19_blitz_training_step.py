"""E19 blitz_training_step: the JAX counterpart of seed 003's "PyTorch Blitz" script.

torch's forward in train mode mutates BatchNorm's running statistics, and ``backward()`` fills
``.grad``. Here one pure function returns the loss, the gradients (a value shaped like the parameters)
and the new BatchNorm buffers (``has_aux``), and the SGD-momentum step is ``optax.apply_updates`` on a
new value. The flax ResNet-18 is built from torchvision's ``state_dict`` keys, in torch's layout.

The port (the seed's code beside it: reference.py): jaxport/examples/e19_blitz_training_step/port.py.

Run: python examples/e19_blitz_training_step.py (the same lines as jaxport run E19)
"""

import jax
from _loop import inputs

from jaxport.examples.e19_blitz_training_step.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # one forward, backward and SGD-momentum step of a ResNet-18
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
