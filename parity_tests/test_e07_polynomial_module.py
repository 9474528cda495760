"""E07: an nnx.Module (Polynomial3) trained functionally with torch-exact SGD, against torch's nn.Module + optim.SGD."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from jaxport import params, training
from jaxport.examples.e03_polynomial_autograd import port as e03
from jaxport.examples.e07_polynomial_module import port as e07
from jaxport.examples.e07_polynomial_module.reference import Polynomial3 as TorchPolynomial3

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e07.EXAMPLE, dtype, device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_string_matches_torch(dtype):
    """The custom method: the same values give the same string as the seed's Polynomial3.string()."""
    p = params.cast(params.draw(e07.SHAPES, 5), dtype)
    theirs = TorchPolynomial3().to(getattr(torch, dtype))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in p.items()}, strict=True)
    assert e07.module(p).string() == theirs.string()


def test_split_and_merge_round_trip_under_torch_names():
    """A module drawn with an explicit key splits into torch's state_dict names and merges back unchanged."""
    model = e07.Polynomial3(rngs=nnx.Rngs(0), dtype=jnp.float64)
    flat = e07.params_of_module(model)
    assert list(flat) == list(TorchPolynomial3().state_dict()) == list(e07.NAMES)
    again = e07.params_of_module(e07.module(flat))
    for k in e07.NAMES:
        assert flat[k].shape == () and flat[k].dtype == jnp.float64
        np.testing.assert_array_equal(again[k], flat[k])
    # the same key gives the same values; another key, others (torch: the global generator)
    other = e07.params_of_module(e07.Polynomial3(rngs=nnx.Rngs(1), dtype=jnp.float64))
    assert e07.params_of_module(e07.Polynomial3(rngs=nnx.Rngs(0), dtype=jnp.float64))["a"] == flat["a"]
    assert other["a"] != flat["a"]


def test_module_is_traceable_inside_jit():
    """nnx.merge inside a jitted function: the module is rebuilt from traced values, then called."""
    p = {k: jnp.asarray(v) for k, v in params.cast(params.draw(e07.SHAPES, 2), "float64").items()}
    x = jnp.linspace(-1.0, 1.0, 7, dtype=jnp.float64)
    y = jax.jit(lambda p, x: e07.module(p)(x))(p, x)
    np.testing.assert_allclose(y, p["a"] + p["b"] * x + p["c"] * x**2 + p["d"] * x**3, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_and_optimizer_change_no_bits(dtype):
    """E07's module, nnx.merge and optim.sgd compute exactly E03's hand-written update, bit for bit."""
    cfg = dataclasses.replace(e07.CONFIG, dtype=dtype, steps=300)
    p0 = params.cast(params.draw(e07.SHAPES, 0), dtype)
    ours, hand = training.train(e07.EXAMPLE, p0, cfg), training.train(e03.EXAMPLE, p0, cfg)
    np.testing.assert_array_equal(ours.losses, hand.losses)
    for k in e07.NAMES:
        np.testing.assert_array_equal(ours.params[k], hand.params[k])


def test_plain_sgd_keeps_no_buffers():
    """torch's SGD without momentum keeps no per-parameter state; optim.sgd has only step counts, no buffer."""
    model = TorchPolynomial3()
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)
    model(torch.linspace(-1, 1, 5)).sum().backward()
    opt.step()
    assert all(not s for s in opt.state.values())
    state = e07.optimizer(e07.CONFIG).init({k: jnp.zeros(()) for k in e07.NAMES})
    assert state.momentum_buffer is None
