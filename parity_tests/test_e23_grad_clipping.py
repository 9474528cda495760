"""E23: clip_grad_value_ / clip_grad_norm_ as optax transformations chained before SGD, against torch."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxport import harness, optim, params, training
from jaxport.examples.e23_grad_clipping import port as e23

from _helpers import init_for


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    # a values example has the one "values" regime
    c = harness.compare(e23.EXAMPLE, init_for(e23.EXAMPLE), dtype=dtype, device=device)
    assert [r.name for r in c.regimes] == ["values"]
    assert c.passed, c.regimes[0].message


@pytest.fixture(scope="module")
def float64_run():
    cfg = e23.Config(dtype="float64")
    p = params.cast(e23.EXAMPLE.init(), "float64")
    dev = training.jax_device("cpu")  # placed as the harness places them: its compilation is reused
    v = e23.values(jax.device_put(p, dev), jax.device_put(e23.make_data(cfg), dev), cfg)
    return cfg, p, jax.tree.map(np.asarray, v)


def test_both_clips_act_on_this_batch(float64_run):
    """Some entries exceed 1 and the total norm exceeds 1, so neither clip is a no-op here."""
    _, _, v = float64_run
    raw = np.concatenate([v[f"grad.{k}"].ravel() for k in e23.SHAPES])
    assert 0 < np.sum(np.abs(raw) > 1) < raw.size and float(v["total_norm"]) > 1


def test_clip_by_value_clamps_each_entry(float64_run):
    """Entries beyond ±1 become ±1; entries inside are untouched, bit for bit."""
    _, _, v = float64_run
    for k in e23.SHAPES:
        g, c = v[f"grad.{k}"], v[f"clip_value.{k}"]
        np.testing.assert_array_equal(c, np.clip(g, -1, 1), err_msg=k)
        inside = np.abs(g) <= 1
        np.testing.assert_array_equal(c[inside], g[inside], err_msg=k)


def test_clip_by_norm_scales_the_stacked_vector(float64_run):
    """"It stacks all the parameters into a single vector": one coefficient max_norm/(norm + 1e-6) for
    every leaf, the norm of all gradients concatenated; the clipped vector's norm is just under 1."""
    cfg, _, v = float64_run
    stacked = np.concatenate([v[f"grad.{k}"].ravel() for k in e23.SHAPES])
    total = np.linalg.norm(stacked)
    np.testing.assert_allclose(float(v["total_norm"]), total, rtol=1e-14)
    coef = cfg.max_norm / (total + 1e-6)
    for k in e23.SHAPES:
        np.testing.assert_allclose(v[f"clip_norm.{k}"], v[f"grad.{k}"] * coef, rtol=1e-14, atol=1e-300, err_msg=k)
    clipped = np.linalg.norm(np.concatenate([v[f"clip_norm.{k}"].ravel() for k in e23.SHAPES]))
    assert clipped < cfg.max_norm and clipped == pytest.approx(cfg.max_norm * total / (total + 1e-6), rel=1e-14)


def test_small_gradients_show_the_epsilon(float64_run):
    """The values' small case: the gradients scaled to a total norm of small_norm, then clipped by norm at
    half of it: torch's coefficient (small_norm / 2) / (small_norm + 1e-6), 1% below the 0.5 a clip without
    the 1e-6 gives."""
    cfg, _, v = float64_run
    small = {k: v[f"small.{k}"] for k in e23.SHAPES}
    for k in e23.SHAPES:
        np.testing.assert_allclose(small[k], v[f"grad.{k}"] * (cfg.small_norm / float(v["total_norm"])), rtol=1e-15, err_msg=k)
    assert float(optax.tree.norm(small)) == pytest.approx(cfg.small_norm, rel=1e-15)
    coef = (cfg.small_norm / 2) / (cfg.small_norm + 1e-6)
    for k in e23.SHAPES:
        np.testing.assert_allclose(v[f"clip_small.{k}"], small[k] * coef, rtol=1e-14, err_msg=k)
    assert abs(coef / 0.5 - 1) > 9e-3


def test_step_after_clip_is_sgd_on_the_clipped_gradients(float64_run):
    cfg, p, v = float64_run
    for kind in ("value", "norm"):
        for k in e23.SHAPES:
            np.testing.assert_allclose(v[f"step_{kind}.{k}"], p[k] - cfg.lr * v[f"clip_{kind}.{k}"], rtol=1e-15, err_msg=k)


