"""E01 polynomial_numpy — seed 000, "Without Pytorch: Numpy Network".

The seed fits ``y = a + b x + c x^2 + d x^3`` to ``sin(x)`` in NumPy with gradients derived by hand.
The JAX port is the same math in ``jax.numpy``; what changes is that the step is a pure function
(parameters in, parameters out) that ``jit`` compiles and ``lax.scan`` repeats. The seed's NumPy code
is float64 (``np.random.randn`` returns float64), and JAX holds float64 only once x64 is enabled
before any array exists: ``jaxport`` does that at start-up, then keeps every array's dtype explicit.

The reference is the seed's own NumPy loop: ``reference.py`` beside this file.

No equivalent by design: NumPy's ``a -= learning_rate * grad_a`` rebinds a mutable value in place; a
jitted JAX step cannot mutate its inputs, so it returns new parameters. NumPy is float64 by default,
JAX float32 until ``jax_enable_x64`` is set before any array exists: a process-wide switch, not a
per-array choice, because compiled code must know its types up front.
"""

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.examples._polynomial import SHAPES, PolynomialConfig, make_numpy_data
from jaxport.spec import TrainingExample

Params = dict[str, jax.Array]

# The seed's settings; float64 because NumPy's randn is float64.
CONFIG = PolynomialConfig(dtype="float64")


# phase: model
def predict(params: Params, x: jax.Array) -> jax.Array:
    """``y = a + b x + c x^2 + d x^3``, as the seed's forward pass."""
    return params["a"] + params["b"] * x + params["c"] * x**2 + params["d"] * x**3


# phase: gradients
def loss_and_grad(params: Params, data: Mapping[str, jax.Array]) -> tuple[jax.Array, Params]:
    """The loss and the seed's hand-derived gradients (no autodiff yet)."""
    x, y = data["x"], data["y"]
    y_pred = predict(params, x)
    loss = jnp.square(y_pred - y).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    grads = {
        "a": grad_y_pred.sum(),
        "b": (grad_y_pred * x).sum(),
        "c": (grad_y_pred * x**2).sum(),
        "d": (grad_y_pred * x**3).sum(),
    }
    return loss, grads


# phase: update
def step(params: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: PolynomialConfig) -> tuple[Params, dict]:
    """One gradient-descent step: returns new parameters instead of ``a -= learning_rate * grad_a``."""
    loss, grads = loss_and_grad(params, data)
    new = jax.tree.map(lambda p, g: p - cfg.lr * g, params, grads)
    return new, {"loss": loss}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    # seed: print("step:", t, "loss:", loss) with loss a NumPy scalar
    return f"step: {t} loss: {aux['loss'][()]}"


def result_lines(params: Mapping[str, np.ndarray], loss: float) -> list[str]:
    a, b, c, d = (params[k][()] for k in "abcd")
    return [f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_numpy_data,
    loss_and_grad=loss_and_grad,
    step=step,
    report_line=report_line,
    result_lines=result_lines,
)
