"""E10: the seed's tensor cells in jax.numpy, against torch; dtype defaults and the broadcasting error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport.examples.e10_tensor_basics import port as e10
from jaxport.examples.e10_tensor_basics import reference as e10_torch

from _helpers import assert_parity

# The seed's printed output for the cells it prints, verbatim (In [5] ... In [48]).
SEED_OUTPUT = """\
tensor([3, 7, 1])
tensor([[2, 5],
        [3, 9]])
tensor([2, 5])
tensor(2)
tensor([[1, 1, 1],
        [2, 2, 2],
        [3, 3, 3]])

tensor([1, 1, 1])
tensor([2, 2, 2])

tensor([1, 2, 3])

tensor([[1, 1],
        [2, 2]])
torch.Size([4, 3])
tensor([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
tensor([[1, 1, 1, 2, 2, 2],
        [3, 3, 3, 4, 4, 4]])
tensor([3, 3])
tensor([1, 1, 2, 2])
tensor([[2., 2.],
        [2., 2.],
        [2., 2.]])
tensor([[2., 2.],
        [2., 2.],
        [2., 2.]])
""" + """\
tensor([[[1., 1.],
         [1., 1.],
         [1., 1.]],

        [[1., 1.],
         [1., 1.],
         [1., 1.]]])
""" * 3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    c = assert_parity(e10.EXAMPLE, dtype, device)
    assert c.regimes[0].max_abs == 0.0  # integers and ones: bit for bit


def _values(dtype: str = "float32") -> dict[str, np.ndarray]:
    return jax.tree.map(np.asarray, e10.values({}, {}, e10.Config(dtype=dtype)))


@pytest.mark.parametrize("framework", ["jax", "torch"])
def test_printed_like_the_seed(framework):
    """Both frameworks' values, printed by value_lines, reproduce the seed's notebook output line for line."""
    vals = _values() if framework == "jax" else e10_torch.values({}, {}, e10.CONFIG)
    assert "\n".join(e10.value_lines(vals)) + "\n" == SEED_OUTPUT


def test_default_integer_and_float_dtypes():
    """torch: an int list is int64, a float list float32, always. JAX: int32/float32 by default,
    int64/float64 once x64 is enabled (jaxport enables it): the width is configuration."""
    assert torch.tensor([3, 7, 1]).dtype == torch.int64
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    with jax.enable_x64(False):
        assert jnp.array([3, 7, 1]).dtype == jnp.int32
        assert jnp.array([1.0, 2.0]).dtype == jnp.float32
        assert (jnp.array([2**31 - 1]) + 1).dtype == jnp.int32  # and overflows: int32 wraps where torch's int64 does not
        assert int((jnp.array([2**31 - 1]) + 1)[0]) == -(2**31)
    assert int((torch.tensor([2**31 - 1]) + 1)[0]) == 2**31
    with jax.enable_x64(True):
        assert jnp.array([3, 7, 1]).dtype == jnp.int64
        assert jnp.array([1.0, 2.0]).dtype == jnp.float64
    # whatever the default, the port's values come out in the run's float dtype
    assert all(v.dtype == np.float32 for v in _values("float32").values())


def test_seed_broadcasting_error_raises_in_both():
    """In [49]: (2,3,2) + (3,3): trailing dims 2 vs 3. torch: RuntimeError; JAX: ValueError, at the same `+`."""
    torch_message = r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 2"
    with pytest.raises(RuntimeError, match=torch_message):
        e10_torch.broadcast_error()
    with pytest.raises(ValueError, match=r"Incompatible shapes for broadcasting: shapes=\[\(2, 3, 2\), \(3, 3\)\]"):
        e10.broadcast_error()


def test_rank_promotion_is_a_jax_setting():
    """torch always broadcasts (2,3,2) + (3,2). JAX does too by default, but jax_numpy_rank_promotion='raise'
    (as in this test suite) rejects the implicit rank change; same-rank broadcasting, scalars and the explicit
    y[None] stay allowed. The port opts in to the seed's rule with jax.numpy_rank_promotion('allow')."""
    assert (torch.zeros((2, 3, 2)) + torch.ones((3, 2))).shape == (2, 3, 2)
    x, y = jnp.zeros((2, 3, 2)), jnp.ones((3, 2))
    with jax.numpy_rank_promotion("raise"):
        with pytest.raises(ValueError, match="jax_numpy_rank_promotion='raise'"):
            x + y
        assert (x + y[None]).shape == (2, 3, 2)  # explicit: fine
        assert (x + jnp.ones((1, 3, 2))).shape == (2, 3, 2)  # same rank: fine
        assert (jnp.ones((3, 2)) * 2).shape == (3, 2)  # a scalar: fine
        v = e10.values({}, {}, e10.CONFIG)  # the port itself runs under 'raise'
    np.testing.assert_array_equal(np.asarray(v["broadcast.x+y_1"]), np.ones((2, 3, 2), np.float32))
    with jax.numpy_rank_promotion("allow"):
        assert (x + y).shape == (2, 3, 2)


def test_shape_is_a_tuple_and_values_jit():
    """torch.Size is a tuple subclass; a JAX shape is a plain tuple. values() is pure and compiles whole."""
    t = jnp.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
    assert t.shape == (4, 3) and type(t.shape) is tuple
    assert isinstance(torch.zeros(4, 3).shape, tuple)
    eager = _values("float64")
    jitted = jax.tree.map(np.asarray, jax.jit(e10.values, static_argnums=2)({}, {}, e10.Config(dtype="float64")))
    for k in eager:
        np.testing.assert_array_equal(jitted[k], eager[k], err_msg=k)
