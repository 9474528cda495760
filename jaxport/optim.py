"""torch.optim's optimizers with torch's names, defaults and arithmetic, behind optax's interface.

Each factory returns an :class:`optax.GradientTransformationExtraArgs` (an ``(init, update)`` pair
with one NamedTuple state) whose updates already carry the learning rate and the sign, so
``params = optax.apply_updates(params, updates)`` is torch's ``optimizer.step()``. They chain the
usual way, e.g. ``optax.chain(clip_grad_norm(1.0), adam(1e-3))``. Everything is pure, jit-able,
works on any pytree of arrays and stays in the params' dtype (float64 needs x64 on; nothing here
changes JAX's config); hyperparameters are Python floats (no schedules). The arithmetic follows
torch's CPU single-tensor kernels operation by operation: over 1000 steps float64 trajectories agree
to ~1e-15 relative, float32 ones to ~5e-7 (XLA's CPU backend fuses ``a*b + c`` into an FMA where
torch rounds the product first; ``parity_tests/test_optim.py``).

Absent gradients. torch skips a parameter whose ``.grad`` is None: no update, no state change, no
step count increase. Here every ``update`` takes an optional keyword ``present``: a pytree of bools
shaped like the gradients (Python bools or traced scalars). Where a leaf is not present, its update
is exactly zero, its state is left untouched and it is left out of ``clip_grad_norm``'s total norm;
the gradient values given for it are ignored (give zeros, e.g. via :func:`fill_absent`). Per-leaf
state carries per-leaf step counts (torch's ``state[p]['step']``), so Adam's bias correction and
SGD's "first momentum buffer is the raw gradient" follow each parameter's own history.
Why this design: it is optax's own extra-arguments mechanism, which ``optax.chain`` forwards to
every transformation that accepts it (plain optax transformations ignore it), so the gradient tree
keeps one static structure (``jit``/``scan`` see no retrace, unlike ``None`` leaves), the updates
keep the params' structure (``apply_updates`` and chaining work unchanged, unlike a wrapper object
standing in for the gradients), and no sentinel values hide in the gradients.
"""

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "sgd",
    "rmsprop",
    "adam",
    "adamw",
    "clip_grad_norm",
    "clip_grad_value",
    "lookahead",
    "fill_absent",
    "init_flat",
    "update_flat",
    "state_from_flat",
    "state_to_flat",
    "SgdState",
    "RmspropState",
    "AdamState",
    "LookaheadState",
]

PyTree = Any


class SgdState(NamedTuple):
    """Per-leaf step count (int32 scalars) and momentum buffer (None when momentum == 0)."""

    count: PyTree
    momentum_buffer: PyTree | None


class RmspropState(NamedTuple):
    """Per-leaf step count, ``square_avg``, ``grad_avg`` (centered only), ``momentum_buffer`` (momentum > 0)."""

    count: PyTree
    square_avg: PyTree
    grad_avg: PyTree | None
    momentum_buffer: PyTree | None


class AdamState(NamedTuple):
    """Per-leaf step count, ``exp_avg``, ``exp_avg_sq`` and ``max_exp_avg_sq`` (amsgrad only)."""

    count: PyTree
    exp_avg: PyTree
    exp_avg_sq: PyTree
    max_exp_avg_sq: PyTree | None


class LookaheadState(NamedTuple):
    """Number of steps taken (int32 scalar), the slow weights, and the inner optimizer's state."""

    count: jax.Array
    slow: PyTree
    inner_state: optax.OptState


def fill_absent(grads: PyTree, params: PyTree) -> tuple[PyTree, PyTree]:
    """Turn a gradient tree with ``None`` for absent leaves into ``(grads, present)``.

    ``None`` marks "no gradient this step", as torch's ``p.grad is None``. The returned gradients have
    zeros there (the params' structure, so one jit/scan trace serves every pattern) and ``present``
    holds a Python bool per leaf, to pass as ``update(grads, state, params, present=present)``.
    """
    is_none = lambda x: x is None  # noqa: E731
    filled = jax.tree.map(lambda p, g: jnp.zeros_like(p) if g is None else g, params, grads, is_leaf=is_none)
    present = jax.tree.map(lambda p, g: g is not None, params, grads, is_leaf=is_none)
    return filled, present


