"""E29: torch's accumulating .grad against JAX's explicit sum of gradient values (and optax.MultiSteps)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jaxport import params
from jaxport.examples.e29_grad_accumulation import port as e29
from jaxport.examples.e29_grad_accumulation import reference as ref

from _helpers import assert_parity

KEYS = tuple(e29.SHAPES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e29.EXAMPLE, dtype, device)


def _inputs(dtype: str):
    cfg = e29.Config(dtype=dtype)
    return params.cast(e29.EXAMPLE.init(), dtype), e29.make_data(cfg), cfg


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_accumulated_grad_is_the_jax_sum_of_two_gradients(dtype):
    """Two backward() calls without zero_grad leave g1 + g2 in .grad; JAX returns g1 and g2 as values and adds them."""
    p, data, cfg = _inputs(dtype)
    model = ref.PyTorchLinearRegression(3, 1).to(dtype=getattr(torch, dtype))
    model.load_state_dict({k: torch.tensor(v) for k, v in p.items()}, strict=True)
    X, y = torch.tensor(data["X"]), torch.tensor(data["y"])
    F.mse_loss(model(X[0]), y[0]).backward()
    F.mse_loss(model(X[1]), y[1]).backward()  # no zero_grad in between
    torch_grad = {k: q.grad.numpy().copy() for k, q in model.named_parameters()}

    jp = {k: jnp.asarray(v) for k, v in p.items()}
    loss_and_grad = jax.jit(e29.loss_and_grad)
    _, g1 = loss_and_grad(jp, jnp.asarray(data["X"][0]), jnp.asarray(data["y"][0]))
    _, g2 = loss_and_grad(jp, jnp.asarray(data["X"][1]), jnp.asarray(data["y"][1]))
    _, g1_again = loss_and_grad(jp, jnp.asarray(data["X"][0]), jnp.asarray(data["y"][0]))
    summed = jax.tree.map(jnp.add, g1, g2)
    rtol = {"float32": 1e-6, "float64": 1e-13}[dtype]
    for k in KEYS:
        np.testing.assert_allclose(np.asarray(summed[k]), torch_grad[k], rtol=rtol, err_msg=k)
        np.testing.assert_array_equal(np.asarray(g1_again[k]), np.asarray(g1[k]), err_msg=k)  # nothing accumulated
        assert not np.allclose(np.asarray(g1[k]), torch_grad[k])  # the two micro-batches really differ


def test_zero_grad_resets_torch_and_jax_has_nothing_to_reset():
    """After step() and zero_grad() torch's .grad is None (as the seed prints) and the next backward()
    starts afresh; the JAX value is just the gradient at the new parameters. Without zero_grad torch
    would have added the old .grad to it."""
    p, data, cfg = _inputs("float64")
    v = ref.values(p, data, cfg)  # asserts .grad is None after zero_grad
    ours = e29.values({k: jnp.asarray(x) for k, x in p.items()}, {k: jnp.asarray(x) for k, x in data.items()}, cfg)
    for k in KEYS:
        fresh = np.asarray(ours[f"grad_after_zero_grad.{k}"])
        np.testing.assert_allclose(fresh, v[f"grad_after_zero_grad.{k}"], rtol=1e-13, err_msg=k)
        stale = v[f"grad_accumulated.{k}"] + fresh  # what forgetting zero_grad would leave in .grad
        assert np.abs(stale - fresh).max() > 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_multisteps_summing_is_torch_accumulate_then_step(dtype):
    """optax.MultiSteps(sgd(lr), every_k_schedule=2, use_grad_mean=False) = torch's two backward() then
    step(); with optax's default (the mean of the gradients) it takes half torch's step."""
    p, data, cfg = _inputs(dtype)
    torch_updated = ref.values(p, data, cfg)
    jp = {k: jnp.asarray(v) for k, v in p.items()}
    jd = {k: jnp.asarray(v) for k, v in data.items()}
    after_first, after_second = e29.multisteps_update(jp, jd, cfg)
    _, mean_step = e29.multisteps_update(jp, jd, cfg, use_grad_mean=True)
    rtol = {"float32": 1e-6, "float64": 1e-13}[dtype]
    for k in KEYS:
        np.testing.assert_array_equal(np.asarray(after_first[k]), p[k])  # no step until the k-th micro-batch
        want = torch_updated[f"updated.{k}"]
        np.testing.assert_allclose(np.asarray(after_second[k]), want, rtol=rtol, err_msg=k)
        np.testing.assert_allclose(p[k] - np.asarray(mean_step[k]), (p[k] - want) / 2, rtol=rtol * 10, err_msg=k)


def test_printed_like_the_seed():
    p, data, cfg = _inputs("float32")
    lines = e29.value_lines(ref.values(p, data, cfg))
    assert lines[0].startswith("grad after `.backward()` tensor([[")
    assert lines[2].startswith("Final parameter value: tensor([[")
