"""E12: nnx.Linear built from torch's Linear weights, against torch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import convert, params
from jaxport.examples.e12_linear_layers import port as e12

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e12.EXAMPLE, dtype, device)


def _inputs(dtype: str):
    p = {k: jnp.asarray(v) for k, v in params.cast(e12.EXAMPLE.init(), dtype).items()}
    data = {k: jnp.asarray(v) for k, v in e12.make_data(e12.Config(dtype=dtype)).items()}
    return p, data


def test_shapes_follow_the_seed():
    """Linear(3, 5) on three numbers gives five; Linear(3, 5) then Linear(5, 4) gives four."""
    p, data = _inputs("float32")
    v = e12.values(p, data, e12.CONFIG)
    assert v["lin(x)"].shape == (5,) and v["hidden"].shape == (5,) and v["output"].shape == (4,)
    assert all(a.dtype == jnp.float32 for a in v.values())


def test_flax_kernel_is_torch_weight_transposed():
    """The nnx layer holds torch's (out, in) weight as an (in, out) kernel, bit for bit, and computes x W^T + b."""
    p, data = _inputs("float64")
    for name, in_features, out_features in e12.LAYERS:
        layer = e12.layer(p, name)
        assert layer.kernel[...].shape == (in_features, out_features)
        np.testing.assert_array_equal(np.asarray(layer.kernel[...]), np.asarray(p[f"{name}.weight"]).T)
        np.testing.assert_array_equal(np.asarray(layer.bias[...]), np.asarray(p[f"{name}.bias"]))
        back = convert.to_state_dict(layer)  # and back to torch's layout, unchanged
        assert list(back) == ["weight", "bias"]
        np.testing.assert_array_equal(back["weight"], np.asarray(p[f"{name}.weight"]))
    v = e12.values(p, data, e12.CONFIG)
    by_hand = data["x"] @ p["lin.weight"].T + p["lin.bias"]
    np.testing.assert_allclose(np.asarray(v["lin(x)"]), np.asarray(by_hand), rtol=1e-15)


def test_values_is_pure_and_jits():
    """The layers are built from values inside the function, so the whole forward compiles."""
    p, data = _inputs("float64")
    eager, jitted = e12.values(p, data, e12.CONFIG), jax.jit(e12.values, static_argnums=2)(p, data, e12.CONFIG)
    for k in eager:
        np.testing.assert_allclose(np.asarray(jitted[k]), np.asarray(eager[k]), rtol=1e-15, err_msg=k)


def test_printed_like_the_seed():
    p, data = _inputs("float32")
    lines = e12.value_lines(jax.tree.map(np.asarray, e12.values(p, data, e12.CONFIG)))
    assert lines[0].startswith("lin(x) = tensor([") and lines[1].startswith("output = tensor([")
    assert len(lines[1].split(",")) == 4
