"""E09 state_dict_io: the JAX counterpart of seed 000's "PyTorch Pth Files" script.

The seed's ``torch.save(model.state_dict(), "model.pth")`` and ``load_state_dict(torch.load(...))``
pickle arbitrary Python. A JAX model's parameters are plain arrays under names, so a checkpoint is
``{name: array}``: the same dict goes to a ``.pth`` (read back only through
``torch.load(weights_only=True)``) or to ``.safetensors`` and ``.npz``, which hold no code. Each round
trip is checked bit for bit, and the flax model runs from what was read.

The port (the seed's code beside it: reference.py): jaxport/examples/e09_state_dict_io/port.py.

Run: python examples/e09_state_dict_io.py (the same lines as jaxport run E09)
"""

import jax
from _loop import inputs

from jaxport.examples.e09_state_dict_io.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # write each format, read it back, run the model from it
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
