"""E10 tensor_basics — seed 001, "Pytorch Tensor Library".

Every cell of the section, in ``jax.numpy``: creating (``torch.tensor`` → ``jnp.array``), indexing
(``t[0]``, ``t[0][0]``), slicing (``t[0:2, 1:]``), shape and ``view`` (→ ``reshape``; ``-1`` works the
same), elementwise ``+``, ``torch.cat`` (→ ``jnp.concatenate``) and broadcasting, ending with the
seed's deliberate error ``(2,3,2) + (3,3)``, which raises in JAX too, at the same ``+``.

The contrast: the API is NumPy's and the values are identical, but **the dtypes and the rules are
configuration, not defaults you can rely on**. An integer list becomes ``int64`` in torch, but
``int32`` in JAX unless x64 is enabled (jaxport enables it, so here it is ``int64`` too; the tests
show both); a float list ``float32`` in torch, ``float32``/``float64`` in JAX by the same switch.
And NumPy's implicit rank promotion (``(2,3,2) + (3,2)``), which torch always allows, is an error
under ``jax_numpy_rank_promotion='raise'`` (the parity tests run with it): the broadcasting cell
opts in explicitly with ``jax.numpy_rank_promotion("allow")``, the honest spelling of the seed's
rule. The seed's tensors are literals, written out the same in the reference; :func:`values`
returns every cell's result under a stable name (integers as floats in the run's dtype, for the
comparison), and :func:`value_lines` prints them as the seed's notebook does.

No equivalent by design: int64 integer tensors by default: JAX's integers are int32 unless x64 is
enabled (one switch for the process). ``view`` sharing storage with its source: ``reshape`` returns
a new immutable array, and since nothing can be written through either, sharing would be
unobservable.
"""

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxport.catalog import identity
from jaxport.spec import ValuesExample


@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # the seed's float tensors (torch.ones) are float32; its integer ones are compared in this dtype


CONFIG = Config()

# The values the seed builds from integer lists (printed as integers; compared as floats).
INTEGER_VALUES = (
    "create.t_1", "create.t_2", "index.t[0]", "index.t[0][0]", "index.t[0,0]",
    "slice.t", "slice.t[0,:]", "slice.t[1,:]", "slice.t[:,0]", "slice.t[0:2,1:]",
    "shape.t.view(12)", "shape.t.view(2,-1)", "ops.z", "cat.z",
)


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Nothing to hand over: the seed's tensors are literals, written the same in both frameworks."""
    return {}


