"""Planted bugs: each test plants one porting bug in a copy of an example and asserts that
``harness.compare`` returns a FAIL verdict for it (not an exception), in float32 and in float64,
in a regime and on a leaf where that bug shows.

Planting. An optimizer bug is a copy of the ``jaxport.optim`` function (or of the part of it the
example uses) with one line changed, marked ``# BUG``; it keeps the state's NamedTuple, so its leaves
have the same names and shapes as the reference's (a different structure is a failure of its own,
the last test). It goes in through the example module's ``optimizer`` (what its training state, update
and step are derived from), a model bug through the module-level function or method the port calls. Every planted
example gets fresh ``step``/``update``/``values`` functions: compiled functions are cached by the
function object, so reusing the example's own would reuse a correct compilation, and leave a buggy
one behind for the tests that run later.
"""

import dataclasses
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxport import harness, optim
from jaxport.examples import _resnet
from jaxport.examples.e06_polynomial_optim import port as e06
from jaxport.examples.e13_mycoolnet import port as e13
from jaxport.examples.e15_adam_lookahead import port as e15
from jaxport.examples.e17_fashion_mnist_classifier import port as e17
from jaxport.examples.e19_blitz_training_step import port as e19
from jaxport.examples.e22_manual_sgd_update import port as e22
from jaxport.examples.e23_grad_clipping import port as e23
from jaxport.optim import AdamState, RmspropState, SgdState, _lerp, _map_leaves, _one_minus_pow, _zeros_count

DTYPES = ["float32", "float64"]


# --------------------------------------------------------------------------------------------
# planting
# --------------------------------------------------------------------------------------------


def _fresh(fn):
    return None if fn is None else (lambda *a, **k: fn(*a, **k))


def _late(fn):
    """``fn`` looked up by name in its module at each call, so a monkeypatch of the module is what runs."""
    if fn is None:
        return None
    module, name = sys.modules[fn.__module__], fn.__name__
    return lambda *a, **k: getattr(module, name)(*a, **k)


def planted(example):
    """``example`` with fresh step/update functions and its optimizer looked up late, or a freshly
    compiled ``values``: what it calls is looked up when it is traced, so a patch made before
    ``compare`` is what runs."""
    if example.kind == "values":
        inner = getattr(example.values, "__wrapped__", example.values)
        return dataclasses.replace(example, values=jax.jit(lambda p, d, cfg: inner(p, d, cfg), static_argnums=2))
    return dataclasses.replace(example, step=_fresh(example.step), update=_fresh(example.update),
                               optimizer=_late(example.optimizer))


def failing(c: harness.Comparison) -> harness.RegimeResult:
    """The comparison's verdict is FAIL; its first failing regime (printed with ``pytest -s``)."""
    for r in c.regimes:
        print(f"  {c.dtype} {r.name}: {'PASS' if r.passed else 'FAIL'} {r.worst_leaf} step {r.worst_step} "
              f"ratio {r.ratio:.3g}")
    assert not c.passed, "the planted bug passed every regime:\n" + "\n".join(r.message for r in c.regimes)
    return next(r for r in c.regimes if not r.passed)


def regime(c: harness.Comparison, name: str) -> harness.RegimeResult:
    return next(r for r in c.regimes if r.name == name)


# --------------------------------------------------------------------------------------------
# buggy optimizers: jaxport.optim's code, one line changed (# BUG)
# --------------------------------------------------------------------------------------------