def _zeros_count(params: PyTree) -> PyTree:
    return jax.tree.map(lambda _: jnp.zeros((), jnp.int32), params)


def _map_leaves(leaf_fn: Callable, grads: PyTree, params: PyTree, present: PyTree, *fields: PyTree):
    """Apply ``leaf_fn(g, p, *state) -> (update, *new_state)`` leaf by leaf, honouring ``present``.

    A field that is None (a feature switched off) is passed to ``leaf_fn`` as None per leaf and
    stays None. Absent leaves get a zero update and keep their old state.
    """
    g_leaves, treedef = jax.tree.flatten(grads)
    flat = lambda t: [None] * len(g_leaves) if t is None else treedef.flatten_up_to(t)  # noqa: E731
    p_leaves, m_leaves, f_leaves = flat(params), flat(present), [flat(f) for f in fields]
    updates, new = [], [[] for _ in fields]
    for i, g in enumerate(g_leaves):
        old = [f[i] for f in f_leaves]
        u, *out = leaf_fn(g, p_leaves[i], *old)
        if m_leaves[i] is not None:
            keep = jnp.asarray(m_leaves[i], dtype=bool)
            u = jnp.where(keep, u, jnp.zeros_like(u))
            out = [n if n is None else jnp.where(keep, n, o) for n, o in zip(out, old)]
        updates.append(u)
        for column, n in zip(new, out):
            column.append(n)
    unflat = lambda f, col: None if f is None else treedef.unflatten(col)  # noqa: E731
    return treedef.unflatten(updates), [unflat(f, col) for f, col in zip(fields, new)]