# phase: report
def values(params: Mapping[str, jax.Array], data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Every cell of the section, by name (``<cell>.<expression>``), as ``cfg.dtype`` arrays."""
    dtype = jnp.dtype(cfg.dtype)
    out: dict[str, jax.Array] = {}

    # Creating Tensors: torch.tensor(list) -> jnp.array(list)
    t = jnp.array([3, 7, 1])  # int64 with x64 enabled, int32 without (torch: always int64)
    out["create.t_1"] = t
    t = jnp.array([[2, 5], [3, 9]])
    out["create.t_2"] = t

    # Indexing Tensors: lower rank each time
    t = jnp.array([[2, 5], [3, 9]])  # rank 2 tensor
    out["index.t[0]"] = t[0]  # returns a rank 1 array
    out["index.t[0][0]"] = t[0][0]  # returns a rank 0 array. Equivalently t[0,0]
    out["index.t[0,0]"] = t[0, 0]

    # Slicing Tensors: as NumPy
    t = jnp.array([[1, 1, 1], [2, 2, 2], [3, 3, 3]])
    out["slice.t"] = t
    out["slice.t[0,:]"], out["slice.t[1,:]"] = t[0, :], t[1, :]
    out["slice.t[:,0]"] = t[:, 0]
    out["slice.t[0:2,1:]"] = t[0:2, 1:]

    # Tensor Shape and Reshaping: t.view(...) -> t.reshape(...) (a new array; nothing is shared)
    t = jnp.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
    out["shape.t.shape"] = jnp.array(t.shape)  # torch.Size([4, 3]): a tuple here
    out["shape.t.view(12)"] = t.reshape(12)
    out["shape.t.view(2,-1)"] = t.reshape(2, -1)  # -1: worked out from the number of elements

    # Operations on Tensors: elementwise; cat concatenates along the first axis
    x = jnp.array([1, 1])
    y = jnp.array([2, 2])
    out["ops.z"] = x + y
    out["cat.z"] = jnp.concatenate([x, y])  # torch.cat

    # Tensor Broadcasting (float32 in the seed: torch.ones)
    out["broadcast.ones*2"] = jnp.ones((3, 2), dtype) * 2  # a Python scalar: weakly typed, keeps dtype
    out["broadcast.ones*tensor"] = jnp.ones((3, 2), dtype) * jnp.array([[2.0, 2], [2, 2], [2, 2]], dtype)
    # Implicit rank promotion is NumPy's (and torch's) rule; JAX lets a config forbid it, so opt in here.
    with jax.numpy_rank_promotion("allow"):
        x = jnp.zeros((2, 3, 2), dtype)
        y = jnp.ones((3, 2), dtype)
        out["broadcast.x+y_1"] = x + y
        x = jnp.zeros((2, 3, 2), dtype)
        y = jnp.ones((1, 3, 2), dtype)
        out["broadcast.x+y_2"] = x + y
        x = jnp.zeros((2, 3, 2), dtype)
        y = jnp.ones((2,), dtype)
        out["broadcast.x+y_3"] = x + y
    # The seed's last cell, (2,3,2) + (3,3), raises: see broadcast_error().
    return {k: jnp.asarray(v).astype(dtype) for k, v in out.items()}


# phase: other
def broadcast_error() -> jax.Array:
    """The seed's ``In [49]``: ``zeros((2,3,2)) + ones((3,3))``. Raises ``ValueError`` ("Incompatible
    shapes for broadcasting"), where torch raises ``RuntimeError`` ("The size of tensor a (2) must
    match the size of tensor b (3) at non-singleton dimension 2")."""
    with jax.numpy_rank_promotion("allow"):
        x = jnp.zeros((2, 3, 2))
        y = jnp.ones((3, 3))
        return x + y


# phase: report
def tensor_str(a: np.ndarray, integer: bool = False) -> str:
    """``a`` printed as torch prints a tensor: ``tensor([1, 2])``, ``tensor([[2., 2.], ...])``, ``tensor(2)``.

    Integer tensors without decimals; float tensors as ``2.`` when every value is whole, else 4 decimals.
    """
    a = np.asarray(a)
    if integer:
        a = a.astype(np.int64)
        body = np.array2string(a, separator=", ", prefix="tensor(")
    elif np.all(a == np.round(a)):
        body = np.array2string(a, separator=", ", prefix="tensor(", floatmode="maxprec")
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode="fixed")
    return f"tensor({body})"


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    """The seed's printed output, cell by cell (blank lines where the seed prints ``print()``)."""
    def s(name: str) -> str:
        return tensor_str(vals[name], integer=name in INTEGER_VALUES)

    shape = ", ".join(str(int(n)) for n in np.asarray(vals["shape.t.shape"]))
    return [
        s("create.t_1"), s("create.t_2"),
        s("index.t[0]"), s("index.t[0][0]"),
        s("slice.t"), "", s("slice.t[0,:]"), s("slice.t[1,:]"), "", s("slice.t[:,0]"), "", s("slice.t[0:2,1:]"),
        f"torch.Size([{shape}])", s("shape.t.view(12)"), s("shape.t.view(2,-1)"),
        s("ops.z"), s("cat.z"),
        s("broadcast.ones*2"), s("broadcast.ones*tensor"),
        s("broadcast.x+y_1"), s("broadcast.x+y_2"), s("broadcast.x+y_3"),
    ]


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes={},
    make_data=make_data,
    values=values,
    value_lines=value_lines,
)
