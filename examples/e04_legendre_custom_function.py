"""E04 legendre_custom_function: the JAX counterpart of seed 000's "Defining new Autograd functions" script.

The seed's ``torch.autograd.Function`` saves its input on ``ctx`` in ``forward`` and reads it back in
``backward``. In JAX the same pair is ``jax.custom_vjp``: the forward rule returns the output and its
residuals as a value, the backward rule takes them with the cotangent and returns one cotangent per
input. No context object: residuals are passed, not stashed.

The port (the seed's code beside it: reference.py): jaxport/examples/e04_legendre_custom_function/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e04_legendre_custom_function.py (the same lines as jaxport run E04)
"""

from _loop import train

from jaxport.examples.e04_legendre_custom_function.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: gradients through the custom_vjp of P3
