"""E25: torch's loss modules against jaxport's loss functions, NaN-free at logits of ±1e4."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
import torch.nn as nn

from jaxport import training
from jaxport.examples.e25_loss_functions import port as e25
from jaxport.examples.e25_loss_functions import reference as ref

from _helpers import assert_parity


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(dtype, device):
    assert_parity(e25.EXAMPLE, dtype, device)


@pytest.mark.parametrize("seed", [1, 2])
def test_parity_other_draws(seed, device):
    assert_parity(e25.EXAMPLE, "float64", device, seed=seed)


def _values(dtype: str, **cfg):
    cfg = dataclasses.replace(e25.CONFIG, dtype=dtype, **cfg)
    data = e25.make_data(cfg)
    ours = jax.tree.map(np.asarray, e25.values({}, jax.device_put(data, training.jax_device("cpu")), cfg))  # as the harness: one compile
    return ours, ref.values({}, data, cfg), data, cfg


def test_two_logits_with_cross_entropy_are_one_logit_with_bce():
    """The seed's two heads are one model: with z = z1 - z0, softmax([z0, z1])[1] = sigmoid(z) and
    CrossEntropyLoss = BCEWithLogitsLoss = BCELoss(sigmoid), row by row, in both frameworks."""
    ours, theirs, _, _ = _values("float64")
    for v in (ours, theirs):
        for prefix in e25.SETS:
            np.testing.assert_allclose(v[f"{prefix}softmax2"][:, 1:], v[f"{prefix}sigmoid1"], rtol=1e-14, atol=1e-300)
            np.testing.assert_allclose(v[f"{prefix}ce2.none"], v[f"{prefix}bce_with_logits.none"][:, 0], rtol=1e-12)
        np.testing.assert_allclose(v["ce2.none"], v["bce.none"][:, 0], rtol=1e-12)
        # the gradient of the 1-logit head is the 2-logit head's, moved onto the difference z1 - z0
        np.testing.assert_allclose(v["grad.ce2"][:, 1], v["grad.bce_with_logits"][:, 0], rtol=1e-12, atol=1e-17)
        np.testing.assert_allclose(v["grad.ce2"][:, 0], -v["grad.bce_with_logits"][:, 0], rtol=1e-12, atol=1e-17)


def test_seeds_probabilities():
    """'will always be something like [0.3%, 99.7%]': the seed's [-2.34, 3.61] gives exactly that,
    and sigmoid of the one logit 3.61 - (-2.34) the same 99.7%."""
    ours, theirs, data, _ = _values("float32")
    assert data["logits2"][0].tolist() == pytest.approx([-2.34, 3.61])
    for v in (ours, theirs):
        assert np.round(100 * v["softmax2"][0].astype(np.float64), 1).tolist() == [0.3, 99.7]
        assert np.round(100 * v["sigmoid1"][0].astype(np.float64), 1).tolist() == [99.7]
    assert e25.value_lines(ours)[0].endswith("softmax probabilities [0.3%, 99.7%]")
    assert e25.value_lines(ours) == e25.value_lines(theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_are_finite_and_torchs(dtype):
    """At logits ±1e4 every loss and gradient is finite in both, and they agree element by element
    (relative to the leaf's largest value: confidently wrong rows cost 2e4)."""
    ours, theirs, _, _ = _values(dtype)
    rtol = {"float32": 1e-6, "float64": 1e-13}[dtype]
    keys = [k for k in theirs if k.startswith("extreme.")]
    assert len(keys) == 18
    for k in keys:
        assert np.isfinite(ours[k]).all() and np.isfinite(theirs[k]).all(), k
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=rtol * np.abs(theirs[k]).max(), err_msg=k)
    # confidently wrong costs 2e4 with logits; BCELoss on probabilities clamps log at -100
    np.testing.assert_array_equal(ours["extreme.ce2.none"], theirs["extreme.ce2.none"])
    assert ours["extreme.bce.none"][:, 0].tolist() == pytest.approx([0, 100, 100, 0, np.log(2), np.log(2)], rel=1e-6)


def test_bce_naive_gradient_is_nan_where_torch_has_zero():
    """Differentiating the clamped forward max(log(1 - p), -100) gives 0 * inf = NaN at a saturated
    sigmoid; torch's BCELoss backward (and our custom_vjp) gives 0 there."""
    z = jnp.array([[2e4], [-2e4]], jnp.float64)
    y = jnp.array([[0.0], [1.0]], jnp.float64)
    naive = jax.grad(lambda z: e25.bce_naive(jax.nn.sigmoid(z), y))(z)
    assert np.isnan(np.asarray(naive)).all()
    ours = jax.grad(lambda z: e25.bce(jax.nn.sigmoid(z), y))(z)
    zt = torch.tensor(np.asarray(z), requires_grad=True)
    loss = nn.BCELoss()(torch.sigmoid(zt), torch.tensor(np.asarray(y)))
    loss.backward()
    assert float(loss.detach()) == 100.0 and float(e25.bce(jax.nn.sigmoid(z), y)) == 100.0
    np.testing.assert_array_equal(np.asarray(ours), zt.grad.numpy())
    assert (np.asarray(ours) == 0).all()


