"""jaxport.optim against torch.optim: the same generated gradient stream fed to both, trajectories compared.

Each test draws params and a stream of gradients in NumPy, sets ``p.grad`` by hand and calls
``opt.step()`` in torch, runs the whole stream through the jaxport optimizer under ``jit`` +
``lax.scan``, and compares every step's params. Gradients do not depend on the params, so the
comparison isolates the optimizer (no chaotic feedback). The last tests show what plain optax gets
wrong, so the claims in the docstrings are backed.
"""

import jax

jax.config.update("jax_enable_x64", True)  # before any array exists; float32 runs stay float32

import functools  # noqa: E402
import itertools  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import NamedTuple  # noqa: E402

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from jaxport import optim  # noqa: E402

SHAPES = {"w": (5, 7), "b": (3,), "s": ()}  # a SIMD vector plus a tail, a short vector, a scalar
STEPS = 1000
DTYPES = (np.float64, np.float32)
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}
# Max |Δparam| over the trajectory, relative to the largest |param| of that leaf so far.
TOL = {
    # Same operation sequence as torch; what is left is ulp-level (libm pow vs expm1, summation order).
    np.float64: 1e-12,
    # Same, in float32 (ulp 6e-8): XLA's CPU backend fuses p + lr*g into one FMA where torch rounds
    # twice, torch's vectorised lerp uses FMA, norms sum in another order, bias corrections are
    # float32 here and float64 in torch. The p-level rounding differences random-walk to ~5e-7.
    np.float32: 1e-6,
}


# ---------------------------------------------------------------- streams and runners


@functools.cache
def stream(seed: int = 0, absent: bool = False, steps: int = STEPS):
    """Initial params, ``steps`` gradients per leaf (float64) and a presence mask per leaf and step.

    Gradient scales vary log-normally per step and leaf, so global norms fall on both sides of the
    clipping thresholds. With ``absent``: "s" misses 30% of steps, "b" its first 20 steps, "w" a
    block of 150 steps; torch gets ``p.grad = None`` there.
    """
    rng = np.random.default_rng(seed)
    params = {n: rng.standard_normal(s) for n, s in SHAPES.items()}
    scale = {n: np.exp(0.5 * rng.standard_normal((steps,) + (1,) * len(s))) for n, s in SHAPES.items()}
    grads = {n: rng.standard_normal((steps, *s)) * scale[n] for n, s in SHAPES.items()}
    present = {n: np.ones(steps, bool) for n in SHAPES}
    if absent:
        present["s"] = rng.random(steps) > 0.3
        present["b"][:20] = False
        present["w"][400:550] = False
    return params, grads, present


class TorchLookahead:
    """LookAhead, straight from Zhang et al. 2019, Algorithm 1: slow copies kept beside the inner optimizer."""

    def __init__(self, inner: torch.optim.Optimizer, k: int, alpha: float):
        self.inner, self.k, self.alpha, self.steps = inner, k, alpha, 0
        self.params = [p for group in inner.param_groups for p in group["params"]]
        self.slow = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def step(self):
        self.inner.step()
        self.steps += 1
        if self.steps % self.k == 0:
            for p, slow in zip(self.params, self.slow):
                slow.add_(p - slow, alpha=self.alpha)  # slow += alpha * (fast - slow)
                p.copy_(slow)  # fast = slow


class Case(NamedTuple):
    """One optimizer configuration: its label, a torch factory (params -> optimizer), a jaxport factory."""

    label: str
    torch_opt: Callable
    jax_tx: Callable
    clip: Callable | None = None  # applied to torch's params between setting .grad and opt.step()


@functools.cache
def run_torch(case: Case, dtype, *, absent=False, steps=STEPS):
    """The stream through torch; returns ({leaf: (steps, *shape) trajectory}, {leaf: param}, optimizer). Cached."""
    params0, grads, present = stream(absent=absent, steps=steps)
    ps = {n: torch.tensor(v, dtype=TORCH_DTYPE[dtype], requires_grad=True) for n, v in params0.items()}
    opt = case.torch_opt(list(ps.values()))
    traj = {n: np.empty((steps, *s), dtype) for n, s in SHAPES.items()}
    for t in range(steps):
        for n, p in ps.items():
            p.grad = torch.tensor(grads[n][t], dtype=p.dtype) if present[n][t] else None
        if case.clip is not None:
            case.clip(list(ps.values()))
        opt.step()
        for n, p in ps.items():
            traj[n][t] = p.detach().numpy()
    return traj, ps, opt


