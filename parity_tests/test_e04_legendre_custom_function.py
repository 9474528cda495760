"""E04: jax.custom_vjp against torch.autograd.Function (Legendre P3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport.examples.e04_legendre_custom_function import port as e04
from jaxport.examples.e04_legendre_custom_function.reference import LegendrePolynomial3

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e04.EXAMPLE, dtype, device)


@pytest.mark.parametrize("transform", [lambda f: f, jax.jit], ids=["eager", "jit"])
def test_custom_backward_equals_jax_derivative(transform):
    """The seed's hand-written backward, 1.5 (5 t^2 - 1), is JAX's own derivative of P3 (float64)."""
    t = jnp.linspace(-2.0, 2.0, 101, dtype=jnp.float64)
    custom = transform(jax.vmap(jax.grad(e04.legendre_p3)))(t)
    auto = transform(jax.vmap(jax.grad(e04.legendre_p3_forward_math)))(t)
    np.testing.assert_allclose(custom, auto, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(e04.legendre_p3(t), e04.legendre_p3_forward_math(t), rtol=0, atol=0)


def test_custom_vjp_matches_torch_function():
    """Forward and backward of the custom op against the seed's torch.autograd.Function (float64)."""
    t = np.linspace(-1.5, 1.5, 57)
    cot = np.cos(3 * t)
    tt = torch.tensor(t, requires_grad=True)
    out = LegendrePolynomial3.apply(tt)
    out.backward(torch.tensor(cot))
    y, vjp = jax.vjp(e04.legendre_p3, jnp.asarray(t))
    np.testing.assert_allclose(np.asarray(y), out.detach().numpy(), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(np.asarray(vjp(jnp.asarray(cot))[0]), tt.grad.numpy(), rtol=1e-15, atol=1e-15)


def test_default_init_is_the_seeds():
    assert e04.DEFAULT_INIT == {"a": 0.0, "b": -1.0, "c": 0.0, "d": 0.3}
    assert e04.CONFIG.lr == 5e-6
