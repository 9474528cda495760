"""E01 polynomial_numpy: the JAX counterpart of seed 000's "Without Pytorch: Numpy Network" script.

The seed's NumPy loop updates its weights in place, ``a -= learning_rate * grad_a``, 2000 times in
Python. Here the same math in ``jax.numpy`` (the hand-derived gradients unchanged) is a pure step:
parameters in, new parameters out. That is what lets ``jax.jit`` compile it and ``lax.scan`` repeat it,
so the 2000 steps run as 20 compiled calls of 100 steps. The seed is float64 (``np.random.randn``):
JAX holds float64 only once x64 is switched on, before any array exists (``_loop`` does it).

The port (the seed's code beside it: reference.py): jaxport/examples/e01_polynomial_numpy/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e01_polynomial_numpy.py (the same lines as jaxport run E01)
"""

from _loop import train

from jaxport.examples.e01_polynomial_numpy.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: the hand-derived gradients, then new parameters returned
