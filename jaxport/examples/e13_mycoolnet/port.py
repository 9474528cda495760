"""E13 mycoolnet — seed 001, "Using Module to Build a Network" and "Minimizing a Loss Function".

The seed subclasses ``torch.nn.Module``: ``MyCoolNet(in_size=5, out_size=5)`` holds four ``Linear``
layers (5→10→15→10→5), ReLU after the first three and a Sigmoid on the output, then trains it for
10 steps with ``torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8)`` on
``loss = torch.sum((0 - out)**2)`` at ``x = [1., 2, 3, 4, 5]``, calling ``loss.backward()``,
``optimizer.step()`` and ``optimizer.zero_grad()`` each step.

The contrast: torch's model and optimizer *own* mutable state (weights, ``.grad``, the momentum
buffers in ``optimizer.state``). Here :class:`MyCoolNet` is a flax ``nnx`` module used the
functional way: the training state is a flat dict of torch-named, torch-layout arrays (``lin1.weight``
(10, 5), ``lin1.bias``, ...) plus SGD's buffers under their own names (``momentum_buffer.lin1.weight``,
``count.lin1.weight``); inside the pure step ``convert.nnx_tree`` + ``nnx.merge`` build the module
from those arrays, ``jax.value_and_grad`` differentiates through it (gradients come out in torch's
layout, comparable leaf by leaf with ``p.grad``), and ``optim.sgd`` (an optax transformation with
torch's momentum) returns new buffers. Nothing is zeroed, nothing is mutated.

The seed's ``MyCoolNet(...)`` draws torch's default init, unseeded. ``DEFAULT_INIT`` is torch's
init *distribution* (``nn.Linear``: weight and bias U(±1/√in_features)) drawn once at import in NumPy
from ``default_rng(0)``, leaf by leaf in ``state_dict`` order; both frameworks get those values
(so the seed's printed losses, from its own unseeded draw, are not reproduced). ``--seed S`` draws
standard normals instead.

No equivalent by design: ``optimizer.zero_grad()`` after every step, and momentum buffers hidden
inside the optimizer: the gradients are fresh values each step, and the momentum buffers live in the
optimizer state that ``update`` takes and returns.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxport import convert, optim, params
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples._polynomial import scalar
from jaxport.spec import Magnitude, Positive, TrainingExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 10  # seed: for i in range(10)
    lr: float = 0.1  # seed: torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8)
    momentum: Magnitude = 0.8  # seed: momentum=0.8
    dtype: str = "float32"  # seed: torch.tensor([1.,2,3,4,5]) and nn.Linear are float32
    print_every: Positive = 1  # seed: print(f"Loss {i}: {loss.item()}") every step


CONFIG = Config()

# The seed's layers, in its order: (attribute, in_features, out_features) for MyCoolNet(5, 5).
LAYERS = (("lin1", 5, 10), ("lin2", 10, 15), ("lin3", 15, 10), ("lin4", 10, 5))
SHAPES = {f"{name}.{leaf}": shape for name, i, o in LAYERS for leaf, shape in (("weight", (o, i)), ("bias", (o,)))}
NAMES = tuple(SHAPES)


DEFAULT_INIT = params.torch_init(SHAPES, 0)  # torch's default init distribution, drawn in NumPy


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    # seed: x = torch.tensor([1.,2,3,4,5])
    return {"x": np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np_dtype(cfg.dtype))}


# phase: model
class MyCoolNet(nnx.Module):
    """The seed's module in flax: the same attribute names, so its state maps to torch's keys."""

    def __init__(self, in_size: int, out_size: int, *, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32):
        self.lin1 = convert.linear(in_size, 10, rngs=rngs, dtype=dtype)
        self.lin2 = convert.linear(10, 15, rngs=rngs, dtype=dtype)
        self.lin3 = convert.linear(15, 10, rngs=rngs, dtype=dtype)
        self.lin4 = convert.linear(10, out_size, rngs=rngs, dtype=dtype)

    def __call__(self, x: jax.Array) -> jax.Array:
        hidden = nnx.relu(self.lin1(x))
        hidden = nnx.relu(self.lin2(hidden))
        hidden = nnx.relu(self.lin3(hidden))
        output = nnx.sigmoid(self.lin4(hidden))
        return output


# phase: setup
@functools.cache
def _template(dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """The abstract MyCoolNet(5, 5) (shapes only, nothing drawn) that :func:`model` fills."""
    return nnx.split(nnx.eval_shape(lambda: MyCoolNet(5, 5, rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def model(params: Params) -> MyCoolNet:
    """MyCoolNet holding ``params`` (torch's keys and layout): ``nnx_tree`` transposes, ``nnx.merge`` builds.

    Traceable: used inside the jitted step, so differentiating through it gives torch-layout gradients.
    """
    graphdef, state = _template(jnp.dtype(params["lin1.weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


def predict(params: Params, x: jax.Array) -> jax.Array:
    """``model(x)``: five sigmoid outputs."""
    return model(params)(x)


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    out = predict(params, data["x"])
    return jnp.sum((0 - out) ** 2)  # seed: loss decreases as out->0


# phase: gradients
# loss.backward(): the loss and its gradient for every torch-named parameter.
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    # torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8); for dampening 0 optax.sgd is the same
    return optim.sgd(cfg.lr, momentum=cfg.momentum)


# phase: report
def tensor_str(a: np.ndarray) -> str:
    """``a`` printed like torch prints a float tensor (4 decimals)."""
    body = np.array2string(np.asarray(a), precision=4, floatmode="fixed", separator=", ", prefix="tensor(")
    return f"tensor({body})"


def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Loss {t}: {scalar(aux['loss'])}"  # seed: print(f"Loss {i}: {loss.item()}")


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    # the seed's other cell, model(x), here after training (the outputs driven towards 0)
    p = {k: jnp.asarray(state[k]) for k in NAMES}
    x = jnp.asarray([1.0, 2.0, 3.0, 4.0, 5.0], dtype=p["lin1.weight"].dtype)
    return [f"model(x) = {tensor_str(np.asarray(predict(p, x)))}"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    report_line=report_line,
    result_lines=result_lines,
    optimizer=optimizer,  # the state, the update and the step are derived from it
    default_init=DEFAULT_INIT,
)
