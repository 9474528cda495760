"""E03 polynomial_autograd: the JAX counterpart of seed 000's "Tensors and Autograd" script.

The seed asks for gradients: ``requires_grad=True``, ``loss.backward()``, the update under
``torch.no_grad()``, then ``a.grad = None``. In JAX the gradient is a function of the loss function:
``jax.value_and_grad(loss_fn)`` returns the loss and a pytree of gradients shaped like the parameters,
and the update is ``jax.tree.map(lambda p, g: p - lr * g, params, grads)`` on values. Nothing to
request, nothing recorded, nothing to zero.

The port (the seed's code beside it: reference.py): jaxport/examples/e03_polynomial_autograd/port.py.
The loop, the same for every training script: examples/_loop.py.

Run: python examples/e03_polynomial_autograd.py (the same lines as jaxport run E03)
"""

from _loop import train

from jaxport.examples.e03_polynomial_autograd.port import EXAMPLE

if __name__ == "__main__":
    train(EXAMPLE)  # each step: jax.value_and_grad, then p - lr * g on every leaf
