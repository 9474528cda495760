"""E03 polynomial_autograd — seed 000, "PyTorch: Tensors and Autograd".

The seed sets ``requires_grad=True`` on ``a, b, c, d``, calls ``loss.backward()``, updates under
``torch.no_grad()`` and sets each ``.grad = None`` afterwards. In JAX the gradient is a function of
the loss function: ``jax.value_and_grad(loss_fn)`` returns the loss and a pytree of gradients shaped
like ``params``. What you differentiate is the first argument (no ``requires_grad``); the update is
ordinary arithmetic on values (no ``no_grad``); gradients are return values, so there is nothing to
zero.

No equivalent by design: ``requires_grad``, ``.grad`` and ``grad = None``: a JAX array stores no
gradient, so there is nothing to request, read back or zero; the gradient is the return value of
``jax.value_and_grad``. ``torch.no_grad()`` around the update has no counterpart: outside the
differentiated function nothing is recorded.
"""

from collections.abc import Mapping

import jax
import numpy as np

from jaxport.catalog import identity
from jaxport.examples._polynomial import SHAPES, PolynomialConfig, make_data, scalar
from jaxport.examples.e01_polynomial_numpy.port import predict
from jaxport.spec import TrainingExample

Params = dict[str, jax.Array]

# The seed's settings: float32, lr 1e-6, 2000 steps, print every 100.
CONFIG = PolynomialConfig()


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """``(y_pred - y).pow(2).sum()``: the forward pass, and all that autodiff needs."""
    return ((predict(params, data["x"]) - data["y"]) ** 2).sum()


# phase: gradients
# loss.backward(): the loss and d loss / d params, for every leaf of params.
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def step(params: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: PolynomialConfig) -> tuple[Params, dict]:
    """One step: gradients by autodiff, then ``p - lr * grad`` for every leaf with ``jax.tree.map``."""
    loss, grads = loss_and_grad(params, data)
    new = jax.tree.map(lambda p, g: p - cfg.lr * g, params, grads)
    return new, {"loss": loss, "grads": grads}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    # seed: print(f'Step: {t} Loss: {loss.item()} a.grad: {a.grad} ...')
    g = aux["grads"]
    grads = " ".join(f"{k}.grad: {g[k][()]}" for k in "abcd")
    return f"Step: {t} Loss: {scalar(aux['loss'])} {grads}"


def result_lines(params: Mapping[str, np.ndarray], loss: float) -> list[str]:
    a, b, c, d = (scalar(params[k]) for k in "abcd")
    return [f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3", f"Final Loss: {loss}"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    step=step,
    report_line=report_line,
    result_lines=result_lines,
)
