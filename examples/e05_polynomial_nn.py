"""E05 polynomial_nn: the JAX counterpart of seed 000's "Pytorch's nn module" script.

The seed's ``nn.Sequential(Linear(3, 1), Flatten(0, 1))`` owns its weights, and the update walks
``model.parameters()`` in place under ``no_grad``. Here the same model is a flax ``nnx.Sequential``,
rebuilt inside the pure step from a flat dict under torch's names (``0.weight``, ``0.bias``); the
gradients come back under those names, and one ``jax.tree.map`` updates every leaf. The powers ``xx``
are made once per compiled call, as the seed makes them once before its loop.

The port (the seed's code beside it: reference.py): jaxport/examples/e05_polynomial_nn/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e05_polynomial_nn.py (the same lines as jaxport run E05)
"""

from _loop import train

from jaxport.examples.e05_polynomial_nn.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: the nnx.Sequential rebuilt from torch-named values, one tree.map update
