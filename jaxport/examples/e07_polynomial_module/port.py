"""E07 polynomial_module — seed 000, "Custom `nn` Modules".

The seed subclasses ``torch.nn.Module``: ``Polynomial3`` registers four ``nn.Parameter(torch.randn(()))``
``a, b, c, d`` in its constructor, computes ``a + b x + c x^2 + d x^3`` in ``forward`` and adds a
custom method, ``string()``; ``torch.optim.SGD(model.parameters(), lr=1e-6)`` then updates the
parameters the module owns, in place, after ``zero_grad()`` and ``backward()``.

The contrast: :class:`Polynomial3` is a flax ``nnx.Module`` with four ``nnx.Param`` and the same
``string()``, but training is functional. ``nnx.split`` separates the module's structure (a
``GraphDef``) from its values; the training state is those values as a flat dict under torch's
names (``a b c d``); a pure step ``nnx.merge``-s a module from them, differentiates the loss with
respect to the dict and applies :func:`jaxport.optim.sgd` (torch's SGD as an optax transformation:
``updates, _ = opt.update(grads, opt_state, params)``, ``optax.apply_updates``). Plain SGD keeps no
state in torch (``optimizer.state`` stays empty), so the training state is just the parameters: the
optimizer state is made fresh in each step and thrown away.

No equivalent by design: ``nn.Parameter`` registered by attribute assignment and mutated by
``optimizer.step()``: the module's parameters are a pytree of values; ``optax.sgd`` returns updates
that ``optax.apply_updates`` adds into a new pytree. No parameter object is ever modified, so the
step can be compiled and repeated.
"""

import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxport import convert, optim
from jaxport.catalog import identity
from jaxport.examples._polynomial import SHAPES, PolynomialConfig, make_data, scalar
from jaxport.spec import TrainingExample

Params = dict[str, jax.Array]

# The seed's settings: float32, SGD lr 1e-6, 2000 steps, print every 100.
CONFIG = PolynomialConfig()  # seed: torch.optim.SGD(model.parameters(), lr=1e-6); for t in range(2000)

NAMES = tuple(SHAPES)  # "a", "b", "c", "d": the seed's attribute names, its state_dict keys


# phase: model
class Polynomial3(nnx.Module):
    """``y = a + b x + c x^2 + d x^3`` with four scalar parameters, as the seed's module."""

    def __init__(self, *, rngs: nnx.Rngs, dtype: jnp.dtype = jnp.float32):
        # torch.nn.Parameter(torch.randn(())): here the random key is explicit
        self.a = nnx.Param(jax.random.normal(rngs.params(), (), dtype))
        self.b = nnx.Param(jax.random.normal(rngs.params(), (), dtype))
        self.c = nnx.Param(jax.random.normal(rngs.params(), (), dtype))
        self.d = nnx.Param(jax.random.normal(rngs.params(), (), dtype))

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.a[...] + self.b[...] * x + self.c[...] * x**2 + self.d[...] * x**3

    def string(self) -> str:
        """The seed's custom method: the equation with the current weights (concrete values only)."""
        a, b, c, d = (getattr(self, k)[...].item() for k in NAMES)
        return f"y = {a} + {b} x + {c} x^2 + {d} x^3"


# phase: setup
@functools.cache
def _template(dtype: jnp.dtype) -> tuple[nnx.GraphDef, nnx.State]:
    """``nnx.split`` of an abstract ``Polynomial3`` (shapes only, nothing drawn)."""
    return nnx.split(nnx.eval_shape(lambda: Polynomial3(rngs=nnx.Rngs(0), dtype=dtype)))


# phase: model
def module(params: Mapping[str, jax.Array]) -> Polynomial3:
    """``nnx.merge``: the module holding ``params`` (``{"a": ..., "d": ...}``); traceable."""
    graphdef, state = _template(jnp.dtype(jnp.asarray(params["a"]).dtype))
    return nnx.merge(graphdef, convert.nnx_tree(state, {k: jnp.asarray(v) for k, v in params.items()}))


# phase: other
def params_of_module(model: Polynomial3) -> Params:
    """The inverse of :func:`module`: the module's values under torch's names (its ``state_dict``)."""
    return convert.torch_tree(nnx.state(model, nnx.Param))


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array]) -> jax.Array:
    """``MSELoss(reduction='sum')(model(x), y)``."""
    return jnp.sum((module(params)(data["x"]) - data["y"]) ** 2)


# phase: gradients
# loss.backward(): d loss / d a ... d, under the same names.
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def optimizer(cfg: PolynomialConfig) -> optax.GradientTransformationExtraArgs:
    """``torch.optim.SGD(model.parameters(), lr=cfg.lr)``: torch-exact, no momentum."""
    return optim.sgd(cfg.lr)


def step(params: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: PolynomialConfig) -> tuple[Params, dict]:
    """One step: the loss and its gradients, then ``optimizer.step()`` as an optax update."""
    loss, grads = loss_and_grad(params, data)
    opt = optimizer(cfg)
    # SGD without momentum has no buffers (torch's optimizer.state stays empty): a fresh state each step
    updates, _ = opt.update(grads, opt.init(params), params)
    return optax.apply_updates(params, updates), {"loss": loss}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Step: {t} Loss: {scalar(aux['loss'])}"  # seed: print("Step:", t, "Loss:", loss.item())


def result_lines(params: Mapping[str, np.ndarray], loss: float) -> list[str]:
    return [f"Result: {module(params).string()}"]  # seed: print(f'Result: {model.string()}')


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
