"""E03: jax.value_and_grad against torch autograd."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxport import params
from jaxport.examples.e01_polynomial_numpy import port as e01
from jaxport.examples.e03_polynomial_autograd import port as e03

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e03.EXAMPLE, dtype, device)


def test_autodiff_equals_the_hand_gradients_of_e01():
    """value_and_grad of the loss is exactly the math E01/E02 derive by hand (float64)."""
    data = {k: jnp.asarray(v) for k, v in e03.EXAMPLE.make_data(e03.CONFIG.__class__(dtype="float64")).items()}
    p = {k: jnp.asarray(v) for k, v in params.draw(e03.EXAMPLE.param_shapes, 2).items()}
    (l1, g1), (l2, g2) = e03.loss_and_grad(p, data), e01.loss_and_grad(p, data)
    np.testing.assert_allclose(l1, l2, rtol=1e-13)
    for k in "abcd":
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-11, atol=1e-9, err_msg=k)


def test_gradients_are_values_nothing_to_zero():
    """Two calls give the same gradients: nothing accumulates between them (torch needs grad = None)."""
    data = {k: jnp.asarray(v) for k, v in e03.EXAMPLE.make_data(e03.CONFIG).items()}
    p = {k: jnp.asarray(v) for k, v in params.cast(params.draw(e03.EXAMPLE.param_shapes, 0), "float32").items()}
    for fn in (e03.loss_and_grad, jax.jit(e03.loss_and_grad)):  # each form against itself: eager and jitted
        _, g1 = fn(p, data)  # (the two forms may round a 2000-term sum differently: that is not this test)
        _, g2 = fn(p, data)
        for k in "abcd":
            np.testing.assert_array_equal(g1[k], g2[k])