def _torch_clip_norm(grads: dict, max_norm: float) -> dict:
    ts = {k: torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for k, g in grads.items()}
    for k, t in ts.items():
        t.grad = torch.tensor(np.asarray(grads[k]))
    torch.nn.utils.clip_grad_norm_(list(ts.values()), max_norm=max_norm)
    return {k: t.grad.numpy() for k, t in ts.items()}


@pytest.mark.parametrize("norm", [1 + 5e-7, 1 - 5e-7, 1 + 1e-3])
def test_near_the_threshold_optax_clip_by_global_norm_differs(float64_run, norm):
    """This batch's gradients rescaled to a total norm next to max_norm = 1. torch and optim.clip_grad_norm agree
    exactly; optax.clip_by_global_norm (no 1e-6) leaves a norm just under 1 alone where torch scales it by
    1/(norm + 1e-6), and above 1 its result is larger by a factor (norm + 1e-6)/norm."""
    _, _, v = float64_run
    raw = {k: v[f"grad.{k}"] for k in e23.SHAPES}
    scale = norm / float(optax.tree.norm(raw))
    g = {k: x * scale for k, x in raw.items()}
    expected = _torch_clip_norm(g, 1.0)
    ours, _ = optim.clip_grad_norm(1.0).update({k: jnp.asarray(x) for k, x in g.items()}, optax.EmptyState())
    theirs, _ = optax.clip_by_global_norm(1.0).update({k: jnp.asarray(x) for k, x in g.items()}, optax.EmptyState())
    true_norm = float(optax.tree.norm(g))
    for k in e23.SHAPES:
        np.testing.assert_allclose(np.asarray(ours[k]), expected[k], rtol=4e-16, atol=0, err_msg=k)
        ratio = np.asarray(theirs[k])[expected[k] != 0] / expected[k][expected[k] != 0]
        want = (true_norm + 1e-6) / max(true_norm, 1.0)  # optax's coefficient over torch's
        np.testing.assert_allclose(ratio, want, rtol=1e-12, err_msg=k)
        assert np.all(np.abs(ratio - 1) > 4e-7)  # a gap of the epsilon's size, not rounding (1e-16)


def test_the_notes_keyword_raises_in_both_frameworks():
    """The notes' commented-out line: clip_grad_norm_(..., clip_norm=1) is a TypeError; so is the same
    keyword in optax and jaxport (all three call it max_norm)."""
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    with pytest.raises(TypeError, match="clip_norm"):
        torch.nn.utils.clip_grad_norm_([p], clip_norm=1)
    with pytest.raises(TypeError, match="clip_norm"):
        optim.clip_grad_norm(clip_norm=1)
    with pytest.raises(TypeError, match="clip_norm"):
        optax.clip_by_global_norm(clip_norm=1)
    torch.nn.utils.clip_grad_norm_([p], max_norm=1)  # the right keyword
    optim.clip_grad_norm(max_norm=1), optax.clip_by_global_norm(max_norm=1)


def test_optax_clip_is_clip_grad_value_exactly(float64_run):
    _, _, v = float64_run
    g = {k: jnp.asarray(v[f"grad.{k}"]) for k in e23.SHAPES}
    a, _ = optax.clip(1.0).update(g, optax.EmptyState())
    b, _ = optim.clip_grad_value(1.0).update(g, optax.EmptyState())
    for k in e23.SHAPES:
        np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]), err_msg=k)
        np.testing.assert_array_equal(np.asarray(b[k]), v[f"clip_value.{k}"], err_msg=k)


def test_value_lines():
    p = {k: jnp.asarray(x) for k, x in params.cast(e23.EXAMPLE.init(), "float32").items()}
    data = {k: jnp.asarray(x) for k, x in e23.make_data(e23.CONFIG).items()}
    lines = e23.value_lines(jax.tree.map(np.asarray, e23.values(p, data, e23.CONFIG)))
    assert lines[0].startswith("loss: ") and "clip_grad_value_(1)" in lines[1] and "clip_grad_norm_(1)" in lines[1]
    assert [line.split()[0] for line in lines[2:6]] == list(e23.SHAPES)
    assert lines[6].startswith("total norm ")
