"""E22 manual_sgd_update — seed 003, "torch.nn pkg" / "updating the weights".

The seed's ``Net`` (``Conv2d(3, 6, 5)``, ``MaxPool2d(2, 2)``, ``Conv2d(6, 16, 5)``, fc 400→120→84→10)
takes one mini-batch, ``net.zero_grad()``, ``loss.backward()``, then updates every parameter in place::

    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)

The contrast: in JAX the gradients are a *value* with the parameters' structure, and the update is
one pure ``jax.tree.map(lambda f, g: f - g * learning_rate, params, grads)`` that returns new
parameters (nothing to zero first, nothing mutated). The parameters stay a flat dict under torch's
``state_dict`` keys in torch's layout (OIHW, (out, in)); inside the loss ``convert.nnx_tree`` turns
them into the flax ``Net`` (NHWC, HWIO), so the gradients come out in torch's layout too, leaf for
leaf comparable with ``f.grad``. The input is handed over in torch's NCHW and transposed once; before
``fc1`` the features go back to C, H, W order, as ``torch.flatten(x, 1)`` flattens them.

The seed shows no input, target or criterion in this section; its notes name ``nn.MSELoss`` and say
the net takes mini-batches only, so (as the blitz this section summarises) one input
``1×3×32×32`` and one target ``1×10``, both standard normals from ``numpy.random.default_rng(0)``,
with ``nn.MSELoss()``. The seed's ``net = Net()`` is torch's default init, unseeded: ``DEFAULT_INIT``
is torch's init *distribution* (weights and biases U(±1/√fan_in)) drawn once in NumPy from
``default_rng(0)`` in ``state_dict`` order, and both frameworks get those values; ``--seed S`` draws
standard normals instead.

No equivalent by design: ``f.data.sub_(...)`` writing through ``.data`` behind autograd's back, and
``net.zero_grad()`` before ``backward()``: JAX parameters are values, the update returns new ones,
and no gradient is ever left over from a previous call.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import conv, convert, params
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import NonNegative, ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 0.01  # seed: learning_rate = 0.01
    dtype: str = "float32"  # torch's default dtype
    data_seed: NonNegative = 0  # input and target: numpy.random.default_rng(data_seed) standard normals


CONFIG = Config()

# Net's state_dict keys and shapes, in torch's order and layout.
SHAPES = {
    "conv1.weight": (6, 3, 5, 5), "conv1.bias": (6,),
    "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
    "fc1.weight": (120, 16 * 5 * 5), "fc1.bias": (120,),
    "fc2.weight": (84, 120), "fc2.bias": (84,),
    "fc3.weight": (10, 84), "fc3.bias": (10,),
}


DEFAULT_INIT = params.torch_init(SHAPES, 0)  # torch's default init distribution, drawn in NumPy


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """One mini-batch in torch's layout: input (1, 3, 32, 32) NCHW and target (1, 10)."""
    rng = np.random.default_rng(cfg.data_seed)
    t = np_dtype(cfg.dtype)
    return {"input": rng.standard_normal((1, 3, 32, 32)).astype(t), "target": rng.standard_normal((1, 10)).astype(t)}


# phase: model
class Net(nnx.Module):
    """The seed's Net in flax: the same attribute names, so the state maps to torch's keys."""

    def __init__(self, *, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32):
        # convert.conv2d: an nnx.Conv with torch's padding 0 ('VALID', not flax's 'SAME') and init; it convolves
        # as image patches × matrix (jaxport.conv), which XLA runs ~3× faster on CPU than its own convolution
        self.conv1 = convert.conv2d(3, 6, 5, rngs=rngs, dtype=dtype)
        self.conv2 = convert.conv2d(6, 16, 5, rngs=rngs, dtype=dtype)
        self.fc1 = convert.linear(16 * 5 * 5, 120, rngs=rngs, dtype=dtype)
        self.fc2 = convert.linear(120, 84, rngs=rngs, dtype=dtype)
        self.fc3 = convert.linear(84, 10, rngs=rngs, dtype=dtype)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.transpose(x, (0, 2, 3, 1))  # torch's NCHW input -> NHWC
        x = pool(nnx.relu(self.conv1(x)))
        x = pool(nnx.relu(self.conv2(x)))
        x = jnp.transpose(x, (0, 3, 1, 2)).reshape(x.shape[0], -1)  # torch.flatten(x, 1) flattens C, H, W
        x = nnx.relu(self.fc1(x))
        x = nnx.relu(self.fc2(x))
        return self.fc3(x)


def pool(x: jax.Array) -> jax.Array:
    # nn.MaxPool2d(2, 2): window 2, stride 2 (nnx.max_pool's default stride is 1); jaxport.conv's
    # max_pool is nnx.max_pool with torch's gradient (a window's to its first maximum)
    return conv.max_pool(x, (2, 2), strides=(2, 2))


# phase: setup
@functools.cache
def _template(dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """The abstract Net (shapes only, nothing drawn) that :func:`net` fills with values."""
    return nnx.split(nnx.eval_shape(lambda: Net(rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def net(params: Params) -> Net:
    """The flax Net holding ``params`` (torch's keys and layout); traceable."""
    graphdef, state = _template(jnp.dtype(params["conv1.weight"].dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, params))


# phase: loss
def criterion(output: jax.Array, target: jax.Array) -> jax.Array:
    # nn.MSELoss(): the mean of the squared errors
    return jnp.mean((output - target) ** 2)


def loss_and_output(params: Params, data: Mapping[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
    output = net(params)(data["input"])
    return criterion(output, data["target"]), output


def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    return loss_and_output(params, data)[0]


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def sgd_update(params: Params, grads: Params, learning_rate: float) -> dict[str, jax.Array]:
    """seed: ``for f in net.parameters(): f.data.sub_(f.grad.data * learning_rate)``, as new values."""
    return jax.tree.map(lambda f, g: f - g * learning_rate, params, grads)


# phase: report
@functools.partial(jax.jit, static_argnums=2)  # eager, op by op, the conv gradients take ~15 s on 2 cores
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The forward pass, the loss, every gradient, the updated parameters and the loss after the update."""
    # nothing to zero first: grads is a fresh value
    (loss, output), grads = jax.value_and_grad(loss_and_output, has_aux=True)(params, data)
    updated = sgd_update(params, grads, cfg.lr)
    return {
        "output": output,
        "loss": loss,
        **{f"grad.{k}": g for k, g in grads.items()},
        **{f"updated.{k}": f for k, f in updated.items()},
        "loss_after": loss_fn(updated, data),
    }


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    lines = [f"loss before the update: {float(vals['loss'])}"]
    for k in SHAPES:  # for f in net.parameters(): f.data.sub_(f.grad.data * learning_rate)
        lines.append(f"{k:<13} max |grad| {float(np.abs(vals[f'grad.{k}']).max()):.4e}")
    lines.append(f"loss after the update: {float(vals['loss_after'])}")
    return lines


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    values=values,
    value_lines=value_lines,
    default_init=DEFAULT_INIT,
    # --seed S: torch's init distribution from default_rng(S), as the default (standard normals would
    # saturate the net: its float32 loss after the step overflows to inf in both frameworks)
    draw=functools.partial(params.torch_init, SHAPES),
)
