"""E15: torch's Adam inside a LookAhead written from the method, against optim.lookahead(optim.adam)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxport import optim, params
from jaxport.examples.e15_adam_lookahead import port as e15
from jaxport.examples.e15_adam_lookahead import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e15.EXAMPLE, dtype, device)


STEPS = 2 * e15.CONFIG.k + 1  # two synchronisations and one step after


@pytest.fixture(scope="module")
def float64_run():
    """The example's step (LookAhead(Adam)) for STEPS steps in float64, every step's state kept."""
    cfg = dataclasses.replace(e15.CONFIG, dtype="float64", steps=STEPS)
    p0 = params.cast(e15.EXAMPLE.init(), "float64")
    data = jax.tree.map(jnp.asarray, e15.make_data(cfg))

    def body(state, t):
        state, _ = e15.EXAMPLE.train_step(state, data, t, cfg)
        return state, state

    s0 = jax.tree.map(jnp.asarray, e15.EXAMPLE.state(p0, cfg))
    _, states = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(STEPS, dtype=jnp.int32)))(s0)
    return cfg, p0, jax.tree.map(np.asarray, states)


def test_before_the_first_sync_it_is_plain_torch_adam(float64_run):
    """The first k-1 steps are plain Adam: against the seed's loop with torch.optim.Adam alone (no wrapper),
    parameters and Adam's state (exp_avg, exp_avg_sq, per-parameter steps) after every step."""
    cfg, p0, ours = float64_run
    model = ref.MyCoolNet(5, 5).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in p0.items()}, strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    x = torch.tensor(e15.make_data(cfg)["x"])
    for i in range(cfg.k - 1):
        torch.sum((0 - model(x)) ** 2).backward()
        optimizer.step()
        optimizer.zero_grad()
        for k, p in model.named_parameters():
            state = optimizer.state[p]
            for name, theirs in ((k, p), (f"exp_avg.{k}", state["exp_avg"]), (f"exp_avg_sq.{k}", state["exp_avg_sq"])):
                theirs = theirs.detach().numpy()
                np.testing.assert_allclose(ours[name][i], theirs, rtol=0, atol=1e-14 * np.abs(theirs).max(), err_msg=name)
            assert int(ours[f"count.{k}"][i]) == int(state["step"]) == i + 1
            np.testing.assert_array_equal(ours[f"slow.{k}"][i], p0[k])  # no sync yet


def test_slow_weights_move_every_k_steps(float64_run):
    """Between syncs the slow weights stay put; after step k, 2k, ... the fast weights are reset onto them."""
    cfg, p0, states = float64_run
    for k in e15.NAMES:
        slow, fast = states[f"slow.{k}"], states[k]
        before = np.concatenate([p0[k][None], slow[:-1]])
        moved = [bool(np.any(slow[i] != before[i])) for i in range(STEPS)]
        assert moved == [(i + 1) % cfg.k == 0 for i in range(STEPS)], k  # after steps k, 2k only
        for i in (cfg.k - 1, 2 * cfg.k - 1):  # fast = slow: torch copies; optim.lookahead updates by slow - fast,
            ulp = np.spacing(np.abs(fast[i - 1]).max())  # exact unless the two lie more than 2x apart
            np.testing.assert_allclose(fast[i], slow[i], rtol=0, atol=ulp, err_msg=k)
    np.testing.assert_array_equal(states["count"], np.arange(1, STEPS + 1))