def test_bce_backward_clamps_like_torch():
    """torch's BCELoss gradient is (p - y) / max(p(1-p), 1e-12): at p = 1e-13 (not clamped in the
    forward) it is -1e12, not the analytic -1/p = -1e13. The custom VJP reproduces it, down to the
    clamp being the C++ float 1e-12 (9.99999996e-13) in float64 too."""
    p = jnp.array([1e-13, 0.3, 1 - 1e-13], jnp.float64)
    y = jnp.array([1.0, 1.0, 0.0], jnp.float64)
    ours = np.asarray(jax.grad(lambda p: e25.bce(p, y, reduction="sum"))(p))
    pt = torch.tensor(np.asarray(p), requires_grad=True)
    nn.BCELoss(reduction="sum")(pt, torch.tensor(np.asarray(y))).backward()
    np.testing.assert_allclose(ours, pt.grad.numpy(), rtol=1e-15)
    assert ours[0] == -(1 - 1e-13) / float(np.float32(1e-12))
    analytic = np.asarray(jax.grad(lambda p: -(y * jnp.log(p) + (1 - y) * jnp.log1p(-p)).sum())(p))
    assert analytic[0] == pytest.approx(-1e13, rel=1e-12)


def test_ignore_index_is_a_mask_and_the_mean_is_weighted():
    """Ignored rows cost nothing and get no gradient; 'mean' is Σ w[y] l / Σ w[y] over the rows that
    count. optax's function has no ignore_index: the label -100 indexes out of range."""
    ours, theirs, data, cfg = _values("float64")
    cls, w = data["classes"], data["class_weight"]
    ignored = cls == cfg.ignore_index
    assert ignored.sum() == 2
    assert (ours["ce.none"][ignored] == 0).all() and (ours["grad.ce"][ignored] == 0).all()
    assert (theirs["ce.none"][ignored] == 0).all() and (theirs["grad.ce"][ignored] == 0).all()
    ww = w[np.where(ignored, 0, cls)] * ~ignored
    np.testing.assert_allclose(ours["ce"], ours["ce.none"].sum() / ww.sum(), rtol=1e-15)
    np.testing.assert_allclose(ours["ce"], theirs["ce"], rtol=1e-14)
    np.testing.assert_allclose(ours["ce.sum"], theirs["ce.sum"], rtol=1e-14)
    # the unmasked optax call: -100 is no class; its result is garbage (NaN), never the torch loss
    raw = optax.losses.softmax_cross_entropy_with_integer_labels(jnp.asarray(data["logits"]), jnp.asarray(cls))
    assert not np.isfinite(np.asarray(raw)[ignored]).all()
    # CrossEntropyLoss = NLLLoss(log_softmax): the same values in both frameworks
    np.testing.assert_allclose(ours["nll.none"], ours["ce.none"], rtol=1e-15)
    np.testing.assert_allclose(theirs["nll.none"], theirs["ce.none"], rtol=1e-15)


def test_all_ignored_mean_is_nan_in_both():
    logits = np.random.default_rng(0).standard_normal((3, 4))
    labels = np.full(3, -100)
    theirs = nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(labels))
    ours = e25.cross_entropy(jnp.asarray(logits), jnp.asarray(labels))
    assert np.isnan(float(theirs)) and np.isnan(float(ours))
    assert float(e25.cross_entropy(jnp.asarray(logits), jnp.asarray(labels), reduction="sum")) == 0.0


def test_optax_route_agrees_except_for_rounding_at_large_logits():
    """optax's logsumexp(z) - z[y] equals torch's log_softmax form in the normal range, but in float32
    at z = [1e4, 1e4] it gives log 2 to ulp(1e4) only; torch's form (ours) gives log 2 exactly."""
    for dtype, tol in (("float32", 2e-6), ("float64", 1e-14)):
        _, theirs, data, cfg = _values(dtype)
        via_optax = e25.cross_entropy_optax(jnp.asarray(data["logits"]), jnp.asarray(data["classes"]),
                                            jnp.asarray(data["class_weight"]), reduction="none")
        np.testing.assert_allclose(np.asarray(via_optax), theirs["ce.none"], rtol=tol, atol=tol)
    tie = jnp.array([[1e4, 1e4]], jnp.float32)
    label = jnp.array([0])
    log2 = np.float32(np.log(2))
    assert float(e25.cross_entropy(tie, label)) == log2
    assert float(nn.CrossEntropyLoss()(torch.tensor(np.asarray(tie)), torch.tensor([0]))) == log2
    assert abs(float(e25.cross_entropy_optax(tie, label)) - log2) > 1e-4  # 0.69336


def test_reduction_names():
    z, y = jnp.zeros((2, 3), jnp.float64), jnp.array([0, 1])
    assert e25.cross_entropy(z, y, reduction="none").shape == (2,)
    with pytest.raises(ValueError, match="reduction must be"):
        e25.cross_entropy(z, y, reduction="avg")
