"""E06 polynomial_optim: the JAX counterpart of seed 000's "PyTorch's Optim Package" script.

The seed hands the update to ``torch.optim.RMSprop``, whose running averages live inside the optimizer
object (``zero_grad()``, ``backward()``, ``step()``). An optax optimizer is a pair of pure functions: its
state is a value, part of the training state (``square_avg.*``, under torch's names), passed into the
step and returned. ``jaxport.optim.rmsprop`` keeps torch's semantics (alpha 0.99, eps outside the square
root), which plain ``optax.rmsprop`` does not.

The port (the seed's code beside it: reference.py): jaxport/examples/e06_polynomial_optim/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e06_polynomial_optim.py (the same lines as jaxport run E06)
"""

from _loop import train

from jaxport.examples.e06_polynomial_optim.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: jaxport.optim.rmsprop: torch's RMSprop as an optax transformation