@functools.partial(jax.jit, static_argnums=(0, 1))
def _scan(txs, masked, params0, grads, present):
    """Several transformations side by side over one stream: one compile serves a whole family."""

    def body(carry, xs):
        g, m = xs
        out = []
        for tx, (p, s) in zip(txs, carry):
            updates, s = tx.update(g, s, p, present=m if masked else None)
            out.append((optax.apply_updates(p, updates), s))
        return tuple(out), tuple(p for p, _ in out)

    init = tuple((params0, tx.init(params0)) for tx in txs)
    final, trajs = jax.lax.scan(body, init, (grads, present))
    return trajs, tuple(s for _, s in final)


def run_jax(txs, dtype, *, absent=False, steps=STEPS, promotion="strict"):
    """The stream through each transformation under jit + scan; returns [(trajectory, final state)].

    jaxport runs under strict dtype promotion (a silent float64 upcast would fail); optax itself does not.
    """
    params0, grads, present = stream(absent=absent, steps=steps)
    cast = lambda tree: jax.tree.map(lambda a: jnp.asarray(a, dtype), tree)  # noqa: E731
    with jax.numpy_dtype_promotion(promotion):
        trajs, states = _scan(tuple(txs), absent, cast(params0), cast(grads), jax.tree.map(jnp.asarray, present))
    return [(jax.tree.map(np.asarray, t), s) for t, s in zip(trajs, states)]


def max_rel_diff(ref, got):
    """Per leaf: (max relative difference, step, |Δ|) with the scale = running max |param| of the ref leaf."""
    out = {}
    for n in SHAPES:
        a, b = ref[n].reshape(len(ref[n]), -1), got[n].reshape(len(got[n]), -1)
        scale = np.maximum.accumulate(np.abs(a).max(axis=1))
        diff = np.abs(a.astype(np.float64) - b).max(axis=1)
        rel = diff / scale
        t = int(np.argmax(rel))
        out[n] = (float(rel[t]), t, float(diff[t]))
    return out


def assert_trajectories_match(what, dtype, ref, got):
    """Fail naming the optimizer and options, the dtype, the leaf, the step and the difference."""
    for n in SHAPES:
        assert got[n].dtype == dtype, f"{what}: leaf {n!r} came back as {got[n].dtype}, expected {np.dtype(dtype)}"
    tol = TOL[dtype]
    for n, (rel, t, diff) in max_rel_diff(ref, got).items():
        assert rel <= tol, (
            f"{what} [{np.dtype(dtype)}]: leaf {n!r} step {t}: |Δparam| = {diff:.3e}, "
            f"relative {rel:.3e} > {tol:.0e} (torch {ref[n][t].ravel()[:3]} vs jax {got[n][t].ravel()[:3]})"
        )


def options(**kw):
    return ", ".join(f"{k}={v}" for k, v in kw.items())


# ---------------------------------------------------------------- the cases, by family


def _sgd(kw):
    label = f"sgd({options(lr=0.01, **kw)})"
    return Case(label, lambda ps: torch.optim.SGD(ps, lr=0.01, **kw), lambda: optim.sgd(0.01, **kw))


def _rmsprop(kw):
    label = f"rmsprop({options(lr=1e-3, **kw)})"
    return Case(label, lambda ps: torch.optim.RMSprop(ps, lr=1e-3, **kw), lambda: optim.rmsprop(1e-3, **kw))


def _adam(name, kw):
    torch_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    label = f"{name}({options(lr=1e-2, **kw)})"
    return Case(label, lambda ps: torch_cls(ps, lr=1e-2, **kw), lambda: getattr(optim, name)(1e-2, **kw))


def _clipped(kind, limit, norm_type=None):
    if kind == "norm":
        clip = lambda ps: torch.nn.utils.clip_grad_norm_(ps, limit, norm_type)  # noqa: E731
        make = lambda: optim.clip_grad_norm(limit, norm_type)  # noqa: E731
    else:
        clip = lambda ps: torch.nn.utils.clip_grad_value_(ps, limit)  # noqa: E731
        make = lambda: optim.clip_grad_value(limit)  # noqa: E731
    args = f"{limit}" if norm_type is None else f"{limit}, norm_type={norm_type}"
    label = f"chain(clip_grad_{kind}({args}), sgd(lr=0.01, momentum=0.9))"
    jax_tx = lambda: optax.chain(make(), optim.sgd(0.01, momentum=0.9))  # noqa: E731
    return Case(label, lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9), jax_tx, clip)


