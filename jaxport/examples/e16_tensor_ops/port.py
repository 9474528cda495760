"""E16 tensor_ops — seed 002, "Lesson 4 - Introduction to PyTorch" (the notes before Part 2).

The seed lists torch's tensor operations in prose: ``*`` elementwise, ``@``/``.matmul`` (broadcasts)
and ``.mm`` (does not), ``torch.dot``, in-place ``a.add_(b)``, ``torch.add(x, y, out=r1)``,
``.numpy()``/``.from_numpy()`` sharing memory, ``.reshape``/``.view``/``.resize_``, and
``torch.manual_seed(1)``. Each one here, in JAX, on the same inputs.

The contrast: **what has a JAX equivalent, and what is impossible by design.** ``*``, ``@``,
``reshape`` (= ``view``: JAX has no strides, so nothing can be "not a view") map one to one; ``mm``'s
"matrices only" becomes ``jnp.einsum("ij,jk->ik", ...)`` (which rejects a batch, as ``mm`` does);
torch's ``dot`` is 1-D only today (the seed's "irrespective of shape" is ``jnp.vdot``; ``jnp.dot`` of
matrices is a matrix product). Everything that writes into existing memory has no equivalent, because
JAX arrays are immutable values: ``a.add_(b)`` → ``a = a + b`` (and ``a[0].add_(...)`` →
``a.at[0].add(...)``), ``out=r1`` → ``r1 = jnp.add(x, y)``, ``from_numpy`` sharing → ``jnp.asarray``
copies (and ``np.asarray(jax_array)`` is a read-only view), ``resize_`` → slice and reshape, and the
global ``manual_seed`` → an explicit key (same key, same draw; ``split`` for a new one). The tests
prove each difference on both sides, and that the seed's shape errors raise in both at the same call.

The seed draws nothing concrete; its inputs here are standard normals from
``numpy.random.default_rng(cfg.seed)``, drawn once and handed to both frameworks (``--seed S``).

No equivalent by design: In-place ops (``add_``, ``out=``, ``resize_``), ``from_numpy``/``.numpy()``
sharing memory, and the global ``manual_seed``: JAX arrays are immutable (``x.at[i].add(v)`` returns
a new array), ``jnp.asarray`` copies, and randomness takes an explicit key. Each is by design, so
that a function's output depends only on its inputs and can be compiled, differentiated and
replayed.
"""

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.examples.e10_tensor_basics.port import tensor_str
from jaxport.spec import NonNegative, ValuesExample


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # torch's default float dtype (the seed's "default is long" holds for integer data only)
    seed: NonNegative = 0  # the inputs: numpy.random.default_rng(seed) standard normals (the CLI's --seed)


CONFIG = Config()

# The inputs, drawn in this order: two (2,3) matrices, a (3,2) one, a batch of four (2,3), two vectors.
SHAPES = {"a": (2, 3), "b": (2, 3), "c": (3, 2), "batch": (4, 2, 3), "u": (3,), "v": (3,)}

