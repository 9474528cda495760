"""E24 tensor_hooks — seed 003, "hooks".

The seed's hook ``fn`` prints the gradient it receives and returns ``grad + 2`` ("if you return
nothing, the same gradient as before will be used"). It is registered with ``c.register_hook(fn)``.
Its notes add: hooks run in the order they were added, and ``.retain_grad()`` stores the gradient of
an intermediate node. The seed leaves ``c`` undefined; here it is the ``c = w2·a`` of E11's graph
(``b = w1·a``, ``d = w3·b + w4·c``, ``L = 10 - d``, all ones), where dL/dc = -w4 = -1. The hook
prints ``tensor([-1.])`` and sends ``-1 + 2 = 1`` upstream, so ``w2.grad`` and ``a.grad`` change
(``w2.grad = 1·a``, ``a.grad = -w3·w1 + w2·1 = 0``). The gradients downstream of ``c`` (``w1, w3, w4``)
do not change.

The contrast: a torch hook is a callback attached to a tensor object, fired during ``backward()``.
JAX arrays carry nothing, so the hook goes *into the function*: an identity whose ``jax.custom_vjp``
backward applies ``fn`` to the cotangent (:func:`register_hook`). A print inside it is
``jax.debug.print``/``jax.debug.callback``, because under ``jit`` the backward pass runs as compiled code.
``retain_grad`` becomes the gradient with respect to a zero perturbation ``eps`` added to ``c``.
Where ``eps`` sits decides what it sees: added *before* the hook (upstream of it in the forward pass) it
gets the post-hook gradient, which is what torch's ``c.grad`` keeps (:func:`forward`). Added after the
hook, it gets what the hook received. ``jax.vjp`` from ``c`` gives the same (:func:`grad_at_c`).

No equivalent by design: ``register_hook`` and ``retain_grad`` attach a callback and storage to a
tensor of the graph; a JAX array has neither. A hook that edits the gradient becomes an identity
with a ``custom_vjp`` whose backward edits the cotangent, and an intermediate's gradient comes from
``jax.vjp`` with respect to that intermediate.
"""

import dataclasses
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.examples.e11_computation_graph.port import DEFAULT_INIT, LEAVES, SHAPES, tensor_str
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]
# phase: gradients
Hook = Callable[[jax.Array], jax.Array | None]


# phase: setup
@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # torch's default dtype (E11's tensors)


CONFIG = Config()


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Nothing to hand over: the graph's only inputs are E11's five leaves."""
    return {}


# phase: gradients
def make_fn(show: Callable[[np.ndarray], None] | None = None) -> Hook:
    """The seed's ``fn``: show the gradient (``print`` by default), return ``grad + 2``.

    ``show`` receives the gradient as a NumPy array on the host, through ``jax.debug.callback`` (a
    plain ``print(grad)`` would print a tracer under ``jit``).
    """
    def fn(grad: jax.Array) -> jax.Array:
        if show is None:
            jax.debug.print("{grad}", grad=grad)  # seed: print(grad)
        else:
            jax.debug.callback(show, grad)
        return grad + 2  # if you return nothing, the same gradient as before will be used
    return fn


def register_hook(x: jax.Array, fn: Hook) -> jax.Array:
    """``x`` unchanged, but its gradient passes through ``fn`` on the way back (``None`` keeps it)."""
    @jax.custom_vjp
    def identity(v):
        return v

    def fwd(v):
        return v, None

    def bwd(_, g):
        out = fn(g)
        return (g if out is None else out,)

    identity.defvjp(fwd, bwd)
    return identity(x)


def with_hooks(x: jax.Array, hooks: tuple[Hook, ...]) -> jax.Array:
    """``x`` with ``hooks`` registered in this order: the first runs first in the backward pass, so it
    is the last identity applied in the forward pass (the outermost)."""
    for fn in reversed(hooks):
        x = register_hook(x, fn)
    return x


# phase: model
def forward(p: Params, eps: jax.Array, hooks: tuple[Hook, ...] = ()) -> jax.Array:
    """E11's ``L[0]`` with ``hooks`` on ``c``. ``eps`` (zeros) is added to ``c`` before the hooks, so
    d L/d eps is the gradient leaving the hooks upstream: torch's retained ``c.grad``."""
    b = p["w1"] * p["a"]
    c = with_hooks(p["w2"] * p["a"] + eps, hooks)
    d = p["w3"] * b + p["w4"] * c
    L = 10 - d
    return L[0]


# phase: gradients
def grads(p: Params, hooks: tuple[Hook, ...] = ()) -> tuple[dict[str, jax.Array], jax.Array]:
    """``L.backward()`` with ``c.retain_grad()``: every leaf's gradient and ``c``'s (post-hook)."""
    eps = jnp.zeros_like(p["a"])
    return jax.grad(forward, argnums=(0, 1))(p, eps, hooks)


def grad_at_c(p: Params, hooks: tuple[Hook, ...] = ()) -> jax.Array:
    """``c``'s post-hook gradient the other way: ``jax.vjp`` of the rest of the graph, from ``c``."""
    b = p["w1"] * p["a"]
    c = p["w2"] * p["a"]
    rest = lambda c_: (10 - (p["w3"] * b + p["w4"] * with_hooks(c_, hooks)))[0]  # noqa: E731
    _, vjp = jax.vjp(rest, c)
    return vjp(jnp.ones((), c.dtype))[0]


# phase: report
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Without hooks; with the seed's ``fn`` on ``c`` (what it saw, how often, what ``retain_grad`` kept);
    and a print hook added after a ``grad + 2`` hook (it sees grad + 2: hooks run in the order added).

    Not jitted: the hooks report to Python lists made here, fresh on each call.
    """
    dtype = jnp.dtype(cfg.dtype)
    out: dict[str, jax.Array] = {"L": forward(params, jnp.zeros_like(params["a"]))[None]}
    plain, plain_c = grads(params)
    out["plain.c.grad"] = plain_c
    out.update({f"plain.{k}.grad": plain[k] for k in LEAVES})

    seen: list[np.ndarray] = []
    hooked, hooked_c = grads(params, (make_fn(show=seen.append),))
    jax.effects_barrier()  # every callback has run
    out["hook.seen"] = jnp.asarray(seen[0])  # what the seed's print(grad) prints
    out["hook.calls"] = jnp.asarray(len(seen), dtype)
    out["c.grad"] = hooked_c  # c.retain_grad(): the post-hook gradient
    out.update({f"{k}.grad": hooked[k] for k in LEAVES})

    after_add: list[np.ndarray] = []
    grads(params, (lambda g: g + 2, lambda g: jax.debug.callback(after_add.append, g)))
    jax.effects_barrier()
    out["order.seen"] = jnp.asarray(after_add[0])
    return out


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    """The seed's hook printing the gradient of ``c``, then what its ``grad + 2`` did to the gradients."""
    t = lambda k: tensor_str(vals[k])  # noqa: E731
    return [
        t("hook.seen"),  # seed: print(grad), inside fn, during L.backward()
        f"c.grad (retain_grad, after the hook): {t('c.grad')}  (without the hook: {t('plain.c.grad')})",
        "with the hook:    " + ", ".join(f"{k}.grad={t(f'{k}.grad')}" for k in LEAVES),
        "without the hook: " + ", ".join(f"{k}.grad={t(f'plain.{k}.grad')}" for k in LEAVES),
        f"a print hook added after the grad + 2 hook sees {t('order.seen')}",
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
