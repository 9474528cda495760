"""E02 polynomial_tensor: the JAX counterpart of seed 000's "Adding Pytorch: Tensors" script.

The seed moves E01 onto torch tensors, each created ``device=device``; the math and the hand-derived
gradients are E01's. In JAX placement is a property of the data: ``jax.device_put(data,
jax.devices("cpu")[0])`` puts the arrays on a device once (``_loop.inputs``), and the compiled step runs
where its inputs live. No operation takes a device argument.

The port (the seed's code beside it: reference.py): jaxport/examples/e02_polynomial_tensor/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e02_polynomial_tensor.py (the same lines as jaxport run E02)
"""

from _loop import train

from jaxport.examples.e02_polynomial_tensor.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: E01's step, on arrays placed once