def _lookahead(inner: Case, k, alpha):
    label = f"lookahead({inner.label}, k={k}, alpha={alpha})"
    jax_tx = lambda: optim.lookahead(inner.jax_tx(), k, alpha)  # noqa: E731
    return Case(label, lambda ps: TorchLookahead(inner.torch_opt(ps), k, alpha), jax_tx, inner.clip)


FAMILIES = {
    "sgd": [  # dampening only acts with momentum; nesterov needs momentum and no dampening (torch raises)
        _sgd(dict(momentum=m, dampening=d, nesterov=n, weight_decay=wd, maximize=mx))
        for m, d, n, wd, mx in itertools.product((0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.05), (False, True))
        if (m > 0 or d == 0) and (not n or (m > 0 and d == 0))
    ],
    "rmsprop": [
        _rmsprop(dict(momentum=m, centered=c, weight_decay=wd))
        for m, c, wd in itertools.product((0.0, 0.9), (False, True), (0.0, 0.05))
    ]
    + [_rmsprop(dict(alpha=0.3, eps=1e-6, centered=True))],  # lerp's other branch (weight >= 0.5)
    "adam": [
        _adam(name, dict(amsgrad=a, weight_decay=wd))
        for name, wds in (("adam", (0.0, 0.05)), ("adamw", (1e-2, 0.1)))
        for a, wd in itertools.product((False, True), wds)
    ]
    + [_adam("adam", dict(betas=(0.3, 0.6), eps=1e-6)), _adam("adamw", dict(betas=(0.3, 0.6), amsgrad=True))],
    "clip": [  # thresholds inside the range of the stream's norms: some steps clip, some do not
        _clipped("norm", 6.0, 2.0),
        _clipped("norm", 20.0, 1.0),
        _clipped("norm", 2.5, float("inf")),
        _clipped("value", 1.0),
    ],
    "lookahead": [_lookahead(_sgd(dict(momentum=0.9)), 5, 0.5), _lookahead(_adam("adam", {}), 7, 0.8)],
    "absent": [  # the absent stream: torch sees p.grad = None
        _sgd(dict(momentum=0.9, dampening=0.3, weight_decay=0.05)),
        _sgd(dict(momentum=0.9, nesterov=True, maximize=True)),
        _rmsprop(dict(momentum=0.9, centered=True, weight_decay=0.05)),
        _adam("adam", dict(amsgrad=True)),
        _adam("adamw", {}),
        _clipped("norm", 6.0, 2.0),
        _lookahead(_adam("adam", {}), 5, 0.5),
    ],
}


@functools.cache
def jax_family(family: str, dtype):
    """Every case of a family through jaxport in one jit + scan (one compile), as [(trajectory, final state)]."""
    return run_jax([case.jax_tx() for case in FAMILIES[family]], dtype, absent=family == "absent")


def check(family: str, index: int, dtype):
    """torch vs jaxport on one case; returns torch's params and optimizer and jaxport's final state."""
    case = FAMILIES[family][index]
    ref, ps, opt = run_torch(case, dtype, absent=family == "absent")
    got, state = jax_family(family, dtype)[index]
    what = case.label + (" with absent gradients" if family == "absent" else "")
    assert_trajectories_match(what, dtype, ref, got)
    return ps, opt, state


def cases(family):
    return pytest.mark.parametrize("index", range(len(FAMILIES[family])), ids=[c.label for c in FAMILIES[family]])


dtypes = pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)


@dtypes
@cases("sgd")
def test_sgd(index, dtype):
    check("sgd", index, dtype)


@dtypes
@cases("rmsprop")
def test_rmsprop(index, dtype):
    check("rmsprop", index, dtype)


@dtypes
@cases("adam")
def test_adam_adamw(index, dtype):
    check("adam", index, dtype)


@dtypes
@cases("clip")
def test_clipping_chained_with_sgd(index, dtype):
    check("clip", index, dtype)


@dtypes
@cases("lookahead")
def test_lookahead(index, dtype):
    check("lookahead", index, dtype)


@dtypes
@cases("absent")
def test_absent_gradients(index, dtype):
    ps, opt, state = check("absent", index, dtype)
    # The per-parameter state agrees too: step counts where torch keeps them, SGD's buffer existence.
    opt, state = getattr(opt, "inner", opt), getattr(state, "inner_state", state)
    if not isinstance(state, (optim.SgdState, optim.RmspropState, optim.AdamState)):  # a chain: it comes last
        state = state[-1]
    label = FAMILIES["absent"][index].label
    for n, p in ps.items():
        torch_state, count = opt.state.get(p, {}), int(state.count[n])
        if "step" in torch_state:
            torch_count = int(torch_state["step"])
            assert count == torch_count, f"{label}: leaf {n!r} step count {count} != torch {torch_count}"
        else:
            has_buffer = torch_state.get("momentum_buffer") is not None
            assert (count > 0) == has_buffer, f"{label}: leaf {n!r} count {count}, torch momentum buffer {has_buffer}"
    _, _, present = stream(absent=True)
    for n in SHAPES:
        assert int(state.count[n]) == int(present[n].sum()), f"{label}: leaf {n!r} counted absent steps"


