"""E13: MyCoolNet as a flax nnx module trained by a pure step (SGD momentum as optax state), against torch."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from flax import nnx

from jaxport import convert, params, training
from jaxport.cli import main
from jaxport.examples.e13_mycoolnet import port as e13
from jaxport.examples.e13_mycoolnet import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e13.EXAMPLE, dtype, device)


def _float64():
    cfg = dataclasses.replace(e13.CONFIG, dtype="float64")
    p0 = params.cast(e13.EXAMPLE.init(), "float64")
    return cfg, p0, e13.make_data(cfg)


def test_default_init_is_torchs_linear_distribution():
    """U(±1/√in_features) for weight and bias, in torch's (out, in) layout, the same numbers every import."""
    for name, i, o in e13.LAYERS:
        w, b = e13.DEFAULT_INIT[f"{name}.weight"], e13.DEFAULT_INIT[f"{name}.bias"]
        assert w.shape == (o, i) and b.shape == (o,)
        assert np.abs(w).max() <= 1 / np.sqrt(i) and np.abs(b).max() <= 1 / np.sqrt(i)
    again = params.torch_init(e13.SHAPES, 0)
    for k in e13.NAMES:
        np.testing.assert_array_equal(again[k], e13.DEFAULT_INIT[k])


def test_gradients_come_out_in_torch_layout_with_torch_names():
    """Differentiating through nnx_tree + nnx.merge gives d loss / d weight in (out, in), like p.grad."""
    cfg, p0, data = _float64()
    loss, grads = jax.jit(e13.loss_and_grad)({k: jnp.asarray(v) for k, v in p0.items()}, {"x": jnp.asarray(data["x"])})
    model = ref.MyCoolNet(5, 5).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in p0.items()}, strict=True)
    out = model(torch.tensor(data["x"]))
    torch.sum((0 - out) ** 2).backward()
    assert sorted(grads) == sorted(k for k, _ in model.named_parameters())
    for k, p in model.named_parameters():
        assert grads[k].shape == tuple(p.grad.shape), k
        np.testing.assert_allclose(np.asarray(grads[k]), p.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=k)


def test_the_flax_module_owns_no_state_between_steps():
    """The template module is abstract (nothing drawn); each step builds a fresh module from the values."""
    graphdef, state = e13._template(jnp.dtype(jnp.float32))
    assert all(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in jax.tree.leaves(state))
    kernel = convert.from_state_dict(state, params.cast(e13.DEFAULT_INIT, "float32"))
    assert kernel["lin1"]["kernel"][...].shape == (5, 10)  # flax keeps (in, out): torch's weight transposed


def test_pure_step_equals_the_stateful_nnx_optimizer_with_optax_sgd():
    """The seed's loop written the stateful flax way (nnx.Optimizer + optax.sgd, momentum trace from zeros)
    lands on the same parameters as the pure step with torch-exact optim.sgd: for dampening 0 they agree."""
    cfg, p0, data = _float64()
    state, _ = training.scan_steps(e13.EXAMPLE.train_step, cfg, jax.tree.map(jnp.asarray, e13.EXAMPLE.state(p0, cfg)),
                                   jax.tree.map(jnp.asarray, data), jnp.int32(0), cfg.steps)
    graphdef, abstract = e13._template(jnp.dtype(jnp.float64))
    net = nnx.merge(graphdef, convert.from_state_dict(abstract, p0))  # a live, stateful module
    opt = nnx.Optimizer(net, optax.sgd(cfg.lr, momentum=cfg.momentum), wrt=nnx.Param)

    @nnx.jit
    def train_step(net, opt, x):
        grads = nnx.grad(lambda m: jnp.sum((0 - m(x)) ** 2))(net)
        opt.update(net, grads)  # mutates net and the optimizer's state in place, as torch does

    for _ in range(cfg.steps):
        train_step(net, opt, jnp.asarray(data["x"]))
    final = convert.to_state_dict(net)
    for k in e13.NAMES:
        np.testing.assert_allclose(final[k], np.asarray(state[k]), rtol=1e-13, atol=1e-15, err_msg=k)
    assert int(state["count.lin1.weight"]) == cfg.steps


def test_printed_lines_are_the_seeds(capsys):
    """`Loss {i}: {loss.item()}` for i in 0..9, the same numbers from both frameworks (float32 rounding)."""
    lines = {}
    for fw in ("jax", "torch"):
        assert main(["run", "E13", "--framework", fw]) == 0
        lines[fw] = capsys.readouterr().out.strip().splitlines()
    for fw, out in lines.items():
        assert [line.split(":")[0] for line in out[:10]] == [f"Loss {i}" for i in range(10)], fw
        assert out[10].startswith("model(x) = tensor([")
    for a, b in zip(lines["jax"][:10], lines["torch"][:10]):
        assert float(a.split(": ")[1]) == pytest.approx(float(b.split(": ")[1]), rel=1e-5)
