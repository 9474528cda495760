"""E16: the seed's tensor operations in JAX against torch, and each "impossible by design" proven on both sides."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport.examples.e16_tensor_ops import port as e16
from jaxport.examples.e16_tensor_ops import reference as e16_torch

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e16.EXAMPLE, dtype, device)


def _pair(dtype: str = "float64"):
    """The same (2,3) input in both frameworks (fresh copies)."""
    n = e16.make_data(e16.Config(dtype=dtype))["a"]
    return jnp.asarray(n), torch.tensor(n)


def test_printed_lines_and_seed_override():
    """Both frameworks print the same snippet lines; --seed S changes the inputs (and only them)."""
    cfg = e16.Config(dtype="float64")
    ours = jax.tree.map(np.asarray, e16.values({}, e16.make_data(cfg), cfg))
    theirs = e16_torch.values({}, e16.make_data(cfg), cfg)
    lines = e16.value_lines(ours)
    assert lines == e16.value_lines(theirs)
    assert lines[0] == ">>> a * b" and lines[-1] == "True" and len(lines) == 2 * len(e16.SNIPPETS)
    other = e16.make_data(e16.Config(dtype="float64", seed=3))
    assert not np.array_equal(other["a"], e16.make_data(cfg)["a"])


# --- the seed's shape errors: both frameworks raise, at the same call --------------------------------------

def test_mm_shape_mismatch_raises_in_both():
    """(2,3) x (2,3). torch: RuntimeError 'mat1 and mat2 shapes cannot be multiplied'. JAX: the port's mm
    (einsum) raises ValueError naming the mismatched index; `@` raises TypeError from dot_general."""
    ja, ta = _pair()
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        ta.mm(ta)
    with pytest.raises(ValueError, match=r"Size of label 'j' for operand 1 \(3\) does not match previous terms \(2\)"):
        e16.mm(ja, ja)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        ta @ ta
    with pytest.raises(TypeError, match=r"dot_general requires contracting dimensions to have the same shape, "
                                        r"got \(3,\) and \(2,\)"):
        ja @ ja


def test_mm_does_not_broadcast_matmul_does():
    """A batch (4,2,3) times (3,2): `@` broadcasts in both; mm refuses in both (torch RuntimeError
    'self must be a matrix'; einsum ValueError: wrong number of indices for operand 0)."""
    d = e16.make_data(e16.Config(dtype="float64"))
    jb, jc = jnp.asarray(d["batch"]), jnp.asarray(d["c"])
    tb, tc = torch.tensor(d["batch"]), torch.tensor(d["c"])
    np.testing.assert_allclose(np.asarray(jb @ jc), (tb @ tc).numpy(), rtol=1e-14)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        tb.mm(tc)
    with pytest.raises(ValueError, match="does not contain the correct number of indices for operand 0"):
        e16.mm(jb, jc)


def test_dot_is_1d_only_in_torch_and_a_matmul_in_jnp():
    """The seed says torch.dot treats its arguments as 1-D 'irrespective of their original shape'. torch 2
    raises for 2-D ones; jnp.dot of matrices is their matrix product (no error); jnp.vdot flattens, which
    is what the seed describes (= torch.dot of the flattened tensors)."""
    ja, ta = _pair()
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 2D tensors"):
        torch.dot(ta, ta)
    assert jnp.dot(ja, ja.T).shape == (2, 2)  # a matrix product, not an inner product
    np.testing.assert_allclose(float(jnp.vdot(ja, ja)), float(torch.dot(ta.flatten(), ta.flatten())), rtol=1e-14)


def test_view_with_an_invalid_shape_raises_in_both():
    """'.view((<shape>)) ... Complains if the shape is invalid': torch RuntimeError; jnp reshape TypeError."""
    ja, ta = _pair()
    with pytest.raises(RuntimeError, match=r"shape '\[5\]' is invalid for input of size 6"):
        ta.view(5)
    with pytest.raises(TypeError, match=r"cannot reshape array of shape \(2, 3\) \(size 6\) into shape 5 \(size 5\)"):
        ja.reshape(5)


# --- what is impossible by design in JAX, and its functional replacement ----------------------------------

def test_in_place_add_mutates_every_alias_in_torch_and_nothing_in_jax():
    """torch: a.add_(b) changes the tensor every name (and every view) refers to. JAX: there is no add_, no
    item assignment; `s = s + b` and `.at[0].add` make new arrays and the old one is untouched."""
    ja, ta = _pair()
    alias, row = ta, ta[0]
    ta.add_(1.0)
    assert torch.equal(alias, ta) and float(row[0]) == float(ta[0, 0])  # the alias and the view moved too

    before = np.asarray(ja).copy()
    alias = ja
    with pytest.raises(AttributeError, match="has no attribute 'add_'"):
        ja.add_(1.0)
    with pytest.raises(TypeError, match="JAX arrays are immutable and do not support in-place item assignment"):
        ja[0] = 1.0
    ja = ja + 1.0  # the functional form: a new array bound to the old name
    updated = alias.at[0].add(1.0)  # in-place on a row: returns the updated copy
    np.testing.assert_array_equal(np.asarray(alias), before)  # the old value is unchanged
    np.testing.assert_array_equal(np.asarray(updated)[0], before[0] + 1.0)
    np.testing.assert_array_equal(np.asarray(ja), before + 1.0)


def test_out_argument_writes_into_torch_memory_and_is_refused_by_jax():
    """torch.add(x, y, out=r1) stores into r1's existing memory. jnp.add has no out: NotImplementedError."""
    ja, ta = _pair()
    r1 = torch.empty_like(ta)
    ptr = r1.data_ptr()
    result = torch.add(ta, ta, out=r1)
    assert result is r1 and r1.data_ptr() == ptr and torch.equal(r1, 2 * ta)
    with pytest.raises(NotImplementedError, match="out argument"):
        jnp.add(ja, ja, out=jnp.empty_like(ja))
    np.testing.assert_array_equal(np.asarray(jnp.add(ja, ja)), 2 * np.asarray(ja))


