"""E25 loss_functions — seed 003, "loss functions".

The seed contrasts two heads for binary classification: ``CrossEntropyLoss`` "expects 2 output
features (e.g. [-2.34, 3.61])" and gives class probabilities by softmax; ``BCELoss`` / binary cross
entropy "expects 1 output feature" and gives the probability of class 1 by sigmoid. Here the two
heads are the same model: with one logit ``z1 - z0`` (the 2-logit head's difference),
``sigmoid(z1 - z0) == softmax([z0, z1])[1]`` and the two losses are equal row by row. (So the softmax
of two logits gives meaningful probabilities after all: the seed's ``[-2.34, 3.61]`` gives
``[0.3%, 99.7%]``, and ``sigmoid(5.95)`` the same 99.7%.)

The contrast: torch's losses are modules with options (``weight``, ``ignore_index``, ``reduction``);
optax's are plain functions returning one loss per example, and the options are a few lines of
array code around them. This module is jaxport's versions, each checked against torch (values and
gradients) and NaN-free at logits of ±1e4:

* :func:`cross_entropy` = :func:`nll_loss` on ``jax.nn.log_softmax`` (torch's own composition,
  ``CrossEntropyLoss = LogSoftmax + NLLLoss``), with ``ignore_index`` as a *mask* and the weighted
  mean ``Σ w[y]·l / Σ w[y]``. :func:`cross_entropy_optax` is the optax route
  (``softmax_cross_entropy_with_integer_labels``, which has no ``ignore_index``: a label of -100
  indexes out of range): equal in the normal range, but ``logsumexp(z) - z[y]`` loses ulp(|z|) at
  large logits (float32 ``[1e4, 1e4]``: 0.69336 for log 2), where torch's form is exact;
* :func:`bce_with_logits` = ``optax.losses.sigmoid_binary_cross_entropy`` (log-sigmoids, never
  ``log 0``; torch computes ``(1-y) z - log σ(z)`` and its gradient as ``σ(z) - y``, which cancel in
  float32 where optax's form does not: the two differ by torch's rounding, ~1e-7 of the largest value);
* :func:`bce` on probabilities, torch's ``BCELoss``: it clamps ``log`` at -100 in the forward
  and ``p(1-p)`` at 1e-12 in its backward. Written plainly in JAX its gradient at a saturated
  sigmoid is ``0 · inf = NaN``; a ``jax.custom_vjp`` gives it torch's backward.

The seed has no data here. ``make_data`` draws a regular set from ``default_rng(seed)`` (``--seed``;
its first row is the seed's ``[-2.34, 3.61]``) and builds an extreme set of logits ±1e4 (confidently
right, confidently wrong, ties, an ignored row); every value is computed for both sets, with the
gradients of each mean loss with respect to its logits (torch: ``logits.grad`` after ``backward()``).

No equivalent by design: Loss modules (``nn.CrossEntropyLoss(...)`` constructed, then called)
holding their options: in JAX a loss is a plain function of (logits, labels, options). optax's
losses have no ``ignore_index`` and no clamp of ``log`` at -100 (torch's ``BCELoss`` rule): both are
written out explicitly where torch's numbers are wanted.
"""

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import Magnitude, NonNegative, Positive, ValuesExample

# phase: other
Array = jax.Array


# phase: setup
@dataclasses.dataclass(frozen=True)
class Config:
    dtype: str = "float32"  # torch's default dtype
    seed: NonNegative = 0  # the regular set: numpy.random.default_rng(seed) draws (--seed)
    rows: Positive = 12  # rows of the regular set (the first is the seed's [-2.34, 3.61])
    classes: Positive = 3  # classes of the multiclass set (weights, ignore_index)
    extreme: Magnitude = 1e4  # the extreme set's logit magnitude
    ignore_index: int = -100  # torch's default ignore_index


CONFIG = Config()

SEED_LOGITS = (-2.34, 3.61)  # seed: "it expects 2 output features (e.g. [-2.34, 3.61])"
SETS = ("", "extreme.")  # the prefixes of the regular and the extreme set's keys


# phase: other
# ---------------------------------------------------------------- the losses


