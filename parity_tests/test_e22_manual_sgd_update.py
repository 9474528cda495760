"""E22: the seed's in-place SGD loop as one jax.tree.map, against torch."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from jax.flatten_util import ravel_pytree

from jaxport import params, training
from jaxport.examples.e22_manual_sgd_update import port as e22
from jaxport.examples.e22_manual_sgd_update import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e22.EXAMPLE, dtype, device)


@pytest.fixture(scope="module")
def float64_run():
    """The float64 inputs and JAX values (the jitted values are compiled once per dtype and config)."""
    p = params.cast(e22.EXAMPLE.init(), "float64")
    data = e22.make_data(e22.Config(dtype="float64"))
    dev = training.jax_device("cpu")  # placed as the harness places them: the parity test's compilation is reused
    v = e22.values(jax.device_put(p, dev), jax.device_put(data, dev), e22.Config(dtype="float64"))
    return p, data, jax.tree.map(np.asarray, v)


def test_gradients_come_out_in_torch_layout(float64_run):
    """Params in torch's keys and layout in, gradients in torch's keys and layout out (no conversion by hand)."""
    p, _, v = float64_run
    for k, shape in e22.SHAPES.items():
        assert v[f"grad.{k}"].shape == shape and v[f"updated.{k}"].shape == shape, k
    assert v["output"].shape == (1, 10)


def _within_one_rounding(a: np.ndarray, b: np.ndarray, f: np.ndarray, g: np.ndarray, name: str) -> None:
    """``a`` and ``b`` are ``f - lr g`` computed with and without rounding ``lr g`` first: they may
    differ by one rounding of ``lr g`` and one of the result (ulps of the result can be many where
    ``f`` and ``lr g`` nearly cancel)."""
    eps = np.finfo(a.dtype).eps
    bound = eps * (np.abs(f) + np.abs(e22.CONFIG.lr * g))
    assert np.all(np.abs(a - b) <= bound), f"{name}: max |Δ| {np.abs(a - b).max():.3g} beyond one rounding"


def test_tree_map_update_is_one_sgd_step(float64_run):
    """The tree.map update is exactly what optax.sgd does with lr 0.01 (the seed's "using the torch.optim
    module": optim.SGD(net.parameters(), lr=0.01))."""
    p, _, v = float64_run
    # the update is elementwise: checked on all leaves raveled into one vector (a few eager compilations, not 40)
    flat_p, unravel = ravel_pytree({k: jnp.asarray(x) for k, x in p.items()})
    flat_g, _ = ravel_pytree({k: jnp.asarray(v[f"grad.{k}"]) for k in p})
    by_tree_map = e22.sgd_update({"all": flat_p}, {"all": flat_g}, e22.CONFIG.lr)["all"]
    tx = optax.sgd(e22.CONFIG.lr)
    updates, _ = tx.update(flat_g, tx.init(flat_p), flat_p)
    # op by op: f + (-(lr g)) == f - g lr, bit for bit
    np.testing.assert_array_equal(np.asarray(optax.apply_updates(flat_p, updates)), np.asarray(by_tree_map))
    by_tree_map = unravel(by_tree_map)
    for k in e22.SHAPES:  # under jit XLA may fuse f - g*lr into one FMA (one rounding instead of two)
        _within_one_rounding(np.asarray(by_tree_map[k]), v[f"updated.{k}"], np.asarray(p[k]), v[f"grad.{k}"], k)
    assert v["loss_after"] < v["loss"]  # a small step against the gradient lowers the loss


def test_torch_manual_loop_equals_optim_sgd():
    """On the torch side the seed's loop is optim.SGD(lr=0.01).step(): same gradients bit for bit; the
    update to 1 ulp (SGD's ``add_(grad, alpha=-lr)`` may round once where ``sub_(grad * lr)`` rounds twice)."""
    p = params.cast(e22.EXAMPLE.init(), "float64")
    data = e22.make_data(e22.Config(dtype="float64"))
    manual = ref.values(p, data, e22.Config(dtype="float64"))
    net = ref.Net().double()
    net.load_state_dict({k: torch.tensor(x) for k, x in p.items()}, strict=True)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    loss = torch.nn.MSELoss()(net(torch.tensor(data["input"])), torch.tensor(data["target"]))
    loss.backward()
    optimizer.step()
    for k, f in net.named_parameters():
        np.testing.assert_array_equal(f.grad.numpy(), manual[f"grad.{k}"], err_msg=k)
        _within_one_rounding(f.detach().numpy(), manual[f"updated.{k}"], p[k], manual[f"grad.{k}"], k)
