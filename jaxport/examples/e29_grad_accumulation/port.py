"""E29 grad_accumulation — seed 004, "Understanding PyTorch": ``.grad`` and the optimiser.

The seed: "When ``.backward()`` is called and ``.grad`` is populated, the previous value is not
replaced ... instead, it is accumulated (added to)", so call ``optimiser.zero_grad()`` after
``optimiser.step()``. Here the seed's ``PyTorchLinearRegression(3, 1)`` (its ``F.mse_loss`` on one
example) takes two ``backward()`` calls without ``zero_grad``, one per micro-batch, then
``optimiser.step()`` (SGD, the seed's lr 0.01), ``optimiser.zero_grad()`` and one more ``backward()``.

The contrast: in JAX a gradient is a *value* returned by ``jax.grad``; nothing is stored on the
parameters, so nothing accumulates by accident and there is nothing to zero. Accumulation, when
wanted, is an explicit sum ``jax.tree.map(jnp.add, g1, g2)``, and "after ``zero_grad``" is simply a
fresh gradient. optax packages the same pattern as ``optax.MultiSteps`` (:func:`multisteps_update`),
with one catch: by default MultiSteps applies the *mean* of the k gradients, where torch's
accumulated ``.grad`` is their *sum*; ``use_grad_mean=False`` takes torch's step.

Data and initial values are the seed's own numbers: the first micro-batch is its ``X = [[1., 2., 3.]]``,
``y = [[2.3]]``; the second is the first example its dummy dataset prints (features cut to the model's
three: ``[-1.0984, 1.6435, 0.2389]``, label ``-1.3960``); the initial weight and bias are the ones the
seed prints for a fresh ``PyTorchLinearRegression(3, 1)`` (``[[0.0430, -0.2506, -0.3324]]``, ``[-0.0165]``).

No equivalent by design: ``.grad`` accumulating across two ``backward()`` calls until
``zero_grad()`` clears it: JAX gradients are returned values, so accumulation is an explicit sum
(``jax.tree.map(jnp.add, g1, g2)``, or ``optax.MultiSteps``) and there is nothing to zero.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples.e27_pytorch_linear_regression.port import model  # the seed's one PyTorchLinearRegression
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    lr: float = 0.01  # seed: optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    dtype: str = "float32"  # torch's default dtype


CONFIG = Config()

SHAPES = {"linear_layer.weight": (1, 3), "linear_layer.bias": (1,)}

# seed: print("Weight:", model.linear_layer.weight) / print("Bias:", model.linear_layer.bias)
DEFAULT_INIT = {"linear_layer.weight": [[0.0430, -0.2506, -0.3324]], "linear_layer.bias": [-0.0165]}


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Two micro-batches of one example each: ``X`` (2, 1, 3), ``y`` (2, 1, 1)."""
    t = np_dtype(cfg.dtype)
    X = np.array([[[1.0, 2.0, 3.0]],  # seed: X = torch.tensor([[1.0, 2.0, 3.0]])
                  [[-1.0984, 1.6435, 0.2389]]], dtype=t)  # seed: the dummy dataset's first row (3 of 4 features)
    y = np.array([[[2.3]],  # seed: y = torch.tensor([[2.3]])
                  [[-1.3960]]], dtype=t)  # seed: that row's label
    return {"X": X, "y": y}


# phase: loss
def loss_fn(params: Params, X: jax.Array, y: jax.Array) -> jax.Array:
    # seed: loss = F.mse_loss(prediction, y)
    return jnp.mean((model(params)(X) - y) ** 2)


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def sgd_update(params: Params, grads: Params, lr: float) -> dict[str, jax.Array]:
    """``optimiser.step()`` for SGD: ``p - lr * grad``."""
    return jax.tree.map(lambda p, g: p - lr * g, params, grads)


# phase: report
@functools.partial(jax.jit, static_argnums=2)  # one compilation instead of dozens of small eager ones
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Each gradient is a value: the 'accumulated .grad' is their sum, 'after zero_grad' a fresh gradient."""
    X, y = data["X"], data["y"]
    loss_first, g1 = loss_and_grad(params, X[0], y[0])
    loss_second, g2 = loss_and_grad(params, X[1], y[1])
    accumulated = jax.tree.map(jnp.add, g1, g2)  # what torch's second backward() leaves in .grad
    updated = sgd_update(params, accumulated, cfg.lr)
    _, fresh = loss_and_grad(updated, X[0], y[0])  # torch: zero_grad(), then backward() at the new values
    named = lambda prefix, tree: {f"{prefix}.{k}": v for k, v in tree.items()}  # noqa: E731
    return {
        "loss_first": loss_first,
        "loss_second": loss_second,
        **named("grad_first", g1),
        **named("grad_accumulated", accumulated),
        **named("updated", updated),
        **named("grad_after_zero_grad", fresh),
    }


# phase: update
@functools.partial(jax.jit, static_argnums=2, static_argnames="use_grad_mean")
def multisteps_update(params: Params, data: Mapping[str, jax.Array], cfg: Config, *,
                      use_grad_mean: bool = False) -> list[dict[str, jax.Array]]:
    """The same accumulate-then-step with ``optax.MultiSteps(optax.sgd(lr), every_k_schedule=k)``.

    Returns the parameters after each micro-batch: unchanged until the k-th, then one step.
    ``use_grad_mean=False`` sums the k gradients as torch's ``.grad`` does; optax's default (True)
    applies their mean, half torch's step for k = 2 (use ``k * lr`` then, or divide torch's loss by k).
    The accumulator is kept in the parameters' dtype (MultiSteps' default is float32, which would
    round float64 gradients). MultiSteps multiplies a bool by an int32 step count inside, which strict
    dtype promotion (the test suite's) rejects: it runs under standard promotion here.
    """
    k = data["X"].shape[0]
    dtype = params["linear_layer.weight"].dtype
    tx = optax.MultiSteps(optax.sgd(cfg.lr), every_k_schedule=k, use_grad_mean=use_grad_mean, accumulator_dtype=dtype)
    state, p, history = tx.init(params), dict(params), []
    for i in range(k):
        _, g = loss_and_grad(p, data["X"][i], data["y"][i])
        with jax.numpy_dtype_promotion("standard"):
            updates, state = tx.update(g, state, p)
        p = optax.apply_updates(p, updates)
        history.append(p)
    return history


# phase: report
def tensor_str(a: np.ndarray) -> str:
    """``a`` printed like torch prints a float tensor (4 decimals, aligned)."""
    body = np.array2string(np.asarray(a), precision=4, floatmode="fixed", separator=", ", prefix="tensor(")
    return f"tensor({body})"


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    # seed: print("grad after `.backward()`", model.linear_layer.weight.grad) / print("Final parameter value:", ...)
    w = "linear_layer.weight"
    return [
        f"grad after `.backward()` {tensor_str(vals[f'grad_first.{w}'])}",
        f"grad after a second `.backward()` (accumulated) {tensor_str(vals[f'grad_accumulated.{w}'])}",
        f"Final parameter value: {tensor_str(vals[f'updated.{w}'])}",
        f"grad after `optimiser.zero_grad()` and `.backward()` {tensor_str(vals[f'grad_after_zero_grad.{w}'])}",
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
