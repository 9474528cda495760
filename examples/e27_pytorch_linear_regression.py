"""E27 pytorch_linear_regression: the JAX counterpart of seed 004's "PyTorchLinearRegression" script.

The seed calls ``prediction.backward()`` and reads ``.grad`` on the weight and the bias (not on the
data, which does not require grad). In JAX ``requires_grad`` is which argument you differentiate
(``jax.grad``'s argnums), and ``.grad`` is the value ``jax.grad`` returns, under torch's names and in
torch's layout; the parameters are left as they were.

The port (the seed's code beside it: reference.py): jaxport/examples/e27_pytorch_linear_regression/port.py.

Run: python examples/e27_pytorch_linear_regression.py (the same lines as jaxport run E27)
"""

import jax
from _loop import inputs

from jaxport.examples.e27_pytorch_linear_regression.port import EXAMPLE

if __name__ == "__main__":
    cfg, params, data = inputs(EXAMPLE)  # the seed's settings, values and data, on the CPU
    values = EXAMPLE.values(params, data, cfg)  # the prediction, its gradient as a value, one SGD step
    for line in EXAMPLE.value_lines(jax.device_get(values)):  # device_get: the values as NumPy arrays
        print(line)
