"""E27 pytorch_linear_regression — seed 004, "Understanding PyTorch": ``PyTorchLinearRegression``.

The seed wraps ``torch.nn.Linear(num_inputs, num_outputs)`` in a module, calls it on
``X = [[1., 2., 3.]]``, computes ``F.mse_loss(prediction, y)`` with ``y = [[2.3]]``, then calls
``prediction.backward()`` and explains what it populates: ``.grad`` on every tensor with
``requires_grad=True`` that contributed (the weight and the bias, not the input data), with
``grad_fn`` (e.g. ``AddBackward0`` for ``t * X.T + 1``) recording how each result was made.
Its optimisation cell then takes one ``SGD(lr=1)`` step from that gradient.

The contrast: a flax ``nnx`` module of the same shape (:class:`PyTorchLinearRegression`), used the
functional way, and gradients as *returned values*.

* ``requires_grad`` is which argument you differentiate: ``jax.grad(f)`` (argnums 0) gives the
  parameters' gradient; ``jax.grad(f, argnums=1)`` would give the input's, which torch never
  tracked (:func:`input_gradient`). Nothing is stored on any array.
* ``.grad`` after ``backward()`` is the value ``jax.grad`` returns (:func:`prediction_and_grad`),
  a dict under torch's names in torch's layout; parameters are left as they were.
* ``grad_fn`` has no per-array counterpart: JAX traces the function instead, and
  ``jax.make_jaxpr`` shows the recorded operations (:func:`grad_fn_jaxpr`: its last one is ``add``).
* ``prediction.backward()`` works in torch because the prediction has one element; ``jax.grad``
  needs a scalar output, so the (1, 1) prediction is summed (torch's implicit ``grad = ones``).

The seed's step cell raised ``mat1 and mat2 shapes cannot be multiplied (4x4 and 3x1)``: ``X`` had
been rebound to a dummy-dataloader batch (4, 4). Here the step runs on the ``X`` the cell meant;
the tests reproduce the error in both frameworks. Initial values: the ones the seed prints for
``PyTorchLinearRegression(3, 1)`` (``[[0.0430, -0.2506, -0.3324]]``, ``[-0.0165]``); ``--seed S``
draws standard normals instead.

No equivalent by design: ``prediction.backward()`` filling ``.grad`` on the parameters, and
``t.requires_grad = True`` on an input: in JAX the gradient with respect to the parameters or to an
input is the same call, ``jax.grad`` on the argument chosen; ``grad_fn`` has no counterpart but the
traced jaxpr.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.extend.core import ClosedJaxpr

from jaxport import convert
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 1.0  # seed: optimiser = torch.optim.SGD(model.parameters(), lr=1)
    dtype: str = "float32"  # torch's default dtype
    t: float = 3.0  # seed: t = torch.tensor(3.0); t.requires_grad = True


CONFIG = Config()

SHAPES = {"linear_layer.weight": (1, 3), "linear_layer.bias": (1,)}

# seed: print("Weight:", model.linear_layer.weight) / print("Bias:", model.linear_layer.bias)
DEFAULT_INIT = {"linear_layer.weight": [[0.0430, -0.2506, -0.3324]], "linear_layer.bias": [-0.0165]}


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    t = np_dtype(cfg.dtype)
    return {
        "X": np.array([[1.0, 2.0, 3.0]], dtype=t),  # seed: X = torch.tensor([[1.0, 2.0, 3.0]])
        "y": np.array([[2.3]], dtype=t),  # seed: y = torch.tensor([[2.3]])
        "t": np.array(cfg.t, dtype=t),
    }


# phase: model
class PyTorchLinearRegression(nnx.Module):
    """The seed's module: one linear layer under the same attribute name (keys ``linear_layer.*``)."""

    def __init__(self, num_inputs: int, num_outputs: int, *, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32):
        self.linear_layer = convert.linear(num_inputs, num_outputs, rngs=rngs, dtype=dtype)

    def __call__(self, X: jax.Array) -> jax.Array:  # torch's forward
        return self.linear_layer(X)