def _reduce(losses: Array, weights: Array, reduction: str) -> Array:
    """torch's reductions: 'none', 'sum', or 'mean' = Σ w·l / Σ w (weights 0 on ignored rows)."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.sum() / weights.sum()
    raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _class_weights(labels: Array, weight: Array | None, ignore_index: int, dtype) -> tuple[Array, Array]:
    """(mask, w): which rows count, and each row's weight ``weight[label]`` (0 where ignored)."""
    mask = labels != ignore_index
    safe = jnp.where(mask, labels, 0)  # a valid index everywhere; masked rows are zeroed below
    w = jnp.ones(labels.shape, dtype) if weight is None else weight[safe]
    return safe, jnp.where(mask, w, jnp.zeros((), dtype))


def cross_entropy(logits: Array, labels: Array, weight: Array | None = None, ignore_index: int = -100,
                  reduction: str = "mean") -> Array:
    """``torch.nn.CrossEntropyLoss(weight, ignore_index=..., reduction=...)(logits, labels)``.

    ``logits`` (N, C), ``labels`` (N,) integers in [0, C) or ``ignore_index``. As torch:
    ``nll_loss(log_softmax(logits))``. Rows with ``ignore_index`` are masked (their loss and gradient
    are exactly 0) and 'mean' divides by the summed weights of the rows that count. All rows
    ignored: 'mean' is 0/0 = NaN, as torch's.
    """
    return nll_loss(jax.nn.log_softmax(logits, axis=1), labels, weight, ignore_index, reduction)


def cross_entropy_optax(logits: Array, labels: Array, weight: Array | None = None, ignore_index: int = -100,
                        reduction: str = "mean") -> Array:
    """The same loss from ``optax.losses.softmax_cross_entropy_with_integer_labels`` plus a mask and weights.

    optax computes ``logsumexp(z) - z[y]`` per row: equal to torch's ``-(log_softmax(z)[y])`` in exact
    arithmetic, but at large logits the subtraction of two numbers ~|z| costs their rounding: in
    float32 at ``z = [1e4, 1e4]`` it gives 0.69336 where log 2 = 0.693147 (ulp(1e4) = 0.00098).
    optax has no ``ignore_index``: a label of -100 must be replaced by a valid index and masked.
    """
    safe, w = _class_weights(labels, weight, ignore_index, logits.dtype)
    losses = w * optax.losses.softmax_cross_entropy_with_integer_labels(logits, safe)
    return _reduce(losses, w, reduction)


