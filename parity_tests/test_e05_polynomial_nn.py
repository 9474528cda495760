"""E05: an nnx.Sequential trained from a flat dict of torch-named parameters, against torch's nn.Sequential."""

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from jaxport import convert, params, training
from jaxport.examples.e05_polynomial_nn import port as e05
from jaxport.examples.e05_polynomial_nn import reference as ref

from _helpers import assert_parity


def _cfg(dtype: str = "float32", **kw) -> e05.Config:
    return dataclasses.replace(e05.CONFIG, dtype=dtype, **kw)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e05.EXAMPLE, dtype, device)


def test_parameter_names_and_layout_are_torchs():
    """The state is torch's state_dict (names, order, (out, in) layout); the flax kernel is its transpose."""
    torch_model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    assert {k: tuple(v.shape) for k, v in torch_model.state_dict().items()} == e05.SHAPES
    assert list(e05.SHAPES) == [name for name, _ in torch_model.named_parameters()]
    p = {k: jnp.asarray(v) for k, v in params.cast(e05.EXAMPLE.init(seed=1), "float64").items()}
    model = e05.model_of(p)
    np.testing.assert_array_equal(model.layers[0].kernel[...], p["0.weight"].T)
    back = convert.torch_tree(nnx.state(model, nnx.Param))
    assert set(back) == set(e05.SHAPES)
    for k in e05.SHAPES:
        np.testing.assert_array_equal(back[k], p[k])


def test_gradients_come_back_under_torch_names_in_torch_layout():
    """jax.grad of the flat dict, through nnx.merge, gives torch's .grad leaf by leaf (float64)."""
    p0 = params.cast(e05.EXAMPLE.init(), "float64")
    data = e05.make_data(_cfg("float64"))
    run = ref.train(p0, data, _cfg("float64", steps=1), record=True)
    loss, grads = jax.jit(e05.loss_and_grad)({k: jnp.asarray(v) for k, v in p0.items()},
                                             {k: jnp.asarray(v) for k, v in data.items()})
    np.testing.assert_allclose(loss, run.losses[0], rtol=1e-14)
    for k, shape in e05.SHAPES.items():
        assert grads[k].shape == shape
        np.testing.assert_allclose(grads[k], run.grads[k][0], rtol=1e-13, err_msg=k)


def test_default_init_is_torch_manual_seed_0():
    """DEFAULT_INIT is torch.manual_seed(0); nn.Linear(3, 1), torch's U(±1/√3) init, bit for bit."""
    torch.manual_seed(0)
    state = torch.nn.Linear(3, 1).state_dict()
    for k, v in e05.DEFAULT_INIT.items():
        np.testing.assert_array_equal(np.asarray(v, np.float32), state[k.removeprefix("0.")].numpy())
    assert np.all(np.abs(np.asarray(e05.DEFAULT_INIT["0.weight"])) <= 1 / np.sqrt(3))


def test_any_drawn_init_converges():
    """--seed S draws standard normals, not torch's U(±1/√3). Safe: gradient descent on this quadratic
    contracts from any start, since lr times the Hessian's largest eigenvalue is below 2 (it is 0.56)."""
    x = e05.make_data(_cfg("float64"))["x"]
    design = np.stack([x, x**2, x**3, np.ones_like(x)], axis=1)  # columns of xx, then the bias
    hessian = 2 * design.T @ design  # of sum((design @ w - y)^2)
    assert e05.CONFIG.lr * np.linalg.eigvalsh(hessian).max() < 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_powers_equal_torch_bit_for_bit(dtype):
    """xx = x.unsqueeze(-1).pow(p): explicit broadcasting and cast in JAX, the same bits as torch."""
    d = e05.make_data(_cfg(dtype))
    expected = torch.tensor(d["x"]).unsqueeze(-1).pow(torch.tensor([1, 2, 3])).numpy()
    for f in (e05.powers, jax.jit(e05.powers)):
        np.testing.assert_array_equal(f(jnp.asarray(d["x"]), jnp.asarray(d["p"])), expected)


@pytest.mark.parametrize(("shape", "start", "end"), [((2000, 1), 0, 1), ((2, 3, 4), 1, -1), ((2, 3, 4, 5), 0, 2)])
def test_flatten_matches_torch(shape, start, end):
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    expected = torch.nn.Flatten(start, end)(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(e05.Flatten(start, end)(jnp.asarray(a)), expected)


def test_prints_the_seeds_lines_at_the_seeds_steps():
    """Both print 'Step: t Loss: ...' at t % 1000 == 99 (the seed's condition), then the same final lines."""
    p0 = params.cast(e05.EXAMPLE.init(), "float32")
    cfg = _cfg(steps=1100)
    ours, theirs = [], []
    training.train(e05.EXAMPLE, p0, cfg, report=ours.append)
    ref.train(p0, e05.make_data(cfg), cfg, report=theirs.append)
    step = re.compile(r"Step: (\d+) Loss: (\S+)$")
    steps = [(m[1], float(m[2])) for m in map(step.match, ours) if m]
    ref_steps = [(m[1], float(m[2])) for m in map(step.match, theirs) if m]
    assert [s for s, _ in steps] == [s for s, _ in ref_steps] == ["99", "1099"]
    np.testing.assert_allclose([v for _, v in steps], [v for _, v in ref_steps], rtol=1e-5)
    result = re.compile(r"Result: y = (\S+) \+ (\S+) x \+ (\S+) x\^2 \+ (\S+) x\^3$")
    (r_ours,), (r_ref,) = ([result.match(s).groups() for s in lines if s.startswith("Result:")] for lines in (ours, theirs))
    np.testing.assert_allclose(np.float64(r_ours), np.float64(r_ref), rtol=1e-5, atol=1e-6)
    heads = lambda lines: [s.split(" data:")[0] for s in lines if s.startswith(("Final Loss:", "printing", "param name:"))]  # noqa: E731
    assert [h.split(":")[0] if h.startswith("Final") else h for h in heads(ours)] == \
           [h.split(":")[0] if h.startswith("Final") else h for h in heads(theirs)] == \
           ["Final Loss", "printing named parameter data", "param name: 0.weight", "param name: 0.bias"]
