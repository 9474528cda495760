"""E25 loss_functions: the JAX counterpart of seed 003's "loss functions" script.

torch's losses are modules with options (``weight``, ``ignore_index``, ``reduction``); optax's are plain
functions returning one loss per example, and the options are a few lines of array code around them.
The 2-logit ``CrossEntropyLoss`` head and the 1-logit ``BCEWithLogitsLoss`` head are the same model
here (``sigmoid(z1 - z0) == softmax([z0, z1])[1]``), and their losses are equal row by row.

The port (the seed's code beside it: reference.py): jaxport/examples/e25_loss_functions/port.py.

Run: python examples/e25_loss_functions.py (the same lines as jaxport run E25)
"""

import jax
from _loop import inputs

from jaxport.examples.e25_loss_functions.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # each loss, for the 2-logit and the 1-logit head
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
