"""E18 grad_modes — seed 002, "Lesson 4", Part 3 "Autograd".

The seed's notes: ``x = torch.zeros(1, requires_grad=True)``; ``with torch.no_grad(): y = x * 2``
leaves ``y.requires_grad == False``; ``torch.set_grad_enabled(True|False)`` switches tracking on or
off altogether; ``x.requires_grad_(True)`` turns it on "at any time"; ``y = x**2`` has
``y.grad_fn`` = ``<PowBackward0 ...>``. Here those cells feed one small loss,
``loss = sum(w · x² · y)`` with ``y = x·2`` computed under ``no_grad`` (or ``.detach()``). ``w`` is a
tensor created without ``requires_grad``, which ``requires_grad_(True)`` later switches on.

The contrast: torch decides *while running the forward pass* what to record, from flags on tensors
(``requires_grad``) and a global mode (``no_grad``, ``set_grad_enabled``). JAX records nothing and
has no such flags. What to differentiate is chosen when you call ``jax.grad``: ``argnums`` picks the
arguments, like ``requires_grad`` on the leaves. ``jax.lax.stop_gradient`` marks a value as a
constant to differentiation, like ``no_grad`` or ``.detach()`` for that value. ``set_grad_enabled(flag)``
becomes a Python ``if`` around ``stop_gradient``. "Is ``y`` tracked?" (``y.requires_grad``) becomes
"does a tangent reach ``y``?" (``jax.jvp``), and ``grad_fn`` becomes an equation of the jaxpr
(``integer_pow[y=2]``). Gradients: with ``y`` constant, d loss/dx = 2x·w·y = 4wx²; with ``y``
tracked it is 6wx²; d loss/dw = x²·y once ``w`` is differentiated.

Initial values: the seed's ``x = zeros(1)`` makes every gradient here 0 (x² and its derivative
vanish), so the default is ``x = [3.]``, ``w = [0.5]`` (``--init`` with ``x = [0.]`` gives the
seed's point; ``--seed`` draws both).

No equivalent by design: ``torch.no_grad()``, ``set_grad_enabled`` and ``requires_grad_()``: modes
that change how later operations are recorded. JAX records nothing outside a transformation: you
choose what to differentiate by which argument the function takes, and ``jax.lax.stop_gradient``
marks a value as constant inside a differentiated function.
"""

import dataclasses
import functools
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.examples.e11_computation_graph.port import tensor_str
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # seed: torch.zeros(1) is float32


CONFIG = Config()

SHAPES = {"x": (1,), "w": (1,)}  # seed: x = torch.zeros(1, requires_grad=True); w is ours, created without requires_grad
DEFAULT_INIT = {"x": [3.0], "w": [0.5]}  # not the seed's zeros: there every gradient is 0


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Nothing to hand over: x and w are the inputs."""
    return {}


# phase: gradients
def grad_enabled(v: jax.Array, enabled: bool) -> jax.Array:
    """``torch.set_grad_enabled(enabled)`` for one value: unchanged, or a constant to differentiation."""
    return v if enabled else jax.lax.stop_gradient(v)


# phase: loss
def loss(x: jax.Array, w: jax.Array, *, y_tracked: bool = False) -> jax.Array:
    """``sum(w · x² · y)``, ``y = x * 2`` computed under ``no_grad`` unless ``y_tracked``."""
    y = grad_enabled(x * 2, y_tracked)  # torch: with torch.no_grad(): y = x * 2  (or (x * 2).detach())
    z = x**2  # seed: y = x**2, grad_fn = <PowBackward0>
    return jnp.sum(w * z * y)


# phase: other
def tracked(f: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """``f(x).requires_grad``, the JAX way: does a tangent of ``x`` reach ``f(x)``? (1.0 or 0.0)

    A probe, not a flag: a path whose derivative happens to be 0 at ``x`` reads as untracked.
    For the seed's ``y = x * 2`` (derivative 2, or 0 after stop_gradient) the answer is exact.
    """
    _, tangent = jax.jvp(f, (x,), (jnp.ones_like(x),))
    return jnp.any(tangent != 0).astype(x.dtype)


# phase: report
@functools.partial(jax.jit, static_argnums=2)
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Each cell's tensor, its ``requires_grad`` (as 1.0/0.0) and the gradients each choice gives."""
    x, w = params["x"], params["w"]
    y = jax.lax.stop_gradient(x * 2)  # with torch.no_grad(): y = x * 2
    grad_x = jax.grad(loss)  # only x "requires grad": w is argument 1, not differentiated
    gx, gw = jax.grad(loss, argnums=(0, 1))(x, w)  # w.requires_grad_(True): differentiate both
    return {
        "y": y,
        "y.requires_grad": tracked(lambda v: jax.lax.stop_gradient(v * 2), x),
        "set_grad_enabled(False).requires_grad": tracked(lambda v: grad_enabled(v * 2, False), x),
        "set_grad_enabled(True).requires_grad": tracked(lambda v: grad_enabled(v * 2, True), x),
        "x**2": x**2,
        "loss": loss(x, w),
        "no_grad.x.grad": grad_x(x, w),  # y constant: 4 w x²
        "detach.x.grad": grad_x(x, w),  # .detach() is the same stop_gradient
        "tracked.x.grad": grad_x(x, w, y_tracked=True),  # y tracked: 6 w x²
        "requires_grad_.x.grad": gx,
        "requires_grad_.w.grad": gw,  # x² y
    }


def graph_lines(cfg: Config = CONFIG) -> list[str]:
    """What torch shows as ``y.grad_fn``, JAX shows as a jaxpr equation; ``no_grad`` shows as ``stop_gradient``."""
    x = jnp.zeros(1, jnp.dtype(cfg.dtype))
    return [
        f"jax.make_jaxpr(lambda x: x**2): {jax.make_jaxpr(lambda v: v**2)(x)}",
        "jax.make_jaxpr(loss):",
        *str(jax.make_jaxpr(loss)(x, x)).splitlines(),
    ]


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    """The seed's ``>>> y.requires_grad`` (``False``), then each choice's gradient (the seed's ``print(y.grad_fn)``
    is the one line only torch can print: the reference's ``grad_fn_lines``, beside :func:`graph_lines`' jaxpr)."""
    flag = lambda k: str(bool(np.asarray(vals[k]).item()))  # noqa: E731
    return [
        flag("y.requires_grad"),  # seed: >>> y.requires_grad
        f"set_grad_enabled(False): {flag('set_grad_enabled(False).requires_grad')}, "
        f"set_grad_enabled(True): {flag('set_grad_enabled(True).requires_grad')}",
        f"loss = {tensor_str(vals['loss'])}",
        f"x.grad, y under no_grad: {tensor_str(vals['no_grad.x.grad'])}, y detached: {tensor_str(vals['detach.x.grad'])}, "
        f"y tracked: {tensor_str(vals['tracked.x.grad'])}",
        f"after w.requires_grad_(True): x.grad {tensor_str(vals['requires_grad_.x.grad'])}, "
        f"w.grad {tensor_str(vals['requires_grad_.w.grad'])}",
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