def _lerp(start: jax.Array, end: jax.Array, weight: float) -> jax.Array:
    """torch.lerp's two-branch formula (the branch is picked by the static weight)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _one_minus_pow(beta: float, t: jax.Array) -> jax.Array:
    """``1 - beta**t`` to a few ulp in t's dtype: ``-expm1(t * log(beta))``, log(beta) taken in Python.

    torch evaluates ``1 - beta**step`` in Python float64. ``1 - beta**t`` in float32 (optax's, when x64
    is off) loses ~1e-5 relative at t=1 for beta=0.999: 0.999 itself is off by 1.3e-8 in float32.
    """
    if beta == 0.0:
        return jnp.ones_like(t)
    return -jnp.expm1(t * math.log(beta))


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def sgd(
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """torch.optim.SGD: ``g += wd*p``; ``buf = m*buf + (1-dampening)*g``; ``p -= lr*buf`` (nesterov: ``g + m*buf``).

    The first momentum buffer of each parameter is its raw (decayed) gradient, undamped, as torch's.
    optax.sgd starts its trace from zeros and has no dampening, so it agrees only for dampening 0;
    it has no weight decay or maximize (chain ``optax.add_decayed_weights`` / negate yourself).

    Args:
        lr: learning rate.
        momentum: momentum factor.
        dampening: dampening for momentum (not applied to the first buffer).
        weight_decay: L2 penalty, added to the gradient (coupled).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0, as torch).
        maximize: ascend instead of descend.

    Returns:
        A transformation whose ``update`` accepts ``present=`` (see the module docstring).
    """
    _check(lr >= 0 and momentum >= 0 and weight_decay >= 0, "sgd: lr, momentum and weight_decay must be >= 0")
    _check(not nesterov or (momentum > 0 and dampening == 0), "sgd: Nesterov needs a momentum and zero dampening")

    def init_fn(params):
        buf = jax.tree.map(jnp.zeros_like, params) if momentum != 0 else None
        return SgdState(_zeros_count(params), buf)

    def leaf(g, p, count, buf):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = jnp.where(count == 0, g, buf * momentum + (1 - dampening) * g)
            g = g + momentum * buf if nesterov else buf
        return -lr * g, count + 1, buf

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        del extra_args
        updates, fields = _map_leaves(leaf, updates, params, present, state.count, state.momentum_buffer)
        return updates, SgdState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def rmsprop(
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """torch.optim.RMSprop: ``v = alpha*v + (1-alpha)*g²``; ``p -= lr*g/(sqrt(v) + eps)``.

    eps is added outside the square root; centered subtracts the squared running mean of g under
    the root; with momentum the buffer holds ``g/(sqrt(v)+eps)`` and ``p -= lr*buf``. optax.rmsprop
    defaults to decay 0.9 with eps inside the root (``eps_in_sqrt=True``), and scales by lr before
    its momentum (the same for a constant lr, not under a schedule).

    Args:
        lr: learning rate.
        alpha: smoothing constant of the squared-gradient average.
        eps: added to the denominator, outside the square root.
        weight_decay: L2 penalty, added to the gradient (coupled).
        momentum: momentum factor.
        centered: normalise by the estimated variance instead of the raw second moment.

    Returns:
        A transformation whose ``update`` accepts ``present=`` (see the module docstring).
    """
    _check(min(lr, alpha, eps, weight_decay, momentum) >= 0, "rmsprop: hyperparameters must be >= 0")

    def init_fn(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        grad_avg, buf = zeros() if centered else None, zeros() if momentum > 0 else None
        return RmspropState(_zeros_count(params), zeros(), grad_avg, buf)

    def leaf(g, p, count, square_avg, grad_avg, buf):
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg = square_avg * alpha + ((1 - alpha) * g) * g
        if centered:
            grad_avg = _lerp(grad_avg, g, 1 - alpha)
            avg = jnp.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = jnp.sqrt(square_avg) + eps
        if momentum > 0:
            buf = buf * momentum + g / avg
            u = -lr * buf
        else:
            u = (-lr * g) / avg
        return u, count + 1, square_avg, grad_avg, buf

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        del extra_args
        updates, fields = _map_leaves(leaf, updates, params, present, *state)
        return updates, RmspropState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _adam(lr, betas, eps, weight_decay, amsgrad, decoupled, name):
    b1, b2 = betas
    _check(lr >= 0 and eps >= 0 and weight_decay >= 0, f"{name}: invalid lr, eps or weight_decay")
    _check(0 <= b1 < 1 and 0 <= b2 < 1, f"{name}: betas must lie in [0, 1), got {betas}")

    def init_fn(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        return AdamState(_zeros_count(params), zeros(), zeros(), zeros() if amsgrad else None)

    def leaf(g, p, count, exp_avg, exp_avg_sq, max_exp_avg_sq):
        count = count + 1
        t = count.astype(g.dtype)
        if weight_decay != 0 and not decoupled:
            g = g + weight_decay * p
        exp_avg = _lerp(exp_avg, g, 1 - b1)
        exp_avg_sq = exp_avg_sq * b2 + ((1 - b2) * g) * g
        step_size = lr / _one_minus_pow(b1, t)
        bias_correction2_sqrt = jnp.sqrt(_one_minus_pow(b2, t))
        if amsgrad:  # torch: the max over the raw second moment, before bias correction
            max_exp_avg_sq = jnp.maximum(max_exp_avg_sq, exp_avg_sq)
            denom = jnp.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
        else:
            denom = jnp.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
        u = (-step_size * exp_avg) / denom
        if weight_decay != 0 and decoupled:
            # torch: p *= keep (keep = 1 - lr*wd in p's dtype), then p += u. Written p - p*(1-keep):
            # 1-keep is exact, so this rounds like torch's p*keep whether or not XLA fuses it into
            # an FMA (XLA CPU fuses a*b+c; torch rounds the product first). Returning new_p - p
            # makes apply_updates land on new_p exactly whenever the two lie within 2x (Sterbenz).
            keep = float(np.asarray(1 - lr * weight_decay, dtype=p.dtype))
            u = ((p - p * (1 - keep)) + u) - p
        return u, count, exp_avg, exp_avg_sq, max_exp_avg_sq

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        del extra_args
        updates, fields = _map_leaves(leaf, updates, params, present, *state)
        return updates, AdamState(*fields)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def adam(
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """torch.optim.Adam, weight decay coupled into the gradient (``g += wd*p``).

    Bias corrections are accurate in the params' dtype and each parameter keeps its own step count.
    With x64 off, optax.adam computes ``1 - b2**count`` in float32 (1.3e-5 relative at step 1); it has
    no coupled weight decay (chain ``optax.add_decayed_weights``), and its amsgrad takes the max over the bias-corrected
    second moment where torch takes it over the raw one.

    Args:
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator, outside the square root.
        weight_decay: L2 penalty, added to the gradient (coupled).
        amsgrad: use the running maximum of the raw second moment.

    Returns:
        A transformation whose ``update`` accepts ``present=`` (see the module docstring).
    """
    return _adam(lr, betas, eps, weight_decay, amsgrad, decoupled=False, name="adam")


def adamw(
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """torch.optim.AdamW: decoupled weight decay ``p *= 1 - lr*wd`` before the Adam step.

    The default weight_decay is torch's 1e-2 (optax.adamw's is 1e-4); otherwise as :func:`adam`.

    Args:
        lr: learning rate.
        betas: decay rates of the first and second moment averages.
        eps: added to the denominator, outside the square root.
        weight_decay: decoupled weight decay coefficient (multiplied by lr, as torch).
        amsgrad: use the running maximum of the raw second moment.

    Returns:
        A transformation whose ``update`` accepts ``present=`` (see the module docstring).
    """
    return _adam(lr, betas, eps, weight_decay, amsgrad, decoupled=True, name="adamw")


def clip_grad_norm(max_norm: float, norm_type: float = 2.0) -> optax.GradientTransformationExtraArgs:
    """torch.nn.utils.clip_grad_norm_: ``g *= min(max_norm / (total_norm + 1e-6), 1)``.

    The total norm is the ``norm_type`` norm of the per-leaf norms (``inf``: the largest |g|) over the
    leaves that are present. optax.clip_by_global_norm divides by the norm without the 1e-6 and only
    when norm > max_norm: its clipped gradients are 1e-6/norm larger, and it leaves alone a gradient
    just under max_norm that torch still scales down. It handles only the 2-norm.

    Args:
        max_norm: largest allowed total norm.
        norm_type: the p of the p-norm: any p > 0, or ``float('inf')``.

    Returns:
        A stateless transformation; absent leaves come out as zeros.
    """
    norm_type = float(norm_type)
    _check(norm_type > 0, f"clip_grad_norm: norm_type must be > 0 or inf, got {norm_type}")

    def leaf_norm(g):
        return jnp.linalg.norm(g.ravel(), ord=norm_type) if g.size else jnp.zeros((), g.dtype)

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        del params, extra_args
        leaves, treedef = jax.tree.flatten(updates)
        if not leaves:
            return updates, state
        keep = [None] * len(leaves) if present is None else treedef.flatten_up_to(present)
        norms = [leaf_norm(g) if k is None else jnp.where(k, leaf_norm(g), 0) for g, k in zip(leaves, keep)]
        dtype = max((n.dtype for n in norms), key=lambda d: d.itemsize)  # leaves may mix dtypes
        total = jnp.linalg.norm(jnp.stack([n.astype(dtype) for n in norms]), ord=norm_type)
        coef = jnp.minimum(max_norm / (total + 1e-6), 1.0)
        out = [g * coef.astype(g.dtype) for g in leaves]
        out = [u if k is None else jnp.where(k, u, jnp.zeros_like(u)) for u, k in zip(out, keep)]
        return treedef.unflatten(out), state

    return optax.GradientTransformationExtraArgs(optax.init_empty_state, update_fn)


def clip_grad_value(clip_value: float) -> optax.GradientTransformationExtraArgs:
    """torch.nn.utils.clip_grad_value_: clamp every gradient entry to ``[-clip_value, clip_value]``.

    Same as optax.clip; here it also zeroes absent leaves.

    Args:
        clip_value: largest allowed |g| entry.

    Returns:
        A stateless transformation.
    """

    def update_fn(updates, state, params=None, *, present=None, **extra_args):
        del params, extra_args
        updates, _ = _map_leaves(lambda g, p: (jnp.clip(g, -clip_value, clip_value),), updates, None, present)
        return updates, state

    return optax.GradientTransformationExtraArgs(optax.init_empty_state, update_fn)


def lookahead(
    inner: optax.GradientTransformation, k: int = 5, alpha: float = 0.5
) -> optax.GradientTransformationExtraArgs:
    """LookAhead (Zhang et al. 2019): ``inner`` moves the params (fast weights); every k steps
    ``slow += alpha*(fast - slow)`` and ``fast = slow``.

    The slow weights live in the state (initialised from the params given to ``init``), so the params
    stay the model's weights as in the usual torch wrapper. The k-step counter counts calls, and a
    sync touches every leaf, absent or not; ``present=`` is forwarded to ``inner``. It must come last
    in a chain (its update on a sync step is ``slow - params``). optax.lookahead instead keeps both
    copies in the params (``LookaheadParams``) and calls ``alpha`` slow_step_size, k sync_period.

    Args:
        inner: the fast optimizer.
        k: steps between synchronisations.
        alpha: slow step size.

    Returns:
        A transformation; its ``update`` needs ``params``.
    """
    _check(k >= 1 and 0 <= alpha <= 1, f"lookahead: need k >= 1 and 0 <= alpha <= 1, got k={k}, alpha={alpha}")
    inner = optax.with_extra_args_support(inner)

    def init_fn(params):
        return LookaheadState(jnp.zeros((), jnp.int32), params, inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        _check(params is not None, "lookahead: update needs params")
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
        count = state.count + 1
        sync = count % k == 0
        fast = optax.apply_updates(params, updates)
        new_slow = jax.tree.map(lambda s, f: s + alpha * (f - s), state.slow, fast)
        # fast = slow: the update p -> new_slow; exact whenever the two lie within 2x of each other.
        updates = jax.tree.map(lambda u, p, s: jnp.where(sync, s - p, u), updates, params, new_slow)
        slow = jax.tree.map(lambda s, n: jnp.where(sync, n, s), state.slow, new_slow)
        return updates, LookaheadState(count, slow, inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def _leaf_name(path) -> str:
    """``field.param`` for a per-parameter leaf, ``field`` for a scalar one; wrapper fields (a
    lookahead's ``inner_state``) are skipped, so names read like torch's ``optimizer.state[p][field]``."""
    field, params = None, []
    for entry in path:
        if isinstance(entry, jax.tree_util.GetAttrKey):
            field = entry.name
        elif isinstance(entry, jax.tree_util.DictKey):
            params.append(str(entry.key))
        else:  # a tuple position (optax.chain): no name of its own
            continue
    return ".".join([field or "state", *params])


def state_to_flat(opt_state: PyTree) -> dict[str, jax.Array]:
    """An optimizer state as a flat ``{name: array}``: ``square_avg.0.weight``, ``count.a``, ``count``.

    The names follow torch's per-parameter ``optimizer.state[p]`` (``momentum_buffer``, ``exp_avg``,
    ``exp_avg_sq``, ``square_avg``; ``count`` for torch's ``step``), so a torch reference can record
    its own state under the same names. Inverse: :func:`state_from_flat`.
    """
    leaves = jax.tree_util.tree_flatten_with_path(opt_state)[0]
    out = {}
    for path, leaf in leaves:
        name = _leaf_name(path)
        if name in out:
            raise ValueError(f"optimizer state leaves share the name {name!r}")
        out[name] = leaf
    return out


def state_from_flat(template: PyTree, flat: Mapping[str, jax.Array]) -> PyTree:
    """The optimizer state shaped like ``template`` (e.g. ``tx.init(params)`` or its ``jax.eval_shape``),
    its leaves taken from ``flat`` by the names :func:`state_to_flat` gives them."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    return jax.tree_util.tree_unflatten(treedef, [flat[_leaf_name(path)] for path, _ in paths])


def init_flat(tx: optax.GradientTransformation, params: Mapping[str, Any]) -> dict[str, Any]:
    """A flat training state: the parameters and ``tx``'s state under :func:`state_to_flat`'s names."""
    return {**params, **state_to_flat(tx.init(dict(params)))}


def update_flat(tx: optax.GradientTransformation, state: Mapping[str, Any], grads: Mapping[str, Any], **extra) -> dict[str, Any]:
    """``optimizer.step()`` on a flat training state: the parameters named in ``grads`` are updated,
    the optimizer's leaves replaced; ``extra`` (e.g. ``present=``) goes to ``tx.update``."""
    params = {k: state[k] for k in grads}
    opt_state = state_from_flat(jax.eval_shape(tx.init, params), state)
    updates, opt_state = tx.update(dict(grads), opt_state, params, **extra)
    return {**optax.apply_updates(params, updates), **state_to_flat(opt_state)}