def test_optax_lookahead_keeps_both_copies_in_the_params():
    """optax.lookahead wants LookaheadParams(fast, slow) as the params and gradients taken at .fast; with the
    same fast optimizer it reaches the same slow weights as optim.lookahead (whose slow weights live in its
    state) to float64 rounding: its fast = slow is an update, not a copy. A quadratic keeps the compile small."""
    cfg = e15.CONFIG
    target = jnp.array([1.0, -2.0, 3.0])
    grad = jax.grad(lambda w: jnp.sum((w - target) ** 2))
    w0 = jnp.zeros(3, jnp.float64)
    ours = e15.optimizer(dataclasses.replace(cfg, lr=0.1))
    theirs = optax.lookahead(optim.adam(0.1, betas=cfg.betas, eps=cfg.eps), sync_period=cfg.k, slow_step_size=cfg.alpha)

    def body(carry, _):
        w, s, lp, ls = carry
        u, s = ours.update(grad(w), s, w)
        w = optax.apply_updates(w, u)
        u, ls = theirs.update(grad(lp.fast), ls, lp)
        lp = optax.apply_updates(lp, u)
        return (w, s, lp, ls), (w, s.slow, lp.fast, lp.slow)

    lp0 = optax.LookaheadParams.init_synced(w0)
    with jax.numpy_dtype_promotion("standard"):  # optax.lookahead multiplies by its bool sync flag
        _, (w, slow, fast, their_slow) = jax.jit(
            lambda c: jax.lax.scan(body, c, None, length=3 * cfg.k))((w0, ours.init(w0), lp0, theirs.init(lp0)))
    np.testing.assert_allclose(np.asarray(their_slow), np.asarray(slow), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(w), rtol=1e-14, atol=1e-15)
    assert np.all(np.asarray(slow[-1]) != 0)  # the slow weights did move


def test_optax_adam_float32_bias_correction_on_the_first_step():
    """One Adam step on MyCoolNet's own gradients, float32 with x64 off (JAX's default). torch evaluates
    1 - β₂ᵗ in Python float64; optax.adam in float32 (0.999 is off by 1.3e-8 there), so its first update
    is ~6e-6 off in relative terms; optim.adam stays within a few ulp. The updates are read exactly by
    stepping zero-valued parameters (Adam without weight decay does not look at the parameters); Adam is
    elementwise, so all of the net's gradients go in as one vector."""
    p0 = params.cast(e15.EXAMPLE.init(), "float32")
    model = ref.MyCoolNet(5, 5)
    model.load_state_dict({k: torch.tensor(v) for k, v in p0.items()}, strict=True)
    torch.sum((0 - model(torch.tensor(e15.make_data(e15.CONFIG)["x"]))) ** 2).backward()
    grads = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    zeros = torch.zeros(grads.shape, requires_grad=True)
    zeros.grad = torch.tensor(grads)
    torch.optim.Adam([zeros], lr=e15.CONFIG.lr).step()
    expected = zeros.detach().numpy().astype(np.float64)
    errors = {}
    with jax.enable_x64(False), jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int32
        g, z = jnp.asarray(grads), jnp.zeros(grads.shape, jnp.float32)
        for name, tx in (("optax.adam", optax.adam(e15.CONFIG.lr)), ("optim.adam", optim.adam(e15.CONFIG.lr))):
            updates, _ = tx.update(g, tx.init(z), z)
            got = np.asarray(updates, np.float64)
            live = expected != 0
            assert np.array_equal(got == 0, ~live), name
            errors[name] = np.max(np.abs(got[live] / expected[live] - 1))
    assert errors["optim.adam"] < 3 * 2.0**-23, errors
    assert errors["optax.adam"] > 4e-6, errors


def test_torch_lookahead_reference_matches_the_method():
    """The reference's wrapper by hand: after k steps, slow = w0 + α(fast_k - w0) and the model holds it."""
    w0 = torch.tensor([1.0, -2.0], dtype=torch.float64)
    w = w0.clone().requires_grad_(True)
    la = ref.Lookahead(torch.optim.SGD([w], lr=0.1), k=3, alpha=0.5)
    for _ in range(3):
        w.grad = torch.ones_like(w)
        la.step()
    fast = w0 - 3 * 0.1
    torch.testing.assert_close(w.detach(), w0 + 0.5 * (fast - w0), rtol=1e-15, atol=1e-15)
    torch.testing.assert_close(la.slow[w], w.detach(), rtol=0, atol=0)
