"""E18: torch's grad modes and flags against stop_gradient and argnums, value for value; grad_fn against jaxpr."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxport import harness, params
from jaxport.tolerances import tolerance
from jaxport.examples.e18_grad_modes import port as e18
from jaxport.examples.e18_grad_modes import reference as ref

from _helpers import assert_parity

RTOL = {d: tolerance("E18", d, "direct", "cpu").rtol for d in ("float32", "float64")}  # the one table


def _inputs(dtype: str, seed: int | None = None):
    p = params.cast(e18.EXAMPLE.init(seed), dtype)
    return p, jnp.asarray(p["x"]), jnp.asarray(p["w"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e18.EXAMPLE, dtype, device)


@pytest.mark.parametrize("init", [{"x": [0.0], "w": [0.5]}, 1, 2])
def test_parity_at_the_seeds_zero_and_drawn_values(init):
    """The seed's own x = zeros(1) (every gradient 0, every flag as at the default) and drawn values."""
    values = init if isinstance(init, dict) else e18.EXAMPLE.init(init)
    c = harness.compare(e18.EXAMPLE, {k: np.asarray(v, np.float64) for k, v in values.items()}, dtype="float32")
    assert c.passed, [r.message for r in c.regimes]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stop_gradient_gives_torchs_no_grad_and_detach_gradients(dtype):
    """y = x * 2 under no_grad, or detached, is a constant: d/dx sum(w x² y) = 2 x w y = 4 w x², as with
    stop_gradient; tracked it is 6 w x², as without."""
    p, x, w = _inputs(dtype, seed=3)
    theirs = ref.values(p, {}, e18.Config(dtype=dtype))
    cut = np.asarray(jax.grad(e18.loss)(x, w))
    full = np.asarray(jax.grad(e18.loss)(x, w, y_tracked=True))
    for name in ("no_grad.x.grad", "detach.x.grad"):
        np.testing.assert_allclose(cut, theirs[name], rtol=RTOL[dtype], err_msg=name)
    np.testing.assert_allclose(full, theirs["tracked.x.grad"], rtol=RTOL[dtype])
    np.testing.assert_allclose(cut, 4 * p["w"] * p["x"] ** 2, rtol=RTOL[dtype])
    np.testing.assert_allclose(full, 6 * p["w"] * p["x"] ** 2, rtol=RTOL[dtype])


def test_requires_grad_is_the_choice_of_argnums():
    """A tensor without requires_grad gets no .grad; in JAX that argument is simply not differentiated
    (jax.grad's default argnums=0). requires_grad_(True) on w <-> argnums=(0, 1): w's gradient, x's unchanged."""
    p, x, w = _inputs("float64")
    theirs = ref.values(p, {}, e18.CONFIG)
    only_x = jax.grad(e18.loss)(x, w)
    assert isinstance(only_x, jax.Array)  # one gradient: there is no "w.grad is None" to check, w was not asked for
    gx, gw = jax.grad(e18.loss, argnums=(0, 1))(x, w)
    np.testing.assert_array_equal(np.asarray(gx), np.asarray(only_x))
    np.testing.assert_allclose(np.asarray(gw), theirs["requires_grad_.w.grad"], rtol=1e-13)
    np.testing.assert_allclose(np.asarray(gw), p["x"] ** 2 * 2 * p["x"], rtol=1e-13)  # x² · y

    xt = torch.tensor(p["x"], requires_grad=True)
    wt = torch.tensor(p["w"])  # no requires_grad
    (wt * xt**2 * (xt * 2).detach()).sum().backward()
    assert wt.grad is None and xt.grad is not None


def test_requires_grad_flag_is_a_tangent_in_jax():
    """y.requires_grad: False under no_grad / set_grad_enabled(False), True otherwise. JAX has no flag;
    a tangent reaching y (jax.jvp) says the same thing."""
    _, x, _ = _inputs("float32")
    assert float(e18.tracked(lambda v: jax.lax.stop_gradient(v * 2), x)) == 0.0
    assert float(e18.tracked(lambda v: e18.grad_enabled(v * 2, False), x)) == 0.0
    assert float(e18.tracked(lambda v: e18.grad_enabled(v * 2, True), x)) == 1.0
    xt = torch.zeros(1, requires_grad=True)  # the seed's cell, verbatim
    with torch.no_grad():
        y = xt * 2
    assert y.requires_grad is False


def test_backward_with_nothing_tracked_raises_in_torch_jax_returns_zeros():
    """Under set_grad_enabled(False) the loss has no grad_fn and backward() raises. JAX has nothing to
    refuse: the gradient through stop_gradient is a zero array (a difference to know, not an error)."""
    p, x, w = _inputs("float32")
    xt = torch.tensor(p["x"], requires_grad=True)
    with torch.set_grad_enabled(False):
        loss = (torch.tensor(p["w"]) * xt**2 * xt * 2).sum()
    assert torch.is_grad_enabled()  # the switch is restored
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        loss.backward()
    g = jax.grad(lambda v: jax.lax.stop_gradient(e18.loss(v, w)))(x)
    np.testing.assert_array_equal(np.asarray(g), np.zeros(1, np.float32))


def test_grad_fn_is_a_jaxpr_equation():
    """torch: y = x**2 has grad_fn PowBackward0, and y under no_grad has none. JAX: x**2 is an integer_pow
    equation of the jaxpr, and the no_grad value is a stop_gradient equation."""
    xt = torch.zeros(1, requires_grad=True)
    assert type((xt**2).grad_fn).__name__ == "PowBackward0"
    with torch.no_grad():
        assert (xt * 2).grad_fn is None
    x = jnp.zeros(1, jnp.float32)
    assert [e.primitive.name for e in jax.make_jaxpr(lambda v: v**2)(x).jaxpr.eqns] == ["integer_pow"]
    prims = [e.primitive.name for e in jax.make_jaxpr(e18.loss)(x, x).jaxpr.eqns]
    assert "stop_gradient" in prims and "integer_pow" in prims
    assert "stop_gradient" not in [e.primitive.name for e in jax.make_jaxpr(lambda a, b: e18.loss(a, b, y_tracked=True))(x, x).jaxpr.eqns]


def test_printed_lines():
    p, *_ = _inputs("float32")
    lines = e18.value_lines(ref.values(p, {}, e18.CONFIG))
    assert lines[0] == "False"  # the seed's >>> y.requires_grad
    assert lines[3] == "x.grad, y under no_grad: tensor([18.]), y detached: tensor([18.]), y tracked: tensor([27.])"
    assert "<PowBackward0 object at 0x" in "\n".join(ref.grad_fn_lines(params.cast(e18.EXAMPLE.init(), "float32")))
    assert "integer_pow[y=2]" in "\n".join(e18.graph_lines())
