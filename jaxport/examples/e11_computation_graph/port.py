"""E11 computation_graph — seed 001, "Computation Graphs and Autograd".

The seed builds ``b = w1·a``, ``c = w2·a``, ``d = w3·b + w4·c``, ``L = 10 - d`` from five one-element
tensors with ``requires_grad=True`` (all ones), prints ``b, d`` and ``L`` with their ``grad_fn``
(``MulBackward0``, ``AddBackward0``, ``RsubBackward1``), calls ``L.backward()`` and prints
``w4.grad`` (``tensor([-1.])``).

The contrast: in torch the graph is *recorded as a side effect* of running the forward pass. Each
result carries its ``grad_fn``, ``backward()`` walks that chain once, stores ``.grad`` on the leaves
and frees the graph ("there is no central representation of the computation graph"). In JAX the graph
*is the Python function*. ``jax.grad(loss)`` returns the gradient with respect to every leaf as a
value, and ``jax.make_jaxpr(forward)`` shows the graph JAX traces from that function: one ``mul``
equation per ``MulBackward0``, ``add`` for ``AddBackward0``, ``sub 10.0`` for ``RsubBackward1``. The
function can be differentiated as often as you like, because nothing is freed. :func:`values`
counts the jaxpr's inputs and equations and the reference counts its grad_fn nodes (``graph.*``), so
``jaxport compare E11`` also checks that the two graphs match.

One difference in the detail: torch's ``backward()`` accepts the seed's one-element ``L`` (shape
``[1]``) as if it were a scalar, but ``jax.grad`` wants a shape-``()`` output and raises for shape
``(1,)``. So :func:`loss` takes ``L[0]``. A real non-scalar raises in both frameworks at the same
place (``backward()`` / ``jax.grad``); see the tests.

No equivalent by design: ``grad_fn`` on each tensor and ``.grad`` filled on the leaves: a JAX array
carries no graph. The graph exists only while a function is traced (``jax.make_jaxpr`` prints it),
and ``jax.grad`` returns the leaves' gradients as values.
"""

import dataclasses
import re
from collections.abc import Mapping

import jax
import jax.extend as jex
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.spec import ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # seed: torch.tensor([1.]) is float32


CONFIG = Config()

LEAVES = ("a", "w1", "w2", "w3", "w4")  # seed's creation order
SHAPES = {k: (1,) for k in LEAVES}  # seed: torch.tensor([1.], requires_grad=True), five times
DEFAULT_INIT = {k: [1.0] for k in LEAVES}  # seed: all ones, so L = 8 and w4.grad = -1

# torch's grad_fn node  <->  the jaxpr primitive that does the same step of the forward pass
NODES = {"leaves": "AccumulateGrad", "mul": "MulBackward0", "add": "AddBackward0", "sub": "RsubBackward1"}


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Nothing to hand over: the graph's only inputs are the five leaves."""
    return {}


# phase: model
def forward(p: Params) -> dict[str, jax.Array]:
    """The seed's graph, every intermediate returned (nothing is stored on the arrays)."""
    b = p["w1"] * p["a"]
    c = p["w2"] * p["a"]
    d = p["w3"] * b + p["w4"] * c
    L = 10 - d
    return {"b": b, "c": c, "d": d, "L": L}


# phase: loss
def loss(p: Params) -> jax.Array:
    """``L`` as the scalar ``jax.grad`` needs: torch's ``L.backward()`` takes a one-element tensor, ``jax.grad`` only shape ``()``."""
    return forward(p)["L"][0]


# phase: other
def graph(p: Params) -> jex.core.ClosedJaxpr:
    """JAX's view of the graph: the jaxpr traced from :func:`forward` (shapes and dtypes only, no values)."""
    spec = jax.tree.map(lambda v: jax.ShapeDtypeStruct(jnp.shape(v), v.dtype), dict(p))
    return jax.make_jaxpr(lambda q: forward(q)["L"])(spec)


def graph_counts(p: Params) -> dict[str, int]:
    """Leaves and equations by primitive, named like :data:`NODES` (torch counts its grad_fn nodes the same way)."""
    jaxpr = graph(p).jaxpr
    counts = {"leaves": len(jaxpr.invars)}
    for kind in ("mul", "add", "sub"):
        counts[kind] = sum(eqn.primitive.name == kind for eqn in jaxpr.eqns)
    return counts


# phase: report
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """The seed's tensors, the gradient with respect to every leaf (``.grad`` in torch), the graph's node counts.

    Run op by op, as torch runs the seed: every product is rounded on its own, and the values match
    torch's bit for bit. Under ``jax.jit`` XLA fuses ``w3·b + w4·c`` into one multiply-add with a
    single rounding. That is as accurate, but not the same bits: where ``d`` cancels (``--seed 27``:
    d = -0.00524 from terms of 0.5) float32 ``d`` moves by 2.9e-8, one ulp of the terms but 5.6e-6 of
    ``d`` (see the tests).
    """
    dtype = jnp.dtype(cfg.dtype)
    grads = jax.grad(loss)(params)  # L.backward(): all five leaves at once, returned rather than stored
    return {
        **forward(params),
        **{f"{k}.grad": grads[k] for k in LEAVES},
        **{f"graph.{k}": jnp.asarray(n, dtype) for k, n in graph_counts(params).items()},
    }


def graph_lines(cfg: Config = CONFIG) -> list[str]:
    """``jax.make_jaxpr``'s view of the graph. It names the inputs a, b, c... in the params dict's key
    order, so a legend first. (The reference prints torch's view: the ``grad_fn`` chain.)"""
    closed = graph({k: jnp.zeros(s, jnp.dtype(cfg.dtype)) for k, s in SHAPES.items()})
    text = str(closed)
    header = text.splitlines()[0]  # "{ lambda ; a:f32[1] b:f32[1] ... let"
    printed = re.findall(r"(\w+):\w+\[", header)
    legend = ", ".join(f"{v}={k}" for v, k in zip(printed, sorted(SHAPES)))
    return [f"JAX's graph, jax.make_jaxpr(forward)(params)  [inputs: {legend}]", *text.splitlines()]


def tensor_str(a: np.ndarray) -> str:
    """``a`` as torch prints a float tensor: ``tensor([8.])`` when every value is whole, else 4 decimals."""
    a = np.asarray(a)
    if np.all(a == np.round(a)):
        body = np.array2string(a, separator=", ", prefix="tensor(", floatmode="maxprec")
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode="fixed")
    return f"tensor({body})"


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    """The seed's three printed outputs (torch also shows each grad_fn; each framework's view of the
    graph: :func:`graph_lines` here, the reference's ``grad_fn_lines``), then every leaf's gradient and
    the graph's size."""
    grads = ", ".join(f"{k}.grad={tensor_str(vals[f'{k}.grad'])}" for k in LEAVES)
    n = {k: int(np.asarray(vals[f"graph.{k}"]).item()) for k in NODES}
    return [
        f"({tensor_str(vals['b'])}, {tensor_str(vals['d'])})",  # seed: b, d
        tensor_str(vals["L"]),  # seed: print(L)
        tensor_str(vals["w4.grad"]),  # seed: print(w4.grad)
        grads,
        f"graph: {n['leaves']} leaves, {n['mul']} mul, {n['add']} add, {n['sub']} sub",
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
