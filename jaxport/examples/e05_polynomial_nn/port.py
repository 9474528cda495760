"""E05 polynomial_nn — seed 000, "Pytorch's `nn` module".

The seed builds ``torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))``, feeds it
``xx = x.unsqueeze(-1).pow(p)`` (the columns x, x², x³), takes ``MSELoss(reduction='sum')`` and
updates every ``param`` of ``model.parameters()`` in place under ``torch.no_grad()``; at the end it
reads ``model[0].bias`` and ``.weight`` and prints ``named_parameters()``.

The contrast: the same model as a flax ``nnx.Sequential`` (``nnx.Linear(3, 1)`` and a parameterless
:class:`Flatten`), trained the functional way. The training state is a flat dict under torch's own
``state_dict`` names and layouts, ``{"0.weight": (1, 3), "0.bias": (1,)}``; a pure step turns it into
the module (``convert.nnx_tree``: the weight becomes nnx's ``(3, 1)`` kernel, ``nnx.merge`` builds the
module from the ``nnx.split`` template), differentiates the loss with respect to the dict, so the
gradients come back under the same names and in torch's layout, and updates every leaf with one
``jax.tree.map`` (the seed's ``for param in model.parameters(): param -= lr * param.grad``). Nothing
is mutated and there is no ``zero_grad``: gradients are return values.

Initial values. The seed relies on torch's default ``Linear`` init, U(±1/√3). ``DEFAULT_INIT`` is that
init, generated once with ``torch.manual_seed(0); torch.nn.Linear(3, 1)`` and written out below; both
frameworks get it. ``--seed S`` draws standard normals instead (``jaxport.params.draw``, ``0.weight``
then ``0.bias``): not torch's distribution, but safe, since this loss is a quadratic whose gradient
descent contracts from any start (``lr`` times the Hessian's largest eigenvalue is 0.55 < 2; tested).

One line differs from torch by design: the seed's ``named_parameters()`` printout shows ``param.grad``,
which torch left on the parameter at the last ``backward()``, *before* the last update. JAX keeps no
gradient on a parameter; the JAX line shows ``jax.grad`` at the final parameters (one update later:
-26.11 instead of torch's -26.16 for ``0.weight[0, 0]`` at the default init). Likewise ``y_pred``.

No equivalent by design: ``model.zero_grad()`` and updating each ``param`` in place under
``no_grad``: an ``nnx.Module`` is split into a graph definition and a state of values; the pure step
maps the state to a new one (``jax.tree.map``) and merges it back. Nothing accumulates, so nothing
is zeroed.
"""

import dataclasses
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import convert
from jaxport.catalog import identity
from jaxport.data import sine_data
from jaxport.examples._polynomial import scalar
from jaxport.spec import NonNegative, Positive, TrainingExample

Params = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 2000  # seed: for t in range(2000)
    lr: float = 1e-6  # seed: learning_rate = 1e-6
    dtype: str = "float32"  # seed: torch.linspace's and nn.Linear's default dtype
    print_every: Positive = 1000  # seed: if t % 1000 == 99: print("Step:", t, "Loss:", loss.item())
    print_offset: NonNegative = 99  # ... at t % print_every == 99 (steps 99 and 1099), the seed's own condition


CONFIG = Config()


# phase: other
def printed(t: int, cfg: Config) -> bool:
    """The seed's own condition, ``if t % 1000 == 99``, with its period and offset as config fields."""
    return t % cfg.print_every == cfg.print_offset


# phase: setup
# torch's state_dict of the seed's model, in its order: Linear(3, 1) holds weight (out, in) and bias.
SHAPES: dict[str, tuple[int, ...]] = {"0.weight": (1, 3), "0.bias": (1,)}

# torch.manual_seed(0); torch.nn.Linear(3, 1): its state_dict (float32 values, exact), torch's U(±1/√3).
DEFAULT_INIT = {
    "0.weight": [[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646]],
    "0.bias": [-0.4248946011066437],
}


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The seed's ``x`` and ``y = sin(x)`` in ``cfg.dtype``, and its powers ``p = torch.tensor([1, 2, 3])``."""
    return {**sine_data(cfg.dtype), "p": np.array([1, 2, 3], dtype=np.int32)}  # int32: no x64 needed