# phase: setup
@functools.cache
def _template(num_inputs: int, num_outputs: int, dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """An abstract PyTorchLinearRegression (shapes only, nothing drawn) that :func:`model` fills."""
    return nnx.split(nnx.eval_shape(lambda: PyTorchLinearRegression(num_inputs, num_outputs, rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def model(params: Params) -> PyTorchLinearRegression:
    """The module holding ``params`` (torch's keys and (out, in) layout, its shape read from them);
    traceable, so gradients come out in torch's layout. E28 and E29 use it too (the seed's one class)."""
    w = params["linear_layer.weight"]
    graphdef, state = _template(*w.shape[::-1], jnp.dtype(w.dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


def forward(params: Params, X: jax.Array) -> jax.Array:
    """``prediction = model(X)``."""
    return model(params)(X)


# phase: loss
def mse_loss(prediction: jax.Array, y: jax.Array) -> jax.Array:
    """``F.mse_loss``: the mean of the squared differences."""
    return jnp.mean((prediction - y) ** 2)


# phase: other
def _summed_prediction(params: Params, X: jax.Array) -> jax.Array:
    # prediction.backward() on a one-element tensor is backward(gradient=ones): the sum's gradient
    return forward(params, X).sum()


# phase: gradients
# prediction.backward(); model.linear_layer.weight.grad -> the gradient, returned (argnums=0: the parameters)
prediction_and_grad = jax.value_and_grad(_summed_prediction)

# what torch did not track (X.requires_grad is False): JAX differentiates any argument you name
input_gradient = jax.grad(_summed_prediction, argnums=1)


def grad_fn_jaxpr(t: jax.Array, X: jax.Array) -> ClosedJaxpr:
    """What torch records as ``prediction.grad_fn`` for ``t * X.T + 1``: here the traced program."""
    return jax.make_jaxpr(lambda t: t * X.T + 1)(t)


# phase: update
def sgd_step(params: Params, grads: Params, lr: float) -> dict[str, jax.Array]:
    """``optimiser.step()`` for plain SGD: new parameters ``p - lr * grad``."""
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)


# phase: report
@functools.partial(jax.jit, static_argnums=2)
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The seed's cells: prediction and loss; ``.grad`` after ``prediction.backward()``; ``t * X.T + 1``;
    the step with lr 1."""
    X, y = data["X"], data["y"]
    prediction = forward(params, X)
    _, grads = prediction_and_grad(params, X)  # prediction.backward(): the gradients, as values
    stepped = sgd_step(params, grads, cfg.lr)
    return {
        **{f"initial.{k}": v for k, v in params.items()},
        "prediction": prediction,
        "loss": mse_loss(prediction, y),
        **{f"grad.{k}": v for k, v in grads.items()},
        "t_prediction": data["t"] * X.T + 1,
        **{f"step.{k}": v for k, v in stepped.items()},
    }


def tensor_str(a: np.ndarray, prefix: str = "") -> str:
    """``a`` printed like torch prints a float tensor (4 decimals)."""
    body = np.array2string(np.asarray(a), precision=4, floatmode="fixed", separator=", ", prefix=prefix + "tensor(")
    return f"tensor({body})"


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    w = "linear_layer.weight"
    return [
        # seed: print("Weight:", model.linear_layer.weight) / print("Bias:", model.linear_layer.bias)
        "Weight: Parameter containing:",
        f"{tensor_str(vals[f'initial.{w}'])[:-1]}, requires_grad=True)",
        "Bias: Parameter containing:",
        f"{tensor_str(vals['initial.linear_layer.bias'])[:-1]}, requires_grad=True)",
        f"prediction: {tensor_str(vals['prediction'])}  loss: {tensor_str(vals['loss'])}",
        f"grad after `.backward()` {tensor_str(vals[f'grad.{w}'])}",  # seed's step cell
        f"Prediction (t * X.T + 1): {tensor_str(vals['t_prediction'], 'Prediction (t * X.T + 1): ')}",
        f"Final parameter value: {tensor_str(vals[f'step.{w}'])}",
    ]


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    values=values,
    value_lines=value_lines,
    default_init=DEFAULT_INIT,
)