# value name -> the line value_lines prints for it (the seed's torch spelling)
SNIPPETS = {
    "mul.a*b": "a * b",
    "matmul.a@c": "a @ c",
    "matmul.a.matmul(c)": "a.matmul(c)",
    "matmul.batch@c": "batch @ c  # (4,2,3) @ (3,2): broadcasts",
    "mm.a.mm(c)": "a.mm(c)",
    "dot.dot(u,v)": "torch.dot(u, v)",
    "dot.dot(a.flatten(),b.flatten())": "torch.dot(a.flatten(), b.flatten())",
    "add_.s.add_(b)": "s = a.clone(); s.add_(b); s",
    "add_.s[0].add_(b[0])": "s[0].add_(b[0]); s",
    "out.r1": "torch.add(a, b, out=r1); r1",
    "numpy.from_numpy(n)": "n = a.numpy().copy(); t = torch.from_numpy(n); t",
    "numpy.t.numpy()": "t.numpy()",
    "reshape.a.reshape(3,2)": "a.reshape(3, 2)",
    "view.a.view((3,2))": "a.view((3, 2))",
    "view.a.view(-1)": "a.view(-1)",
    "resize_.s.resize_(2,2)": "s = a.clone(); s.resize_(2, 2)",
    "manual_seed.reseeded_draw_equal":
        "torch.manual_seed(1); r1 = torch.randn(3); torch.manual_seed(1); torch.equal(r1, torch.randn(3))",
    "manual_seed.next_draw_differs": "torch.manual_seed(1); r1 = torch.randn(3); not torch.equal(r1, torch.randn(3))",
}
BOOLEANS = ("manual_seed.reseeded_draw_equal", "manual_seed.next_draw_differs")


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The inputs, one ``standard_normal`` call each in the order of ``SHAPES``, in ``cfg.dtype``."""
    rng = np.random.default_rng(cfg.seed)
    return {k: rng.standard_normal(shape).astype(np_dtype(cfg.dtype)) for k, shape in SHAPES.items()}


# phase: other
def mm(x: jax.Array, y: jax.Array) -> jax.Array:
    """``torch.mm``: a matrix product of two matrices, no broadcasting (einsum insists on the ranks)."""
    return jnp.einsum("ij,jk->ik", x, y)


# phase: report
def values(params: Mapping[str, jax.Array], data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Every operation the seed lists, by name (``<operation>.<expression>``), as ``cfg.dtype`` arrays."""
    a, b, c, batch, u, v = (jnp.asarray(data[k]) for k in SHAPES)
    out: dict[str, jax.Array] = {}

    # `*` does element-wise multiplication
    out["mul.a*b"] = a * b
    # `@` does matrix multiplication; .matmul is an alias; both broadcast over leading (batch) axes
    out["matmul.a@c"] = a @ c
    out["matmul.a.matmul(c)"] = jnp.matmul(a, c)
    out["matmul.batch@c"] = batch @ c
    # .mm does not broadcast: matrices only
    out["mm.a.mm(c)"] = mm(a, c)

    # torch.dot: the inner product of two 1-D tensors (torch raises for 2-D ones; jnp.dot would multiply them)
    out["dot.dot(u,v)"] = jnp.dot(u, v)
    out["dot.dot(a.flatten(),b.flatten())"] = jnp.vdot(a, b)  # flattens both: the seed's "irrespective of shape"

    # In-place a.add_(b): impossible (arrays are immutable values); rebind the name to a new array
    s = a
    s = s + b
    out["add_.s.add_(b)"] = s
    s = s.at[0].add(b[0])  # s[0].add_(b[0]) writes through a view; .at[] returns the updated copy
    out["add_.s[0].add_(b[0])"] = s

    # torch.add(x, y, out=r1): no out= (jnp.add(..., out=r1) raises NotImplementedError); the result is the value
    r1 = jnp.add(a, b)
    out["out.r1"] = r1

    # .from_numpy() / .numpy(): torch shares the memory; jnp.asarray copies, np.asarray gives a read-only view
    n = np.array(a)  # a host NumPy copy of the input
    t = jnp.asarray(n)
    out["numpy.from_numpy(n)"] = t
    out["numpy.t.numpy()"] = np.asarray(t)

    # .reshape() and .view((<shape>)): one operation in JAX (a new array, never a view; the shape is checked)
    out["reshape.a.reshape(3,2)"] = a.reshape(3, 2)
    out["view.a.view((3,2))"] = a.reshape((3, 2))
    out["view.a.view(-1)"] = a.reshape(-1)
    # .resize_(2, 2) keeps the first four elements (in memory order): slice, then reshape
    out["resize_.s.resize_(2,2)"] = a.ravel()[:4].reshape(2, 2)

    # torch.manual_seed(1): a global generator. JAX: an explicit key, passed in; no state advances
    key = jax.random.key(1)
    r1 = jax.random.normal(key, (3,), a.dtype)
    out["manual_seed.reseeded_draw_equal"] = jnp.all(r1 == jax.random.normal(key, (3,), a.dtype))  # same key
    _, sub = jax.random.split(key)  # the "next" draw needs a new key
    out["manual_seed.next_draw_differs"] = jnp.any(r1 != jax.random.normal(sub, (3,), a.dtype))

    dtype = jnp.dtype(cfg.dtype)
    return {k: jnp.asarray(x).astype(dtype) for k, x in out.items()}


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    """Each snippet as an interactive session: ``>>> a * b`` then the result, printed as torch prints it."""
    lines = []
    for name, code in SNIPPETS.items():
        value = vals[name]
        lines += [f">>> {code}", str(bool(np.asarray(value))) if name in BOOLEANS else tensor_str(value)]
    return lines


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes={},
    make_data=make_data,
    values=values,
    value_lines=value_lines,
)
