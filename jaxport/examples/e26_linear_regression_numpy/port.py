"""E26 linear_regression_numpy — seed 004, "Understanding PyTorch": linear regression "from scratch".

The seed's NumPy ``LinearRegression`` draws ``weights`` (num_outputs, num_inputs) and ``bias``
(num_outputs) with ``np.random.randn``, predicts ``X @ weights + bias`` and writes its gradients
by hand: ``get_gradients`` returns ``grad_w = X`` and ``grad_b = 1``, the derivative of each
example's prediction with respect to the weights and the bias. The seed's point: "every time you
change the model, you need to change how the gradients are calculated". The NumPy class is the
reference (``e26_linear_regression_numpy_ref``); this is the same in ``jax.numpy``.

The contrast: JAX derives what the seed writes by hand. The seed's per-example gradients are
``jax.vmap(jax.grad(...))`` of one example's prediction (:func:`autodiff_gradients`); the gradient of
a mean-squared-error loss is the chain rule over them (:func:`loss_gradients`, by hand, as the
seed would continue) or simply ``jax.grad`` of the loss (:func:`loss_and_grad`). The tests check
the hand-written gradients against ``jax.grad``.

One fix, from the seed's own shapes: ``X @ weights`` only works when ``num_inputs == num_outputs``
(``weights`` is (num_outputs, num_inputs)); for ``LinearRegression(3, 1)`` on ``X`` (N, 3) NumPy
raises ``matmul: Input operand 1 has a mismatch in its core dimension 0`` (and ``jnp`` a
``TypeError``). Both the reference and this port compute ``X @ weights.T + bias``, what
``torch.nn.Linear`` computes with the same weight layout; :func:`predict_as_written` keeps the
seed's line for the test that shows the error in both.

Data: the seed's model size is ``LinearRegression(3, 1)`` (its later cells use ``X = [[1., 2., 3.]]``,
``y = [[2.3]]``); the batch is that example plus the first three rows of the seed's printed dummy
dataset (first three features) and their labels. Initial values: ``np.random.randn``, i.e. ``--seed S``
standard normals in the seed's order (``weights``, ``bias``); the default is seed 0.

No equivalent by design: ``np.random.randn`` in ``__init__`` (a hidden global RNG) and a model
object holding mutable weights: the JAX port's parameters come in as values, and ``jax.grad`` checks
the hand-derived gradients, which NumPy cannot derive by itself.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float64"  # seed: np.random.randn and np.array default to float64


CONFIG = Config()

NUM_INPUTS, NUM_OUTPUTS = 3, 1  # seed: LinearRegression(3, 1) (its PyTorch twin: PyTorchLinearRegression(3, 1))
SHAPES = {"weights": (NUM_OUTPUTS, NUM_INPUTS), "bias": (NUM_OUTPUTS,)}  # seed: randn(out, in), randn(out)


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """``X`` (4, 3) and ``y`` (4, 1): the seed's ``[[1., 2., 3.]]``/``[[2.3]]`` and three rows of its dummy dataset."""
    t = np_dtype(cfg.dtype)
    X = np.array([[1.0, 2.0, 3.0],  # seed: X = torch.tensor([[1.0, 2.0, 3.0]])
                  [-1.0984, 1.6435, 0.2389],  # seed: the dummy dataset's first rows, first three features
                  [-0.5094, -0.3000, -0.4245],
                  [-1.0762, -0.5869, -0.3151]], dtype=t)
    y = np.array([[2.3], [-1.3960], [-0.9889], [0.0250]], dtype=t)  # seed: y = [[2.3]], then those rows' labels
    return {"X": X, "y": y}


# phase: model
def predict(params: Params, X: jax.Array) -> jax.Array:
    """``X @ weights.T + bias``: (N, num_inputs) -> (N, num_outputs)."""
    return X @ params["weights"].T + params["bias"][None, :]  # bias broadcast over the batch, spelled out


def predict_as_written(params: Params, X: jax.Array) -> jax.Array:
    """The seed's line, ``X @ self.weights + self.bias``: a shape error unless num_inputs == num_outputs."""
    return X @ params["weights"] + params["bias"][None, :]


# phase: gradients
def get_gradients(params: Params, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The seed's hand-written gradients of each prediction (one output): ``grad_w = X``, ``grad_b = 1``."""
    grad_w = X
    grad_b = jnp.ones((), X.dtype)
    return grad_w, grad_b


def autodiff_gradients(params: Params, X: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The same per-example gradients derived by JAX: ``vmap`` over examples of ``grad`` of one prediction."""
    one = lambda p, x: predict(p, x[None])[0, 0]  # noqa: E731  one example's (single) output
    g = jax.vmap(jax.grad(one), in_axes=(None, 0))(params, X)
    return g["weights"][:, 0, :], g["bias"][:, 0]


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """Mean squared error, ``F.mse_loss(prediction, y)`` (the loss the seed uses next)."""
    return jnp.mean((predict(params, data["X"]) - data["y"]) ** 2)


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


def loss_gradients(params: Params, data: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """The MSE gradient by hand, the chain rule over :func:`get_gradients`: ``mean(2 (pred - y) * grad)``."""
    X, y = data["X"], data["y"]
    grad_pred = 2 * (predict(params, X) - y) / X.shape[0]  # dL/dprediction, (N, 1)
    grad_w, grad_b = get_gradients(params, X)
    return {"weights": grad_pred.T @ grad_w, "bias": (grad_pred * grad_b).sum(axis=0)}


# phase: report
@functools.partial(jax.jit, static_argnums=2)
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The seed's ``predict`` and ``get_gradients``, and the hand-written MSE gradient built from them."""
    X = data["X"]
    grad_w, grad_b = get_gradients(params, X)
    loss_grads = loss_gradients(params, data)
    return {
        "prediction": predict(params, X),
        "grad_w": grad_w,
        "grad_b": grad_b,
        "loss": loss_fn(params, data),
        "loss_grad.weights": loss_grads["weights"],
        "loss_grad.bias": loss_grads["bias"],
    }


def _fmt(a: np.ndarray, prefix: str = "") -> str:
    """``a`` as NumPy prints it (4 decimals), continuation rows aligned under ``prefix``."""
    return prefix + np.array2string(np.asarray(a), precision=4, floatmode="fixed", separator=", ", prefix=prefix)


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    # the seed prints nothing here; these are the values its methods return
    return [
        _fmt(vals["prediction"], "model.predict(X) = "),
        _fmt(vals["grad_w"], "model.get_gradients(X): grad_w = X = ") + f", grad_b = {float(vals['grad_b']):g}",
        f"mse loss = {float(vals['loss']):.6f}, by the chain rule: dL/dweights = {_fmt(vals['loss_grad.weights'])}, "
        f"dL/dbias = {_fmt(vals['loss_grad.bias'])}",
    ]


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    values=values,
    value_lines=value_lines,
)