def test_fill_absent_eager_matches_jit_and_torch():
    """The eager path with ``fill_absent`` (None = no gradient) matches torch and the jitted scan."""
    index, steps = 3, 30  # adam(amsgrad=True); "b" has no gradient in the first 20 steps
    case = FAMILIES["absent"][index]
    ref = {n: v[:steps] for n, v in run_torch(case, np.float64, absent=True)[0].items()}
    jitted = {n: v[:steps] for n, v in jax_family("absent", np.float64)[index][0].items()}
    params0, grads, present = stream(absent=True)
    tx = case.jax_tx()
    params = {n: jnp.asarray(v) for n, v in params0.items()}
    state, eager = tx.init(params), []
    for t in range(steps):
        g = {n: grads[n][t] if present[n][t] else None for n in SHAPES}
        g, mask = optim.fill_absent(g, params)
        updates, state = tx.update(g, state, params, present=mask)
        params = optax.apply_updates(params, updates)
        eager.append({n: np.asarray(v) for n, v in params.items()})
    eager = {n: np.stack([e[n] for e in eager]) for n in SHAPES}
    assert_trajectories_match(f"{case.label} eager with fill_absent, vs torch", np.float64, ref, eager)
    assert_trajectories_match(f"{case.label} eager vs jit (XLA fuses differently)", np.float64, jitted, eager)
    assert int(state.count["b"]) == int(present["b"][:steps].sum()) == steps - 20


def test_float32_bias_correction_is_accurate():
    """``1 - b**t`` in float32 within 3 ulp of torch's float64 value; ``1 - b**t`` in float32 is ~1e-5 off."""
    t = np.arange(1, 20001)
    exact = 1 - 0.999**t
    ours = np.asarray(optim._one_minus_pow(0.999, jnp.asarray(t, jnp.float32)), np.float64)
    naive = np.asarray(1 - jnp.float32(0.999) ** jnp.asarray(t, jnp.float32), np.float64)
    assert np.max(np.abs(ours / exact - 1)) < 3 * 2.0**-23
    assert np.max(np.abs(naive / exact - 1)) > 1e-5


# ---------------------------------------------------------------- what plain optax gets wrong


def test_optax_rmsprop_defaults_differ():
    """optax.rmsprop: decay 0.9, eps inside the sqrt. torch: alpha 0.99, eps outside. Explicit settings match."""
    ref, _, _ = run_torch(_rmsprop({}), np.float64)
    txs = [optax.rmsprop(1e-3), optax.rmsprop(1e-3, decay=0.99, eps=1e-8, eps_in_sqrt=False)]
    (wrong, _), (fixed, _) = run_jax(txs, np.float64, promotion="standard")
    assert max(r for r, _, _ in max_rel_diff(ref, wrong).values()) > 1e-2
    assert_trajectories_match("optax.rmsprop(decay=0.99, eps_in_sqrt=False)", np.float64, ref, fixed)


def test_optax_adam_float32_bias_correction():
    """With x64 off, optax.adam computes ``1 - b2**count`` in float32: ~7e-6 relative error in Adam's first
    step. jaxport's stays ulp-level. (With x64 on, optax's weakly typed corrections silently become float64.)

    From zero params the first step's update is the new param, exactly.
    """
    g = stream()[1]["w"][0].astype(np.float32)
    tp = torch.zeros(g.shape, dtype=torch.float32, requires_grad=True)
    tp.grad = torch.tensor(g)
    torch.optim.Adam([tp], lr=1e-2).step()
    expected = tp.detach().numpy().astype(np.float64)
    errors = {}
    with jax.enable_x64(False), jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int32
        zero = jnp.zeros(g.shape, jnp.float32)
        for name, tx in (("optax.adam", optax.adam(1e-2)), ("jaxport.optim.adam", optim.adam(1e-2))):
            updates, _ = tx.update(jnp.asarray(g), tx.init(zero), zero)
            assert updates.dtype == jnp.float32
            errors[name] = np.max(np.abs(np.asarray(updates, np.float64) / expected - 1))
    assert errors["jaxport.optim.adam"] < 3 * 2.0**-23 and errors["optax.adam"] > 3e-6, errors