# phase: model
class Flatten(nnx.Module):
    """``torch.nn.Flatten(start_dim, end_dim)``: dims ``start_dim..end_dim`` merged into one; no parameters."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def __call__(self, x: jax.Array) -> jax.Array:
        s, e = self.start_dim % x.ndim, self.end_dim % x.ndim
        return x.reshape(*x.shape[:s], math.prod(x.shape[s:e + 1]), *x.shape[e + 1:])


def make_model(*, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32) -> nnx.Sequential:
    """The seed's ``Sequential(Linear(3, 1), Flatten(0, 1))`` (``convert.linear``: torch's init distribution)."""
    return nnx.Sequential(
        convert.linear(3, 1, rngs=rngs, dtype=dtype),  # y = xx W^T + b: (2000, 3) -> (2000, 1)
        Flatten(0, 1),  # (2000, 1) -> (2000,), to match y
    )


# phase: setup
@functools.cache
def _template(dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """``nnx.split`` of an abstract model (shapes only, nothing drawn): the structure a step merges into."""
    return nnx.split(nnx.eval_shape(lambda: make_model(rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def model_of(params: Mapping[str, jax.Array]) -> nnx.Sequential:
    """The flax model holding ``params`` (torch names and layout); traceable, so usable inside ``jit``/``grad``."""
    graphdef, state = _template(jnp.dtype(params["0.weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


def powers(x: jax.Array, p: jax.Array) -> jax.Array:
    """``x.unsqueeze(-1).pow(p)``: (2000, 1) against (1, 3) gives (2000, 3), the columns x, x², x³.

    torch broadcasts ``(2000, 1)`` against ``(3,)`` by prepending an axis to ``p`` and promotes the
    integer powers to ``x``'s dtype; here both are spelled out, so the code also runs with strict
    rank and dtype promotion (as the tests do). The values equal torch's bit for bit (tested).
    """
    return x[:, None] ** p[None, :].astype(x.dtype)


def predict(params: Mapping[str, jax.Array], xx: jax.Array) -> jax.Array:
    """``model(xx)``: the (2000,) predictions of the model built from ``params``."""
    return model_of(params)(xx)


# phase: other
def prepare(data: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """The seed's ``xx = x.unsqueeze(-1).pow(p)``, made once before the loop (as the seed does), not every step.

    Kept as its transpose ``xxT`` (3, 2000), one row per power: the model reads ``xxT.T``, which XLA
    folds into the matmul as a layout, and the weight gradient's sum over the 2000 points then runs
    along contiguous memory (measured 2-4x faster per step on CPU than the (2000, 3) array). Same values.
    """
    return {"xxT": powers(data["x"], data["p"]).T}


# phase: loss
def loss_fn(params: Mapping[str, jax.Array], data: Mapping[str, jax.Array]) -> jax.Array:
    """``MSELoss(reduction='sum')(model(xx), y)``, the sum of squared errors (``xx`` from :func:`prepare`)."""
    xx = data["xxT"].T if "xxT" in data else powers(data["x"], data["p"])
    y_pred = predict(params, xx)
    return jnp.sum((y_pred - data["y"]) ** 2)


# phase: gradients
# loss.backward(): the loss and its gradient with respect to each torch-named leaf, in torch's layout.
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def step(params: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: Config) -> tuple[Params, dict]:
    """One step: gradients by autodiff, then ``param - lr * grad`` for every named parameter."""
    loss, grads = loss_and_grad(params, data)
    new = jax.tree.map(lambda p, g: p - cfg.lr * g, params, grads)
    return new, {"loss": loss}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Step: {t} Loss: {scalar(aux['loss'])}"  # seed: print("Step:", t, "Loss:", loss.item())


def result_lines(params: Mapping[str, np.ndarray], loss: float) -> list[str]:
    """The seed's final prints; ``y_pred`` and ``grad`` are JAX's at the final parameters (see the docstring)."""
    params = {k: jnp.asarray(v) for k, v in params.items()}
    dtype = str(params["0.weight"].dtype)
    data = {k: jnp.asarray(v) for k, v in make_data(dataclasses.replace(CONFIG, dtype=dtype)).items()}
    _, grads = loss_and_grad(params, data)
    y_pred = predict(params, powers(data["x"], data["p"]))
    # the first layer's parameters, under its own attribute names (kernel = weight transposed)
    linear_layer = model_of(params).layers[0]
    bias, kernel = np.asarray(linear_layer.bias[...]), np.asarray(linear_layer.kernel[...])
    lines = [
        f"Result: y = {bias[0].item()} + {kernel[0, 0].item()} x + {kernel[1, 0].item()} x^2 + {kernel[2, 0].item()} x^3",
        f"Final Loss: {loss}",
        f"y_pred array, shape: {y_pred.shape} contents:\n {np.asarray(y_pred)}",
        "printing named parameter data",
    ]
    # named_parameters(): the dict's keys are torch's names already (in torch's order: JAX sorts dict keys)
    lines += [f"param name: {name} data: {np.asarray(params[name])} grad {np.asarray(grads[name])}" for name in SHAPES]
    return lines


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
    printed=printed,
    default_init=DEFAULT_INIT,
    prepare=prepare,
)
