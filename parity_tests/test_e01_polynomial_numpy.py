"""E01: the JAX port of the seed's NumPy network against the seed's NumPy code."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import params
from jaxport.examples.e01_polynomial_numpy import port as e01
from jaxport.examples.e01_polynomial_numpy import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    if device != "cpu":
        pytest.skip("E01's reference is NumPy: CPU only")
    assert_parity(e01.EXAMPLE, dtype, device)


def test_hand_gradients_equal_autodiff():
    """The seed's hand-derived gradients are jax.grad of its loss, eager and jitted (float64)."""
    cfg = e01.CONFIG
    data = {k: jnp.asarray(v) for k, v in e01.EXAMPLE.make_data(cfg).items()}
    p = {k: jnp.asarray(v) for k, v in params.draw(e01.EXAMPLE.param_shapes, 5).items()}

    def loss(p):
        return jnp.square(e01.predict(p, data["x"]) - data["y"]).sum()

    auto = jax.grad(loss)(p)
    for fn in (e01.loss_and_grad, jax.jit(e01.loss_and_grad)):
        _, hand = fn(p, data)
        for k in "abcd":
            np.testing.assert_allclose(hand[k], auto[k], rtol=1e-12, err_msg=k)


def test_default_dtype_is_float64_like_numpy_randn():
    assert e01.CONFIG.dtype == "float64"
    run = ref.train(params.cast(params.draw(e01.EXAMPLE.param_shapes, 0), "float64"), e01.EXAMPLE.make_data(e01.CONFIG), e01.CONFIG)
    assert run.params["a"].dtype == np.float64