def test_optax_clip_by_global_norm_lacks_the_epsilon():
    """torch scales by max_norm/(norm + 1e-6): a gradient just under max_norm is still scaled down, and one
    above comes out 1e-6/norm smaller than optax's ``g * max_norm/norm``."""
    g = {"a": np.array([3.0, 0.0]), "b": np.array(4.0)}  # global norm 5, exactly
    for max_norm in (5.0 + 5e-7, 5.0, 2.0):
        tg = [torch.tensor(v) for v in g.values()]
        for t in tg:
            t.grad = t.clone()
        torch.nn.utils.clip_grad_norm_(tg, max_norm)
        expected = {n: t.grad.numpy() for n, t in zip(g, tg)}
        theirs, _ = optax.clip_by_global_norm(max_norm).update(g, optax.EmptyState())
        ours, _ = optim.clip_grad_norm(max_norm).update(g, optax.EmptyState())
        for n in g:
            err_msg = f"clip_grad_norm({max_norm}) leaf {n!r}"
            np.testing.assert_array_equal(np.asarray(ours[n]), expected[n], err_msg=err_msg)
        gap = abs(float(theirs["b"]) / float(expected["b"]) - 1)
        assert gap > 0.5e-7, f"optax.clip_by_global_norm({max_norm}) vs torch: relative gap only {gap:.2e}"
    assert float(theirs["b"]) != 4.0 and float(optax.clip_by_global_norm(5.0 + 5e-7).update(g, None)[0]["b"]) == 4.0


def test_optax_masked_does_not_freeze_and_zero_grads_keep_moving():
    """torch leaves a parameter without gradient alone. optax.masked hands the masked leaf its raw gradient
    as the update, and a zero gradient fed to optax.sgd still moves the leaf on momentum; ``present=`` freezes it."""
    params = {"w": jnp.ones(3), "e": jnp.ones(2)}
    grads = {"w": jnp.full(3, 0.5), "e": jnp.full(2, 0.5)}
    masked = optax.masked(optax.sgd(0.1, momentum=0.9), {"w": True, "e": False})
    updates, _ = masked.update(grads, masked.init(params), params)
    assert np.all(np.asarray(optax.apply_updates(params, updates)["e"]) != 1.0)  # moved by +g: not frozen

    zero_e = {"w": grads["w"], "e": jnp.zeros(2)}
    plain, ours = optax.sgd(0.1, momentum=0.9), optim.sgd(0.1, momentum=0.9)
    s_plain, s_ours = plain.init(params), ours.init(params)
    _, s_plain = plain.update(grads, s_plain, params)
    _, s_ours = ours.update(grads, s_ours, params)
    u_plain, _ = plain.update(zero_e, s_plain, params)
    u_ours, _ = ours.update(zero_e, s_ours, params, present={"w": True, "e": False})
    assert np.all(np.asarray(u_plain["e"]) != 0)  # momentum keeps moving "e"
    assert np.all(np.asarray(u_ours["e"]) == 0)


@pytest.mark.parametrize("make", [lambda: optim.sgd(0.1, momentum=0.9), lambda: optim.rmsprop(centered=True, momentum=0.5),
                                  lambda: optim.lookahead(optim.adam(amsgrad=True)), lambda: optax.chain(optim.clip_grad_norm(1.0), optim.adam())],
                         ids=["sgd", "rmsprop", "lookahead", "chain"])
def test_flat_state_round_trip(make):
    """state_to_flat names each leaf like torch's optimizer.state[p][field]; state_from_flat inverts it."""
    tx = make()
    params = {"0.weight": jnp.ones((2, 3)), "b": jnp.zeros(())}
    state = tx.init(params)
    flat = optim.state_to_flat(state)
    assert all(name.split(".", 1)[0] in {"count", "momentum_buffer", "square_avg", "grad_avg", "exp_avg",
                                          "exp_avg_sq", "max_exp_avg_sq", "slow"} for name in flat), sorted(flat)
    back = optim.state_from_flat(jax.eval_shape(tx.init, params), flat)
    assert jax.tree.structure(back) == jax.tree.structure(state)
    grads = {"0.weight": jnp.full((2, 3), 0.5), "b": jnp.ones(())}
    new = optim.update_flat(tx, optim.init_flat(tx, params), grads)
    updates, s1 = tx.update(grads, state, params)
    for k, v in {**optax.apply_updates(params, updates), **optim.state_to_flat(s1)}.items():
        np.testing.assert_array_equal(np.asarray(new[k]), np.asarray(v), err_msg=k)