def test_from_numpy_shares_memory_jnp_asarray_copies():
    """torch.from_numpy(n) and t.numpy() share n's memory, both ways. jnp.asarray(n) is a copy: writing
    into n leaves it alone; np.asarray(jax_array) is a read-only view, so nothing writes back.
    (JAX's host-to-device copies are asynchronous: block before reusing n, as below. And jax.device_put of a
    64-byte-aligned NumPy array on CPU aliases it in jax 0.10.2, see the xfail test below.)"""
    n = e16.make_data(e16.Config(dtype="float64"))["a"].copy()
    t = torch.from_numpy(n)
    assert t.data_ptr() == n.ctypes.data
    n[0, 0] = 99.0
    assert float(t[0, 0]) == 99.0  # NumPy's write shows in torch
    t.add_(1.0)
    assert n[0, 0] == 100.0  # torch's write shows in NumPy
    assert np.shares_memory(t.numpy(), n)

    n = e16.make_data(e16.Config(dtype="float64"))["a"].copy()
    j = jnp.asarray(n).block_until_ready()
    n[0, 0] = 99.0
    assert float(j[0, 0]) != 99.0  # a copy: NumPy's write does not show
    view = np.asarray(j)
    assert not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 1.0


@pytest.mark.xfail(strict=False, reason="jax-ml/jax#37830: on CPU, device_put aliases 64-byte-aligned writeable "
                                        "NumPy buffers, even with may_alias=False (measured in jax 0.10.2)")
def test_device_put_may_alias_false_copies():
    buf = np.zeros(64 + 8)
    start = (-buf.ctypes.data % 64) // 8
    n = buf[start:start + 64]  # 64-byte aligned
    j = jax.device_put(n, may_alias=False).block_until_ready()
    n[0] = 99.0
    assert float(j[0]) == 0.0


def test_reshape_and_view_memory():
    """torch: view shares memory (writes go through) and refuses non-contiguous input; reshape then copies.
    JAX: no strides and no views: reshape of a transpose just works, and the result is a new value."""
    ja, ta = _pair()
    v = ta.view(6)
    v[0] = 42.0
    assert float(ta[0, 0]) == 42.0  # the view writes into ta
    assert ta.reshape(3, 2).data_ptr() == ta.data_ptr()  # contiguous: the same memory
    assert ta.T.reshape(6).data_ptr() != ta.data_ptr()  # not contiguous: a clone
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        ta.T.view(6)
    np.testing.assert_array_equal(np.asarray(ja.T.reshape(6)), np.asarray(ja).T.reshape(6))


def test_resize_keeps_storage_in_torch_jax_has_no_resize_():
    """torch's resize_ drops elements from the view but keeps the storage: growing back restores them.
    JAX arrays have no resize_ (slice and reshape instead); jnp.resize is NumPy's, which repeats the data."""
    t = torch.arange(6)
    t.resize_(2, 2)
    assert t.tolist() == [[0, 1], [2, 3]]
    t.resize_(6)
    assert t.tolist() == [0, 1, 2, 3, 4, 5]  # the "dropped" elements were still there
    j = jnp.arange(6)
    assert not hasattr(j, "resize_") and not hasattr(j, "resize")
    assert j.ravel()[:4].reshape(2, 2).tolist() == [[0, 1], [2, 3]]
    assert jnp.resize(j[:4], (6,)).tolist() == [0, 1, 2, 3, 0, 1]  # grows by repeating, never uninitialised memory


def test_global_seed_versus_explicit_key():
    """torch.manual_seed sets a global generator that every draw advances: a draw elsewhere changes yours.
    A JAX draw is a pure function of its key: the same key gives the same numbers wherever it is called."""
    state = torch.get_rng_state()
    try:
        torch.manual_seed(1)
        first, second = torch.randn(3), torch.randn(3)
        torch.manual_seed(1)
        torch.randn(5)  # someone else's draw in between
        shifted = torch.randn(3)
        torch.manual_seed(1)
        again = torch.randn(3)
    finally:
        torch.set_rng_state(state)
    assert not torch.equal(first, second) and not torch.equal(first, shifted) and torch.equal(first, again)

    key = jax.random.key(1)
    a = jax.random.normal(key, (3,))
    jax.random.normal(key, (5,))  # another draw from the same key: changes nothing
    np.testing.assert_array_equal(np.asarray(jax.random.normal(key, (3,))), np.asarray(a))
    k1, k2 = jax.random.split(key)
    assert not np.array_equal(np.asarray(jax.random.normal(k1, (3,))), np.asarray(jax.random.normal(k2, (3,))))


def test_default_dtype_is_long_only_for_integer_data():
    """The seed: 'The default datatype of a tensor is `long`.' True for integer data in torch (int64); float
    data is float32 (torch.get_default_dtype()). JAX: int32/float32, or int64/float64 with x64 enabled."""
    assert torch.tensor([1, 2]).dtype == torch.long
    assert torch.tensor([1.0, 2.0]).dtype == torch.get_default_dtype() == torch.float32
    with jax.enable_x64(False):
        assert jnp.array([1, 2]).dtype == jnp.int32 and jnp.array([1.0, 2.0]).dtype == jnp.float32
    with jax.enable_x64(True):
        assert jnp.array([1, 2]).dtype == jnp.int64 and jnp.array([1.0, 2.0]).dtype == jnp.float64
