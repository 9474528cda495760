"""E07 polynomial_module: the JAX counterpart of seed 000's "Custom nn Modules" script.

The seed subclasses ``nn.Module`` with four ``nn.Parameter``, and ``torch.optim.SGD`` updates them in
place. Here ``Polynomial3`` is an ``nnx.Module`` with the same ``string()``: ``nnx.split`` separates its
structure from its values, and the pure step ``nnx.merge``-s a module from the values, differentiates
it and applies torch's SGD as an optax transformation, returning new values.

The port (the seed's code beside it: reference.py): jaxport/examples/e07_polynomial_module/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e07_polynomial_module.py (the same lines as jaxport run E07)
"""

from _loop import train

from jaxport.examples.e07_polynomial_module.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: Polynomial3 merged from its values, torch's SGD as an optax transformation