def rmsprop_bug(lr: float, alpha: float = 0.99, eps: float = 1e-8, *, eps_in_sqrt: bool = False):
    """optim.rmsprop without weight decay, momentum or centering (E06's), one line planted:
    ``eps_in_sqrt`` (optax's form, ``sqrt(v + eps)``) or the caller's ``alpha``."""

    def init_fn(params):
        return RmspropState(_zeros_count(params), jax.tree.map(jnp.zeros_like, params), None, None)

    def leaf(g, p, count, square_avg, grad_avg, buf):
        square_avg = square_avg * alpha + ((1 - alpha) * g) * g
        if eps_in_sqrt:
            avg = jnp.sqrt(square_avg + eps)  # BUG: torch adds eps outside the square root
        else:
            avg = jnp.sqrt(square_avg) + eps
        u = (-lr * g) / avg
        return u, count + 1, square_avg, grad_avg, buf

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        updates, fields = _map_leaves(leaf, updates, params, present, *state)
        return updates, RmspropState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def adam_bug(lr: float, betas=(0.9, 0.999), eps: float = 1e-8, *, bug: str):
    """optim.adam without weight decay or amsgrad, one line planted: ``bug="eps_in_sqrt"``
    (``sqrt(v + eps)``) or ``"no_bias_correction"`` (the raw moments)."""
    b1, b2 = betas

    def init_fn(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        return AdamState(_zeros_count(params), zeros(), zeros(), None)

    def leaf(g, p, count, exp_avg, exp_avg_sq, max_exp_avg_sq):
        count = count + 1
        t = count.astype(g.dtype)
        exp_avg = _lerp(exp_avg, g, 1 - b1)
        exp_avg_sq = exp_avg_sq * b2 + ((1 - b2) * g) * g
        step_size = lr / _one_minus_pow(b1, t)
        bias_correction2_sqrt = jnp.sqrt(_one_minus_pow(b2, t))
        if bug == "eps_in_sqrt":
            denom = jnp.sqrt(exp_avg_sq + eps) / bias_correction2_sqrt  # BUG: torch adds eps outside the root
        else:
            denom = jnp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
        if bug == "no_bias_correction":
            u = (-lr * exp_avg) / (jnp.sqrt(exp_avg_sq) + eps)  # BUG: m and v not divided by 1 - beta^t
        else:
            u = (-step_size * exp_avg) / denom
        return u, count, exp_avg, exp_avg_sq, max_exp_avg_sq

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        updates, fields = _map_leaves(leaf, updates, params, present, *state)
        return updates, AdamState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def adamw_coupled(lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2):
    """optim.adamw with its one line ``decoupled=True`` changed: the decay goes into the gradient
    (``g += wd*p``, Adam's L2 penalty) instead of ``p *= 1 - lr*wd``."""
    return optim._adam(lr, betas, eps, weight_decay, False, decoupled=False, name="adamw")  # BUG: decoupled=True


def sgd_ema_momentum(lr: float, momentum: float = 0.0):
    """optim.sgd (no dampening, weight decay or Nesterov), its momentum written as an EMA."""

    def init_fn(params):
        return SgdState(_zeros_count(params), jax.tree.map(jnp.zeros_like, params))

    def leaf(g, p, count, buf):
        buf = jnp.where(count == 0, g, buf * momentum + (1 - momentum) * g)  # BUG: torch's is m*buf + g
        return -lr * buf, count + 1, buf

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        updates, fields = _map_leaves(leaf, updates, params, present, state.count, state.momentum_buffer)
        return updates, SgdState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def clip_grad_norm_no_eps(max_norm: float, norm_type: float = 2.0):
    """optim.clip_grad_norm (every leaf present) with optax's coefficient: no 1e-6."""
    norm_type = float(norm_type)

    def leaf_norm(g):
        return jnp.linalg.norm(g.ravel(), ord=norm_type) if g.size else jnp.zeros((), g.dtype)

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        leaves, treedef = jax.tree.flatten(updates)
        norms = [leaf_norm(g) for g in leaves]
        dtype = max((n.dtype for n in norms), key=lambda d: d.itemsize)
        total = jnp.linalg.norm(jnp.stack([n.astype(dtype) for n in norms]), ord=norm_type)
        coef = jnp.minimum(max_norm / total, 1.0)  # BUG: torch's is max_norm / (total + 1e-6)
        return treedef.unflatten([g * coef.astype(g.dtype) for g in leaves]), state

    return optax.GradientTransformationExtraArgs(optax.init_empty_state, update_fn)


# --------------------------------------------------------------------------------------------
# optimizers
# --------------------------------------------------------------------------------------------


def _e06_at_the_fit() -> dict[str, np.ndarray]:
    """E06's least-squares optimum (float64): its gradients are rounding noise, so RMSprop's ``v`` is far
    below eps, where eps's place decides the update. (From the seed's init the gradients stay ~1 over
    the 2000 steps, and eps moved inside the root changes the update by ~2e-9 relative, 0.02 of a
    float32 ulp: no float32 comparison can see it there.)"""
    x = np.linspace(-np.pi, np.pi, 2000)
    a = np.stack([x, x**2, x**3, np.ones_like(x)], axis=1)
    coef = np.linalg.lstsq(a, np.sin(x), rcond=None)[0]
    return {"0.weight": coef[None, :3], "0.bias": coef[3:]}


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_correct_port_passes_at_the_fit(dtype):
    """The planted-bug start is hard for a correct port too: every gradient is rounding noise there. It passes."""
    c = harness.compare(e06.EXAMPLE, _e06_at_the_fit(), dtype=dtype, steps=20)
    assert c.passed, "; ".join(r.message for r in c.regimes if not r.passed)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsprop_eps_inside_the_sqrt(monkeypatch, dtype):
    monkeypatch.setattr(e06, "optimizer", lambda cfg: rmsprop_bug(cfg.lr, eps_in_sqrt=True))
    c = harness.compare(planted(e06.EXAMPLE), _e06_at_the_fit(), dtype=dtype, steps=20)
    failing(c)
    r = regime(c, "teacher_forced")
    assert not r.passed and r.worst_leaf in ("0.weight", "0.bias", "update.0.weight", "update.0.bias")


@pytest.mark.parametrize("dtype", DTYPES)
def test_rmsprop_alpha_09(monkeypatch, dtype):
    monkeypatch.setattr(e06, "optimizer", lambda cfg: rmsprop_bug(cfg.lr, alpha=0.9))
    c = harness.compare(planted(e06.EXAMPLE), e06.EXAMPLE.init(), dtype=dtype, steps=20)
    r = failing(c)
    assert r.name == "teacher_forced" and r.worst_leaf.split(".")[0] in ("0", "square_avg", "update")


def _e15_with(monkeypatch, bug: str):
    monkeypatch.setattr(e15, "optimizer", lambda cfg: optim.lookahead(
        adam_bug(cfg.lr, betas=cfg.betas, eps=cfg.eps, bug=bug), k=cfg.k, alpha=cfg.alpha))
    return planted(e15.EXAMPLE)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_eps_inside_the_sqrt(monkeypatch, dtype):
    c = harness.compare(_e15_with(monkeypatch, "eps_in_sqrt"), e15.EXAMPLE.init(), dtype=dtype, steps=10)
    r = failing(c)
    assert r.name == "teacher_forced" and r.worst_leaf.split(".")[0] in ("lin1", "lin2", "lin3", "update")


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_without_bias_correction(monkeypatch, dtype):
    c = harness.compare(_e15_with(monkeypatch, "no_bias_correction"), e15.EXAMPLE.init(), dtype=dtype, steps=10)
    r = failing(c)
    assert r.name == "teacher_forced" and r.worst_leaf.split(".")[0] in ("lin1", "lin2", "lin3", "update")


@pytest.mark.parametrize("dtype", DTYPES)
def test_adamw_with_coupled_weight_decay(monkeypatch, dtype):
    """At p = 0 the update probe cannot see a decay, coupled or not; the state after one step can."""
    monkeypatch.setattr(e17, "optimizer", lambda cfg: adamw_coupled(
        cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay))
    c = harness.compare(planted(e17.EXAMPLE), e17.EXAMPLE.init(), dtype=dtype, steps=4, optimizer="adamw")
    r = failing(c)
    assert r.name == "teacher_forced" and not r.worst_leaf.startswith("update.")


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_momentum_as_an_ema(monkeypatch, dtype):
    monkeypatch.setattr(e13, "optimizer", lambda cfg: sgd_ema_momentum(cfg.lr, momentum=cfg.momentum))
    c = harness.compare(planted(e13.EXAMPLE), e13.EXAMPLE.init(), dtype=dtype)
    r = failing(c)
    assert r.name == "teacher_forced" and r.worst_step >= 2  # the first buffer is the raw gradient either way


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_without_its_epsilon(monkeypatch, dtype):
    """E23's clip of small gradients (total norm 1e-4, clipped at half): the 1e-6 is a 1% effect there."""
    monkeypatch.setattr(optim, "clip_grad_norm", clip_grad_norm_no_eps)
    c = harness.compare(planted(e23.EXAMPLE), e23.EXAMPLE.init(), dtype=dtype)
    r = failing(c)
    assert r.name == "values" and r.worst_leaf.startswith(("clip_norm.", "clip_small.", "step_norm."))


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------


def _batch_norm_eps_1e6(self, x, *, train: bool):
    """_resnet.BatchNorm2d.__call__ with eps 1e-6 instead of its (torch's) 1e-5."""
    if train:
        n = x.size // x.shape[-1]
        mean = jnp.mean(x, axis=(0, 1, 2))
        var = jnp.mean(jnp.square(x - mean[None, None, None]), axis=(0, 1, 2))
        m = self.momentum
        self.mean[...] = (1 - m) * self.mean[...] + m * jax.lax.stop_gradient(mean)
        self.var[...] = (1 - m) * self.var[...] + m * jax.lax.stop_gradient(var) * (n / (n - 1))
        self.num_batches_tracked[...] = self.num_batches_tracked[...] + 1
    else:
        mean, var = self.mean[...], self.var[...]
    c = (None, None, None)
    return (x - mean[c]) * (self.scale[...] * jax.lax.rsqrt(var + 1e-6))[c] + self.bias[...][c]  # BUG: self.eps


def _net_flattening_nhwc(self, x):
    """e22.Net.__call__ with the features flattened in flax's H, W, C order."""
    x = jnp.transpose(x, (0, 2, 3, 1))
    x = e22.pool(jax.nn.relu(self.conv1(x)))
    x = e22.pool(jax.nn.relu(self.conv2(x)))
    x = x.reshape(x.shape[0], -1)  # BUG: torch.flatten(x, 1) flattens C, H, W
    x = jax.nn.relu(self.fc1(x))
    x = jax.nn.relu(self.fc2(x))
    return self.fc3(x)


def _plant_batch_norm_eps(monkeypatch):
    monkeypatch.setattr(_resnet.BatchNorm2d, "__call__", _batch_norm_eps_1e6)
    return e19.EXAMPLE


def _plant_conv_hw_swapped(monkeypatch):
    """conv1's kernel handed to flax as (W, H, in, out): a transposed 5×5 filter."""
    net = e22.net
    monkeypatch.setattr(e22, "net", lambda p: net({**p, "conv1.weight": jnp.swapaxes(p["conv1.weight"], 2, 3)}))
    return e22.EXAMPLE


def _plant_nhwc_flatten(monkeypatch):
    monkeypatch.setattr(e22.Net, "__call__", _net_flattening_nhwc)
    return e22.EXAMPLE


MODEL_BUGS = {"batch_norm_eps_1e6": _plant_batch_norm_eps, "conv_kernel_h_w_swapped": _plant_conv_hw_swapped,
              "nhwc_flattening_before_fc1": _plant_nhwc_flatten}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bug", MODEL_BUGS)
def test_a_model_bug_fails_values(monkeypatch, bug, dtype):
    """BatchNorm's eps 1e-6 instead of torch's 1e-5 (E19's ResNet-18), a conv kernel with H and W swapped,
    NHWC flattening before fc1 (E22's Net): each a values FAIL in either dtype."""
    example = MODEL_BUGS[bug](monkeypatch)
    c = harness.compare(planted(example), example.init(), dtype=dtype)
    assert failing(c).name == "values"


# --------------------------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------------------------


def test_a_structural_difference_is_a_fail_verdict_not_a_traceback(monkeypatch):
    """A centered RMSprop keeps ``grad_avg.*`` leaves torch's plain RMSprop does not have."""
    monkeypatch.setattr(e06, "optimizer", lambda cfg: optim.rmsprop(cfg.lr, centered=True))
    c = harness.compare(planted(e06.EXAMPLE), e06.EXAMPLE.init(), dtype="float32", steps=5)
    assert not c.passed and [r.name for r in c.regimes] == ["structure"]
    r = c.regimes[0]
    assert "grad_avg." in r.message and r.message.startswith("E06 polynomial_optim [float32/cpu] structure")
