"""E14: the notes' EMA momentum, torch's SGD momentum and its dampening, as optax transformations, against torch."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxport import harness, params
from jaxport.examples.e14_momentum_forms import port as e14

from _helpers import init_for


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    # a values example has the one "values" regime (every form's w and buffer trajectories)
    c = harness.compare(e14.EXAMPLE, init_for(e14.EXAMPLE), dtype=dtype, device=device)
    assert [r.name for r in c.regimes] == ["values"]
    assert c.passed, c.regimes[0].message


@pytest.fixture(scope="module")
def float64_values():
    cfg = dataclasses.replace(e14.CONFIG, dtype="float64")
    p = {k: jnp.asarray(v) for k, v in params.cast(e14.EXAMPLE.init(), "float64").items()}
    data = {k: jnp.asarray(v) for k, v in e14.make_data(cfg).items()}
    return cfg, p, data, jax.tree.map(np.asarray, e14.values(p, data, cfg))


def test_ema_form_is_torch_momentum_with_lr_over_one_minus_beta(float64_values):
    """At every step, the first included: V_ema = (1-β)·V_torch, and w_ema = w_torch (α = lr/(1-β))."""
    cfg, _, _, v = float64_values
    np.testing.assert_allclose(v["ema.V"], (1 - cfg.beta) * v["torch.V"], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(v["ema.w"], v["torch.w"], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(v["torch.V"][0], np.asarray(float64_values[2]["grads"][0]))  # torch: V_1 = g_1


def test_dampening_differs_by_the_undamped_first_gradient(float64_values):
    """torch's dampening=β starts its buffer at g₁ (not (1-β)g₁): V_damp - V_ema = βᵗ g₁ (fades), and the
    parameters are shifted by -α g₁ β(1-βᵗ)/(1-β) (stays)."""
    cfg, _, data, v = float64_values
    beta, alpha, g1 = cfg.beta, cfg.lr / (1 - cfg.beta), np.asarray(data["grads"][0])
    t = np.arange(1, cfg.steps + 1)[:, None]
    np.testing.assert_allclose(v["dampened.V"] - v["ema.V"], beta**t * g1, rtol=1e-9, atol=1e-14)
    shift = -alpha * g1 * beta * (1 - beta**t) / (1 - beta)
    np.testing.assert_allclose(v["dampened.w"][1:] - v["ema.w"][1:], shift, rtol=1e-9, atol=1e-13)
    assert np.abs(v["dampened.w"][-1] - v["ema.w"][-1]).min() > 0.5 * alpha * beta / (1 - beta) * np.abs(g1).min()


def test_optax_spellings_of_the_forms(float64_values):
    """optax.sgd(lr, momentum=β) (trace from zeros) is torch's dampening-0 SGD; the notes' form is
    optax.chain(optax.ema(β, debias=False), optax.scale(-α)). optax.ema's default debias=True is neither."""
    cfg, p, data, v = float64_values
    alpha = cfg.lr / (1 - cfg.beta)
    w, grads = p["w"], data["grads"]

    def trajectory(tx: optax.GradientTransformation) -> np.ndarray:  # w after each step
        def body(carry, g):
            w, s = carry
            u, s = tx.update(g, s, w)
            return (w + u, s), w + u

        with jax.numpy_dtype_promotion("standard"):  # optax.ema's debias mixes a float with an int32 count
            return np.asarray(jax.lax.scan(body, (w, tx.init(w)), grads)[1])

    np.testing.assert_allclose(trajectory(optax.sgd(cfg.lr, momentum=cfg.beta)), v["torch.w"][1:], rtol=0, atol=1e-14)
    chained = lambda debias: trajectory(optax.chain(optax.ema(cfg.beta, debias=debias), optax.scale(-alpha)))  # noqa: E731
    np.testing.assert_allclose(chained(False), v["ema.w"][1:], rtol=0, atol=1e-14)
    debiased = chained(True)  # V/(1-βᵗ): its first step is α·g₁, like dampening's, but it differs after
    np.testing.assert_allclose(debiased[0], v["dampened.w"][1], rtol=1e-14)
    assert np.abs(debiased[5] - v["dampened.w"][6]).max() > 1e-4
    assert np.abs(debiased[5] - v["ema.w"][6]).max() > 1e-4


def test_ema_transform_is_a_pure_optax_transformation(float64_values):
    """init/update are pure: the same inputs give the same outputs, the state is a NamedTuple value."""
    cfg, p, data, _ = float64_values
    tx = e14.ema_momentum(0.01, cfg.beta)
    s0 = tx.init(p["w"])
    u1, s1 = tx.update(data["grads"][0], s0, p["w"])
    u2, s2 = tx.update(data["grads"][0], s0, p["w"])
    np.testing.assert_array_equal(np.asarray(u1), np.asarray(u2))
    np.testing.assert_array_equal(np.asarray(s0.V), 0.0)  # the old state is untouched
    np.testing.assert_allclose(np.asarray(s1.V), (1 - cfg.beta) * np.asarray(data["grads"][0]), rtol=1e-15)


def test_value_lines_show_the_three_forms(float64_values):
    lines = e14.value_lines(float64_values[3])
    assert lines[0].startswith("step") and "EMA" in lines[0] and "dampening" in lines[0]
    assert [int(line.split()[0]) for line in lines[1:-1]] == [1, 2, 100, 200, 300]
    assert lines[-1].startswith("max |w_EMA - w_torch| over 300 steps")