# phase: loss
def nll_loss(log_probs: Array, labels: Array, weight: Array | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Array:
    """``torch.nn.NLLLoss``: ``-log_probs[i, labels[i]]``, weighted, masked and reduced as :func:`cross_entropy`."""
    safe, w = _class_weights(labels, weight, ignore_index, log_probs.dtype)
    picked = jnp.take_along_axis(log_probs, safe[:, None], axis=1)[:, 0]
    return _reduce(-w * picked, w, reduction)


# phase: other
def bce_with_logits(logits: Array, targets: Array, weight: Array | None = None, reduction: str = "mean") -> Array:
    """``torch.nn.BCEWithLogitsLoss``: ``-[y log σ(z) + (1-y) log(1-σ(z))]`` from log-sigmoids (never log 0)."""
    losses = optax.losses.sigmoid_binary_cross_entropy(logits, targets)
    if weight is not None:
        losses = weight * losses
    return _reduce(losses, jnp.ones(losses.shape, losses.dtype), reduction)


@jax.custom_vjp
def _bce_terms(probs: Array, targets: Array) -> Array:
    # torch's CPU kernel: (y - 1) * max(log1p(-p), -100) - y * max(log(p), -100)
    return (targets - 1) * jnp.maximum(jnp.log1p(-probs), -100.0) - targets * jnp.maximum(jnp.log(probs), -100.0)


# phase: gradients
def _bce_fwd(probs, targets):
    return _bce_terms(probs, targets), (probs, targets)


# phase: setup
# torch's EPSILON is the C++ float 1e-12, also in float64 kernels: 9.99999996e-13
BCE_EPSILON = float(np.float32(1e-12))


# phase: gradients
def _bce_bwd(res, g):
    p, y = res
    # torch's binary_cross_entropy_backward: grad * (p - y) / max((1 - p) * p, EPSILON)
    grad_p = g * (p - y) / jnp.maximum((1 - p) * p, BCE_EPSILON)
    grad_y = g * (jnp.maximum(jnp.log1p(-p), -100.0) - jnp.maximum(jnp.log(p), -100.0))
    return grad_p, grad_y


_bce_terms.defvjp(_bce_fwd, _bce_bwd)


# phase: other
def bce(probs: Array, targets: Array, weight: Array | None = None, reduction: str = "mean") -> Array:
    """``torch.nn.BCELoss`` on probabilities, with torch's clamps in the forward *and* the backward.

    ``log`` is clamped at -100, so a saturated ``σ(±1e4)`` (exactly 0 or 1) costs at most 100; the
    gradient is torch's ``(p - y) / max(p(1-p), 1e-12)`` (a custom VJP: differentiating the clamped
    forward gives ``0 · inf = NaN`` at p = 0 or 1, see :func:`bce_naive`).
    """
    losses = _bce_terms(probs, targets)
    if weight is not None:
        losses = weight * losses
    return _reduce(losses, jnp.ones(losses.shape, losses.dtype), reduction)


def bce_naive(probs: Array, targets: Array) -> Array:
    """The same clamped forward under plain autodiff: the values are right, the gradient at a
    saturated probability is NaN (``d max(log(1-p), -100)/dp = 0 · (-1/0)``). For the tests."""
    terms = (targets - 1) * jnp.maximum(jnp.log1p(-probs), -100.0) - targets * jnp.maximum(jnp.log(probs), -100.0)
    return terms.mean()


# phase: data
# ---------------------------------------------------------------- the example


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """Two sets, the regular one (``default_rng(cfg.seed)``) and the extreme one (logits ±``cfg.extreme``).

    Keys per set: ``logits2`` (N, 2) and ``labels2`` (N,) for the 2-logit head; ``logit1 = z1 - z0``
    (N, 1) and ``target1`` (N, 1, the labels as floats) for the 1-logit head; ``logits`` (N, C) and
    ``classes`` (N,, some ``ignore_index``) and ``class_weight`` (C,) for the multiclass losses.
    Computed in float64, rounded once to ``cfg.dtype``.
    """
    t, E, C, ign = np_dtype(cfg.dtype), cfg.extreme, cfg.classes, cfg.ignore_index
    rng = np.random.default_rng(cfg.seed)
    logits2 = rng.standard_normal((cfg.rows, 2))
    logits2[0] = SEED_LOGITS
    labels2 = rng.integers(0, 2, cfg.rows)
    labels2[0] = 1  # the seed's example is confident in class 1
    logits = rng.standard_normal((cfg.rows, C))
    classes = rng.integers(0, C, cfg.rows)
    classes[rng.choice(cfg.rows, 2, replace=False)] = ign  # two ignored rows
    regular = dict(logits2=logits2, labels2=labels2, logits=logits, classes=classes,
                   class_weight=rng.uniform(0.5, 2.0, C))
    # confidently right / wrong / tied, in both heads; multiclass rows likewise plus an ignored one
    x_logits2 = np.array([[E, -E], [E, -E], [-E, E], [-E, E], [E, E], [E, E]])
    x_labels2 = np.array([0, 1, 0, 1, 0, 1])
    x_logits = np.zeros((7, C))
    x_logits[:, :3] = [[E, -E, 0], [E, -E, 0], [E, -E, 0], [-E, -E, E], [-E, -E, E], [E, E, -E], [E, -E, E]]
    x_classes = np.array([0, 1, 2, 2, 0, 0, ign])
    extreme = dict(logits2=x_logits2, labels2=x_labels2, logits=x_logits, classes=x_classes,
                   class_weight=regular["class_weight"])
    out = {}
    for prefix, s in zip(SETS, (regular, extreme)):
        z = s["logits2"]
        out[f"{prefix}logits2"] = z.astype(t)
        out[f"{prefix}labels2"] = s["labels2"].astype(np.int64)
        out[f"{prefix}logit1"] = (z[:, 1:] - z[:, :1]).astype(t)  # the 1-logit head of the same model
        out[f"{prefix}target1"] = s["labels2"][:, None].astype(t)
        out[f"{prefix}logits"] = s["logits"].astype(t)
        out[f"{prefix}classes"] = s["classes"].astype(np.int64)
        out[f"{prefix}class_weight"] = s["class_weight"].astype(t)
    return out


# phase: loss
def losses(d: Mapping[str, Array], ignore_index: int = -100) -> dict[str, Array]:
    """Every loss of one set, its probabilities, and the gradients of the mean losses w.r.t. the logits."""
    y2, z1, y1 = d["labels2"], d["logit1"], d["target1"]
    w, cls = d["class_weight"], d["classes"]
    ce2 = lambda z, r="mean": cross_entropy(z, y2, reduction=r)  # noqa: E731
    bcel = lambda z, r="mean": bce_with_logits(z, y1, reduction=r)  # noqa: E731
    bcep = lambda z, r="mean": bce(jax.nn.sigmoid(z), y1, reduction=r)  # noqa: E731  seed: sigmoid of the logit
    nll = lambda z, r="mean": nll_loss(jax.nn.log_softmax(z, axis=1), cls, w, ignore_index, r)  # noqa: E731
    ce = lambda z, r="mean": cross_entropy(z, cls, w, ignore_index, r)  # noqa: E731
    out = {"softmax2": jax.nn.softmax(d["logits2"], axis=1), "sigmoid1": jax.nn.sigmoid(z1)}
    for name, fn, z in (("ce2", ce2, d["logits2"]), ("bce_with_logits", bcel, z1), ("bce", bcep, z1),
                        ("nll", nll, d["logits"]), ("ce", ce, d["logits"])):
        out[name], out[f"grad.{name}"] = jax.value_and_grad(fn)(z)
        out[f"{name}.none"] = fn(z, "none")
    out["ce.sum"] = ce(d["logits"], "sum")
    return out


# phase: other
@functools.partial(jax.jit, static_argnums=1)
def _both_sets(data: Mapping[str, Array], ignore_index: int) -> dict[str, Array]:
    out = {}
    for prefix in SETS:
        d = {k[len(prefix):]: v for k, v in data.items() if k.startswith(prefix) and "." not in k[len(prefix):]}
        out.update({f"{prefix}{k}": v for k, v in losses(d, ignore_index).items()})
    return out


# phase: report
def values(params: Mapping[str, Array], data: Mapping[str, Array], cfg: Config) -> dict[str, Array]:
    """Both sets' losses, one compiled function (``params`` is empty: a loss function has no parameters)."""
    return _both_sets(data, cfg.ignore_index)


def _pct(p) -> str:
    return ", ".join(f"{100 * float(q):.1f}%" for q in np.ravel(p))


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    s, z = vals["softmax2"][0], float(np.log(vals["sigmoid1"][0, 0] / (1 - vals["sigmoid1"][0, 0])))
    f = lambda k: f"{float(vals[k]):.6f}"  # noqa: E731
    g = lambda k: f"{float(vals['extreme.' + k]):.6g}"  # noqa: E731
    return [
        f"Cross Entropy Loss, 2 output features {list(SEED_LOGITS)}: softmax probabilities [{_pct(s)}]",
        f"Binary Cross Entropy Loss, 1 output feature [{z:.2f}]: sigmoid probability of class 1 {_pct(vals['sigmoid1'][0])}",
        f"CrossEntropyLoss (2 logits): {f('ce2')}  BCEWithLogitsLoss (1 logit): {f('bce_with_logits')}  "
        f"BCELoss (sigmoid): {f('bce')}",
        f"NLLLoss(log_softmax, weight, ignore_index=-100): {f('nll')}  CrossEntropyLoss(weight, ignore_index=-100): {f('ce')}",
        f"at logits ±1e4: CrossEntropyLoss {g('ce2')}  BCEWithLogitsLoss {g('bce_with_logits')}  BCELoss {g('bce')}  "
        f"CrossEntropyLoss(weight, ignore_index) {g('ce')}; gradients finite: "
        f"{all(np.isfinite(v).all() for k, v in vals.items() if k.startswith('extreme.grad'))}",
    ]


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes={},
    make_data=make_data,
    values=values,
    value_lines=value_lines,
)
