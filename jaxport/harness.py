"""The parity harness: run an example in JAX and in its reference, compare in every regime.

Used by the tests and by ``jaxport compare``. The reference (torch, or the seed's NumPy for E01) is
run once with its trajectory recorded; then

* **same_point**: JAX's loss and gradients at torch's parameters of every step, against torch's;
* **teacher_forced**: one JAX step from torch's parameters at step t, against torch's step t+1;
* **free_running**: each framework trains on its own; losses at every step and final parameters;
* **float64_drift** (float32 runs): JAX float32 against a float64 reference run, its drift bounded
  by the reference's own float32 drift (see :mod:`jaxport.tolerances`).

A regime fails with a message naming the example, the regime, the leaf, the step, the differences
and the tolerance.
"""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxport._config import configure_torch
from jaxport import params as params_mod
from jaxport import reference
from jaxport import training
from jaxport.spec import Example, RefRun, TrainingExample
from jaxport.errors import UsageError
from jaxport.tolerances import Tolerance, is_override, tolerance, tolerance_text

Tree = Mapping[str, np.ndarray]
# where JAX's own runs place their training state and data: (state, data) -> (state, data) on devices
Placement = Callable[[Mapping[str, Any], Mapping[str, Any]], tuple[Any, Any]]


@dataclass
class RegimeResult:
    name: str
    passed: bool
    max_abs: float
    max_rel: float  # max |Δ| / scale, scale = the tree's largest |ref| at that step
    tolerance: Tolerance
    worst_leaf: str
    worst_step: int
    message: str
    ratio: float = 0.0  # the worst |Δ| / bound over leaves and steps: at most 1 passes
    note: str = ""  # how a passing verdict was reached where that needs saying ("parted at step N, shadowed")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "max_abs": self.max_abs,
            "max_rel": self.max_rel,
            "tolerance": self.tolerance.as_dict(),
            "worst_leaf": self.worst_leaf,
            "worst_step": self.worst_step,
            "ratio": self.ratio,
            "note": self.note,
            "message": self.message,
        }


@dataclass
class Comparison:
    example: Example
    dtype: str
    device: str
    reference: str  # "torch" or "numpy"
    regimes: list[RegimeResult]
    jax_seconds: float
    torch_seconds: float
    jax_losses: np.ndarray = field(repr=False)
    ref_losses: np.ndarray = field(repr=False)
    precision: str = "cpu: exact float32/float64 (no TF32 on CPU)"
    diagnosis: tuple[str, ...] = ()  # where it parts, from the example's diagnose (a failed run only)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.regimes)

    def as_dict(self) -> dict:
        return {
            "example": self.example.id,
            "name": self.example.name,
            "dtype": self.dtype,
            "device": self.device,
            "precision": self.precision,
            "reference": self.reference,
            "passed": self.passed,
            "regimes": [r.as_dict() for r in self.regimes],
            "jax_seconds": self.jax_seconds,
            "torch_seconds": self.torch_seconds,
            "diagnosis": list(self.diagnosis),
        }


def compare_trees(
    label: str,
    regime: str,
    ours: Tree,
    ref: Tree,
    steps: np.ndarray,
    tol: Tolerance,
    envelope: Tree | None = None,
    truth: Tree | None = None,
    terms: Tree | None = None,
    spread: Tree | None = None,
    own: Tree | None = None,
    floor: Tree | None = None,
) -> RegimeResult:
    """Compare trees whose leaves have a leading step axis (``steps`` gives each row's step number).

    The bound depends on ``tol.judge`` (see :mod:`jaxport.tolerances`):

    * ``"reference"``: every ``|ours - ref| <= atol + rtol * scale + factor * envelope``, the scale
      being the tree's largest finite |ref| at that step;
    * ``"truth"`` (with ``truth``, a float64 evaluation of the same point): per leaf and step, JAX's
      largest ``|ours - truth|`` is at most ``factor`` times the reference's own largest
      ``|ref - truth|`` (its largest within ``window`` sampled steps either side) plus ``ulps``
      machine epsilons of the leaf's magnitude; ``spread`` (per leaf, one value a row) widens the
      reference's error where it was measured under rounding-sized perturbations (:func:`rounding_spread`);
      ``own`` (per leaf, one value a row) is JAX's own float32 rounding, its distance from its own float64
      evaluation of the same point, of which the tolerance's ``own`` times is added (:func:`_truth_bound`);
      ``floor`` (per leaf, one value a row) is added to the bound as it is;
    * ``"terms"`` (with ``terms``, each element's magnitude of terms): every
      ``|ours - ref| <= ulps * eps * terms`` element by element.

    NaNs, and infinities of the same sign, in the same places compare equal; a non-finite value on
    one side only fails. A leaf the reference has and JAX lacks, or of another shape, fails naming the
    leaf; a leaf only JAX keeps is not compared (:func:`check_structure` decides whether that is allowed).
    """
    steps = np.asarray(steps).reshape(-1)
    judged = _judge_leaves(ours, ref, len(steps), tol, envelope=envelope, truth=truth, terms=terms, spread=spread,
                           own=own, floor=floor)
    if isinstance(judged, tuple):  # a leaf missing, or of another shape or kind
        leaf, message = judged
        return _result(label, regime, tol, False, np.inf, np.inf, leaf, int(steps[0]), message, ratio=np.inf)
    worst = (-1.0, "", 0, 0.0, 0.0, 0.0, 0.0, 0.0)  # ratio, leaf, step, abs, rel, ours, ref, bound
    for leaf in judged:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_el = np.where(leaf.bound > 0, leaf.measured / leaf.bound, np.where(leaf.measured > 0, np.inf, 0.0))
        if ratio_el.size == 0:
            continue
        i, j = divmod(int(np.argmax(ratio_el)), ratio_el.shape[1])
        if ratio_el[i, j] > worst[0]:
            sc = leaf.scale[i]
            rel = leaf.measured[i, j] / sc if sc > 0 else (0.0 if leaf.measured[i, j] == 0 else np.inf)
            worst = (float(ratio_el[i, j]), leaf.name, int(steps[i]), float(leaf.measured[i, j]), float(rel),
                     float(leaf.ours[i, j]), float(leaf.ref[i, j]), float(np.broadcast_to(leaf.bound, ratio_el.shape)[i, j]))
    ratio, leaf, step, max_abs, max_rel, ov, rv, bd = worst
    ratio = max(ratio, 0.0)
    passed = ratio <= 1.0
    what = "JAX's distance from the float64 truth" if tol.judge == "truth" else "|Δ|"
    msg = (
        f"{label} {regime}: leaf '{leaf}' at step {step}: {what} = {max_abs:.3g} (rel {max_rel:.3g}), "
        f"bound {bd:.3g} ({ratio:.2f}x); jax {ov!r} vs ref {rv!r}; tolerance {tolerance_text(tol.as_dict())}"
        f" — {tol.reason}"
    )
    return _result(label, regime, tol, passed, max_abs, max_rel, leaf, step, msg, ratio=ratio)


@dataclass
class _Leaf:
    """One leaf judged (rows = steps): both sides as float64, what is measured, its bound, its magnitude."""

    name: str
    ours: np.ndarray
    ref: np.ndarray
    measured: np.ndarray
    bound: np.ndarray
    scale: np.ndarray  # the leaf's magnitude (truth) or the tree's (the other judges), per row


def _judge_leaves(ours: Tree, ref: Tree, n: int, tol: Tolerance, *, envelope: Tree | None = None,
                  truth: Tree | None = None, terms: Tree | None = None, spread: Tree | None = None,
                  own: Tree | None = None, floor: Tree | None = None) -> list[_Leaf] | tuple[str, str]:
    """Every leaf of ``ref`` judged by ``tol`` (see :func:`compare_trees`), or ``(leaf, message)`` for the
    first leaf missing from JAX's side or of another shape or kind."""
    # the run's precision: the coarsest float dtype of either side (a float64 leaf of a float32 run, such as
    # a running sum of float32 losses, carries float32 rounding; float64_drift holds JAX float32 to a float64 run)
    floats = [np.asarray(v).dtype for v in (*ref.values(), *ours.values()) if np.asarray(v).dtype.kind == "f"]
    run_eps = max((float(np.finfo(d).eps) for d in floats), default=0.0)
    run_tiny = max((float(np.finfo(d).tiny) for d in floats), default=0.0)
    scale = np.zeros(n)
    for k in ref:
        r = np.asarray(ref[k], dtype=np.float64).reshape(n, -1)
        scale = np.maximum(scale, np.where(np.isfinite(r), np.abs(r), 0.0).max(axis=1, initial=0.0))
    out = []
    for k in ref:
        if k not in ours:
            return k, f"leaf '{k}' is missing from the JAX side"
        o_raw, r_raw = np.asarray(ours[k]), np.asarray(ref[k])
        if o_raw.shape != r_raw.shape:
            return k, f"leaf '{k}' has shape {list(o_raw.shape[1:])} in JAX, {list(r_raw.shape[1:])} in the reference"
        if (o_raw.dtype.kind == "f") != (r_raw.dtype.kind == "f"):
            return k, f"leaf '{k}' is {o_raw.dtype} in JAX, {r_raw.dtype} in the reference"
        o, r = o_raw.astype(np.float64).reshape(n, -1), r_raw.astype(np.float64).reshape(n, -1)
        # eps: the run's machine epsilon. XLA's CPU flushes subnormal inputs and results to zero where torch
        # keeps them, so an element may differ by the few terms below the smallest normal number: FLUSH of those
        eps, tiny = (run_eps, FLUSH * run_tiny) if r_raw.dtype.kind == "f" else (0.0, 0.0)
        with np.errstate(invalid="ignore"):
            diff = np.abs(o - r)  # inf where one side is infinite, NaN for inf - inf
        same = (o == r) | (np.isnan(o) & np.isnan(r))  # equal values, equal infinities, NaN on both sides
        diff = np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))
        if tol.judge == "truth" and truth is not None:
            measured, bound, leaf_scale = _truth_bound(
                o, r, np.asarray(truth[k], dtype=np.float64).reshape(n, -1), same, tol, eps, tiny,
                None if spread is None else spread.get(k), scale, None if own is None else own.get(k),
                None if floor is None else floor.get(k))
        elif tol.judge == "terms" and terms is not None:
            bound = tol.atol + tiny + tol.ulps * eps * np.asarray(terms[k], dtype=np.float64).reshape(n, -1)
            measured, leaf_scale = diff, scale
        else:
            bound = tol.atol + tiny + tol.rtol * scale
            if envelope is not None and tol.factor:
                bound = bound + tol.factor * np.asarray(envelope[k], dtype=np.float64).reshape(n, -1).max(axis=1)
            measured, bound, leaf_scale = diff, bound[:, None], scale
        out.append(_Leaf(k, o, r, measured, bound, leaf_scale))
    return out


FLUSH = 4  # smallest normal numbers an element may differ by where one side flushes subnormals to zero


def _truth_bound(o: np.ndarray, r: np.ndarray, t: np.ndarray, same: np.ndarray, tol: Tolerance, eps: float,
                 tiny: float, spread: np.ndarray | None = None, tree_scale: np.ndarray | None = None,
                 own: np.ndarray | None = None, floor: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The truth judge for one leaf (rows = steps): JAX's distance from the truth per element, the bound per
    row (``factor`` × the reference's windowed error, or its rounding spread where given, + ``ulps`` eps of
    the leaf's magnitude, + ``rtol`` of the tree's magnitude ``tree_scale``, + ``own`` × JAX's own
    float32 rounding ``own``), and the leaf's magnitude.

    Why JAX's own rounding may be added: ``|jax32 - truth| <= |jax32 - jax64| + |jax64 - truth|``. The first
    term is JAX's rounding alone (its float64 evaluation of the same function at the same point): a port bug
    is in both evaluations and cancels there, so it cannot widen the bound; the second is the bug, if any.
    Where XLA sums less accurately than torch (a convolution's weight gradient over thousands of terms),
    this is what tells a less accurate order from a wrong formula."""
    n = len(t)
    leaf_scale = np.where(np.isfinite(t), np.abs(t), 0.0).max(axis=1, initial=0.0)
    with np.errstate(invalid="ignore"):
        err_j = np.where(same, np.abs(r - t), np.abs(o - t))  # equal bits: exactly the reference's error
        err_r = np.abs(r - t)
    err_j = np.where(np.isnan(err_j), np.where(same, 0.0, np.inf), err_j)
    err_r = np.where(np.isfinite(err_r), err_r, 0.0)
    env = _window_max(err_r.max(axis=1, initial=0.0), tol.window)
    if spread is not None:
        env = np.maximum(env, np.asarray(spread, dtype=np.float64).reshape(n))
    rel = tol.rtol * (leaf_scale if tree_scale is None else tree_scale)
    mine = 0.0 if own is None else tol.own * np.asarray(own, dtype=np.float64).reshape(n)
    if floor is not None:
        mine = mine + np.asarray(floor, dtype=np.float64).reshape(n)
    bound = (tol.atol + tiny + rel + tol.factor * env + mine + tol.ulps * eps * leaf_scale)[:, None]
    return err_j, bound, leaf_scale


def _window_max(x: np.ndarray, window: int) -> np.ndarray:
    """The running maximum of ``x`` over ``window`` rows either side of each row."""
    if window <= 0 or len(x) <= 1:
        return x
    padded = np.pad(x, window, constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1).max(axis=1)


def _result(label, regime, tol, passed, max_abs, max_rel, leaf, step, msg, *, ratio: float | None = None,
            note: str = "") -> RegimeResult:
    if not msg.startswith(label):
        msg = f"{label} {regime}: {msg}"
    if ratio is None:
        ratio = 0.0 if passed else np.inf
    return RegimeResult(regime, bool(passed), float(max_abs), float(max_rel), tol, leaf, int(step), msg,
                        float(ratio), note)


def compare_state(label: str, regime: str, example: TrainingExample, ours: Tree, ref: Tree, steps: np.ndarray,
                  tol: Tolerance, envelope: Tree | None = None, buffer_tol: Tolerance | None = None) -> RegimeResult:
    """Compare training states group by group.

    The parameters are one group, relative to their largest magnitude. Optimizer leaves are grouped
    by kind, the name's first part (``momentum_buffer.*``, ``exp_avg_sq.*``), each group relative
    to its own largest magnitude and held to ``buffer_tol`` when given (a buffer accumulates
    gradients, so one step changes it by a gradient and its difference is a gradient's difference).
    Integer leaves (step counts) must be equal.
    """
    param_keys = list(example.params_in(ref))
    groups: dict[str, list[str]] = {"params": param_keys}
    for k in ref:
        if k not in param_keys:
            groups.setdefault(k.split(".", 1)[0], []).append(k)
    parts = []
    for name, keys in groups.items():
        if all(np.issubdtype(np.asarray(ref[k]).dtype, np.integer) for k in keys):
            t = Tolerance(0.0, 0.0, "step counts are integers: equal or wrong")
        else:
            t = tol if name == "params" or buffer_tol is None else buffer_tol
        env = None if envelope is None else {k: envelope[k] for k in keys}
        parts.append(compare_trees(label, regime, {k: ours[k] for k in keys if k in ours}, {k: ref[k] for k in keys}, steps, t, env))
    return worst_of(regime, parts)


def worst_of(name: str, results: list[RegimeResult]) -> RegimeResult:
    """One regime made of several comparisons (e.g. loss and gradients): the failing or worst one."""
    failing = [r for r in results if not r.passed]
    pick = failing[0] if failing else max(results, key=lambda r: r.ratio)
    return dataclasses.replace(pick, name=name, passed=not failing, max_abs=max(r.max_abs for r in results))


def _batched(fn, data, *args, batch: int = 256):
    """``fn(data, *row)`` over the leading axis of ``args``, ``batch`` rows at a time (bounded memory).

    ``data`` is an argument of the compiled function, not a closure: captured arrays become constants
    that XLA tries to fold (E20's frozen ResNet backbone took ~20 s of constant folding that way).
    Compiled with the training loop's options (:func:`jaxport.training.jit`): what is checked is what is timed.
    """
    run = training.jit(lambda d, *a: jax.lax.map(lambda x: fn(d, *x), a, batch_size=batch), training.platform_of(data))
    return run(data, *args)


def _on_device(example: Example, data: Mapping[str, Any], dev: jax.Device) -> dict[str, jax.Array]:
    """The example's data on ``dev``, with its loop-invariant arrays (:attr:`Example.prepare`) added."""
    d = jax.device_put(data, dev)
    return d if example.prepare is None else training.jit(example.prepared, dev.platform)(d)


def reference_module(example: Example):
    """The example's reference module; for a torch one, torch is configured first (its threads)."""
    from jaxport import catalog

    module = catalog.reference_module(example.reference)  # a dotted name, or a user's .py file
    if getattr(module, "FRAMEWORK", None) == "torch":
        configure_torch()
    return module


def compare(
    example: Example,
    init: Mapping[str, np.ndarray],
    *,
    dtype: str | None = None,
    device: str = "cpu",
    steps: int | None = None,
    lr: float | None = None,
    placement: Placement | None = None,
    **config: Any,
) -> Comparison:
    """Run ``example`` in JAX and in its reference from the same initial values; check every regime.

    Args:
        init: initial values by name (any float dtype; cast to ``dtype`` for both frameworks).
        dtype, steps, lr, config: override the example's seed settings (``config``: fields of its
            own config, such as E08's ``seed`` for the drawn orders).
        placement: where JAX's own runs put their state and data (``placement(state, data) -> (state,
            data)``, e.g. :func:`jaxport.parallel.placement`, a batch sharded over a mesh): the free run and
            the states it is shadowed at run so placed; the verdict is the same as on one device.
    """
    overrides = {k: v for k, v in {"dtype": dtype, "steps": steps, "lr": lr, **config}.items() if v is not None}
    cfg = dataclasses.replace(example.config, **overrides)
    label = f"{example.label} [{cfg.dtype}/{device}]"
    ref_mod = reference_module(example)
    p0 = params_mod.cast(init, cfg.dtype)
    data = example.make_data(cfg)
    if example.kind == "values":
        return _compare_values(example, cfg, device, label, ref_mod, p0, data)

    recorded = record_steps(example, cfg, p0)
    at = recorded[sample_steps(len(recorded), SAME_POINT_SAMPLE)]  # the same-point sample
    # the update probe serves float32, where a parameter's rounding hides the update's low bits; a float64
    # step resolves the update to ~eps of the parameter already (teacher_forced's terms bound)
    with reference.probing(at if cfg.dtype == "float32" else ()), reference.recording(recorded):
        ref = ref_mod.train(p0, data, cfg, device=device, record=True)
    broken = check_structure(label, example, p0, ref, data, cfg)
    if broken is not None:
        return Comparison(example, cfg.dtype, device, ref_mod.FRAMEWORK, [broken], jax_seconds=0.0,
                          torch_seconds=ref.seconds, jax_losses=np.zeros(0), ref_losses=ref.losses)
    if placement is None:
        jax_run = training.train(example, p0, cfg, device=device)
    else:
        jax_run = training.train_placed(example, *placement(example.state(p0, cfg), data), cfg)
    ours = _Trajectory(jax_run.losses, jax_run.params)
    theirs = _Trajectory(ref.losses, ref.params)
    # float32: the reference's float64 step from its own states at the sampled steps, once, for both
    # regimes below (their loss and gradients for same_point, the state after for teacher_forced)
    truth64 = None if cfg.dtype != "float32" else reference_points(
        example, dataclasses.replace(cfg, dtype="float64"), device,
        {k: _as_float64(v) for k, v in example.params_in(ref.states_at(at)).items()}, at)
    regimes = [
        _same_point(example, cfg, device, label, ref, data, at, truth64),
        _teacher_forced(example, cfg, device, label, ref, data, recorded, at, truth64),
    ]
    drift = None
    # Optimizer buffers are accumulated gradients: held to the table's "buffers" entry, each kind relative to its own size
    def buffer_tol(regime: str) -> Tolerance | None:
        return None if is_override(example.id, cfg.dtype, regime, device) else tolerance(example.id, cfg.dtype, "buffers", device)

    if cfg.dtype == "float32":
        # The reference again in float64 from the same (float32-rounded) values: the "truth" that
        # tells rounding drift from a real difference.
        cfg64 = dataclasses.replace(cfg, dtype="float64")
        ref64 = ref_mod.train(params_mod.cast(p0, "float64"), example.make_data(cfg64), cfg64, device=device)
        truth = _Trajectory(ref64.losses, ref64.params)
        envelope = theirs.drift_from(truth)
        tol = tolerance(example.id, cfg.dtype, "float64_drift", device)
        drift = ours.check(label, "float64_drift", truth, tol, example, buffer_tol("float64_drift"), envelope)
    else:
        envelope = None
    regimes.append(ours.check(label, "free_running", theirs, tolerance(example.id, cfg.dtype, "free_running", device),
                              example, buffer_tol("free_running"), envelope))
    if drift is not None:
        regimes.append(drift)
    regimes = _shadow_verdict(example, cfg, device, label, p0, data, regimes, jax_run.losses, ref.losses, placement)
    return Comparison(
        example, cfg.dtype, device, ref_mod.FRAMEWORK, regimes,
        jax_seconds=jax_run.seconds, torch_seconds=ref.seconds,
        jax_losses=jax_run.losses, ref_losses=ref.losses,
        diagnosis=_diagnosis(example, cfg, ref, data, regimes),
    )


def _diagnosis(example: TrainingExample, cfg: Any, ref: RefRun, data: Mapping[str, Any],
               regimes: Sequence[RegimeResult]) -> tuple[str, ...]:
    """The example's ``diagnose`` at the first failing regime's step (torch's state there): where JAX's
    step parts from the reference's. Never fails the comparison itself: an error is a line."""
    failed = [r for r in regimes if not r.passed]
    if example.diagnose is None or not failed:
        return ()
    step = int(min(r.worst_step for r in failed))
    try:
        recorded = ref.state_steps
        t = int(recorded[np.searchsorted(recorded, step, side="right") - 1]) if recorded[0] <= step else int(recorded[0])
        state = {k: v[0] for k, v in ref.states_at(np.array([t])).items()}
        lines = example.diagnose(example.params_in(state), example.at_step(data, t), cfg)
        return (f"where it parts, at step {t} (torch's state there):", *lines)
    except Exception as e:  # a diagnosis is help, not a verdict
        return (f"where it parts: the diagnosis raised {type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}",)


def check_structure(label: str, example: TrainingExample, p0: Mapping[str, np.ndarray], ref: RefRun, data: Mapping[str, Any],
                    cfg: Any) -> RegimeResult | None:
    """A FAIL (regime ``structure``) naming the leaves where the two training states differ, checked before
    any regime feeds the reference's state to JAX; ``None`` when they agree.

    Every leaf the reference records must be in JAX's state with the same shape and dtype. A leaf only JAX
    keeps (bookkeeping the reference does not record, such as E17's ``running_loss``) is allowed as long as
    JAX's step (or its update alone) runs from the reference's state; where it does not (an optimizer with buffers
    torch does not have), that is the failure, naming those leaves.
    """
    ours = {k: np.asarray(v) for k, v in example.state(p0, cfg).items()}
    theirs = {k: np.asarray(v)[0] for k, v in ref.states.items()}
    only_jax = [k for k in ours if k not in theirs]
    problems: list[tuple[str, str]] = [(k, f"'{k}' only in the reference") for k in theirs if k not in ours]
    for k in (k for k in ours if k in theirs):
        o, r = ours[k], theirs[k]
        if o.shape != r.shape:
            problems.append((k, f"'{k}' shape {list(o.shape)} in JAX, {list(r.shape)} in the reference"))
        elif (o.dtype.kind == "f") != (r.dtype.kind == "f") or (r.dtype.kind == "f" and o.dtype != r.dtype):
            problems.append((k, f"'{k}' {o.dtype} in JAX, {r.dtype} in the reference"))
    if not problems:
        d = example.prepared(data)
        t = jnp.zeros((), jnp.int32)
        try:
            if example.has_update:
                jax.eval_shape(lambda s, g: example.apply(s, g, d, t, cfg), theirs, {k: v[0] for k, v in ref.grads.items()})
            else:
                jax.eval_shape(lambda s: example.train_step(s, d, t, cfg), theirs)
        except Exception as e:  # noqa: BLE001 - any failure to run from the reference's state is this verdict
            what = "update" if example.has_update else "step"
            first = str(e).splitlines()[0][:120] if str(e) else ""
            problems.append((only_jax[0] if only_jax else "", f"JAX's {what} cannot run from the reference's state "
                             f"({type(e).__name__}: {first})" + (f"; leaves only in JAX: {', '.join(only_jax[:8])}" if only_jax else "")))
    if not problems:
        return None
    tol = Tolerance(0.0, 0.0, "the two training states must have the same leaves, shapes and dtypes")
    return _result(label, "structure", tol, False, np.inf, np.inf, problems[0][0], 0,
                   "the training states differ: " + "; ".join(p for _, p in problems[:8]) + ("; ..." if len(problems) > 8 else ""),
                   ratio=np.inf)


def _shadow_verdict(example, cfg, device, label, p0, data, regimes: list[RegimeResult],
                    jax_losses: np.ndarray, ref_losses: np.ndarray, placement: "Placement | None" = None) -> list[RegimeResult]:
    """A free run that parts while every step-by-step regime passes is decided by shadowing.

    Rounding amplified by the dynamics (RMSprop dividing ~0 gradients by their own RMS, a
    pre-activation within ulps of a ReLU kink) parts two correct runs, so no bound on their distance
    can be both safe and tight. What can be checked is whether JAX's trajectory is a trajectory of
    the reference's dynamics: at ``SHADOW_SAMPLE`` of JAX's *own* states (every state of a run that
    short) the reference computes the loss and gradients, held to the same-point tolerance
    (:func:`shadow_same_point`); the optimizer's arithmetic is state-independent and was checked
    step by step (teacher_forced). If they agree, the parted regimes PASS with the note
    ``parted at step N, shadowed``; if not, they FAIL naming the state and leaf where JAX's run went
    wrong.
    """
    trajectory = ("free_running", "float64_drift")
    parted = [r.name for r in regimes if r.name in trajectory and not r.passed]
    if not parted or not all(r.passed for r in regimes if r.name not in trajectory):
        return regimes
    shadow = shadow_same_point(example, cfg, device, label, p0, data, placement)
    at = parted_at(jax_losses, ref_losses, tolerance(example.id, cfg.dtype, "free_running", device))
    samples = len(sample_steps(cfg.steps, SHADOW_SAMPLE))
    if shadow.passed:
        note = f"parted at step {at}, shadowed"
        why = (f"{note}: at {samples} of JAX's own states the reference computes the same loss and gradients "
               f"(worst {shadow.ratio:.2f}x of the same-point bound, {shadow.worst_leaf} at step {shadow.worst_step})")
        return [dataclasses.replace(r, passed=True, note=note, message=f"{r.message}. {why}") if r.name in parted else r
                for r in regimes]
    why = (f"parted at step {at}; at JAX's own state of step {shadow.worst_step} the reference's {shadow.worst_leaf} "
           f"differs by {shadow.ratio:.2f}x the same-point bound: the frameworks compute differently where JAX's "
           f"run goes ({shadow.message})")
    return [dataclasses.replace(r, note=f"parted at step {at}, not shadowed", message=f"{r.message}. {why}")
            if r.name in parted else r for r in regimes]


def parted_at(ours: np.ndarray, ref: np.ndarray, tol: Tolerance) -> int:
    """The first step whose losses differ by more than the free-running bound without an envelope."""
    a, b = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    with np.errstate(invalid="ignore"):
        off = ~(np.abs(a - b) <= tol.atol + tol.rtol * np.abs(b))
    return int(np.argmax(off)) if off.any() else len(b)


RECORD_LIMIT_BYTES = 10 * 2**30  # of this machine's 24 GB: the recorded trajectory and the copies made of it


def record_steps(example: TrainingExample, cfg: Any, p0: Mapping[str, np.ndarray]) -> np.ndarray:
    """The steps whose state, gradients and next state the reference keeps for the regimes: every step
    when the whole trajectory fits in memory, else an evenly spaced sample of as many as fit.

    The regimes hold up to about six float64-sized copies of what is recorded at once (the recording,
    its stacked arrays, their device copies, the teacher-forced states: E17's 120 steps, estimated
    5.3 GB so, peaked at 5.4 GB measured). A sampled step costs two states (before and after it) and a
    gradient; same_point and teacher_forced then check the sample, and the free run is whole as always
    (E17 ``--steps 300``: 151 of 300 steps under a 12 GiB budget peaked at 13.6 GB with float32's
    float64 rerun and the shadow states beside it, hence 10 GiB).
    """
    state = sum(int(np.size(v)) for v in example.state(p0, cfg).values())
    grads = sum(int(np.size(v)) for v in p0.values())
    if 6 * 8 * (cfg.steps + 1) * (state + grads) <= RECORD_LIMIT_BYTES:
        return np.arange(cfg.steps)
    per_step = 6 * 8 * (2 * state + grads)
    most = RECORD_LIMIT_BYTES // per_step
    if most < MIN_RECORDED:
        raise UsageError(f"{example.label}: one recorded step of this model holds ~{per_step / 2**20:.0f} MiB; "
                         f"the regimes need {MIN_RECORDED} of them (~{MIN_RECORDED * per_step / 2**30:.0f} GiB): "
                         f"expected a model of at most ~{RECORD_LIMIT_BYTES // (MIN_RECORDED * 6 * 8 * 3):,} values")
    return sample_steps(cfg.steps, int(most))


MIN_RECORDED = 16  # the fewest steps a comparison checks step by step


def _compare_values(example, cfg, device, label, ref_mod, p0, data) -> Comparison:
    """A demonstration example: every named value, leaf by leaf (each relative to its own size)."""
    import time

    dev = training.jax_device(device)
    start = time.perf_counter()
    ours = jax.tree.map(np.asarray, example.values(jax.device_put(p0, dev), jax.device_put(data, dev), cfg))
    jax_seconds = time.perf_counter() - start
    start = time.perf_counter()
    theirs = ref_mod.values(p0, data, cfg, device=device)
    ref_seconds = time.perf_counter() - start
    tol = tolerance(example.id, cfg.dtype, "values", device)
    keys = [k for k in theirs if k in ours]
    missing = sorted(set(ours) ^ set(theirs))

    def reference_at(dtype: str, pts: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The reference's values (a leading axis of one row) at ``pts``: "p:NAME" parameters, "d:NAME" data."""
        cfg_d = dataclasses.replace(cfg, dtype=dtype)
        got = ref_mod.values({k[2:]: v[0] for k, v in pts.items() if k.startswith("p:")},
                             {k[2:]: v[0] for k, v in pts.items() if k.startswith("d:")}, cfg_d, device=device)
        return {k: np.asarray(v)[None] for k, v in got.items()}

    def cast(dtype: str) -> dict[str, np.ndarray]:
        pts = {**{f"p:{k}": v for k, v in p0.items()}, **{f"d:{k}": v for k, v in data.items()}}
        return {k: v[None] for k, v in _floats_as(pts, np.dtype(dtype)).items()}

    truth, scaled, own = None, None, None
    if tol.judge == "truth" and cfg.dtype == "float32":  # the reference again in float64 at the same point and data
        truth = reference_at("float64", cast("float64"))
        cfg64 = dataclasses.replace(cfg, dtype="float64")
        ours64 = jax.tree.map(np.asarray, example.values(jax.device_put(_floats_as(p0, np.float64), dev),
                                                         jax.device_put(_floats_as(data, np.float64), dev), cfg64))
        own = own_rounding({k: np.asarray(ours[k]).reshape(1, -1) for k in keys},
                           {k: np.asarray(v).reshape(1, -1) for k, v in ours64.items()})
    elif tol.judge == "truth":  # float64: the reference is its own truth; float32's rounding, scaled, its envelope
        truth = {k: np.asarray(v)[None] for k, v in theirs.items()}
        scaled = scaled_float32_error({k: truth[k] for k in keys}, reference_at, cast("float64"))

    def judge(spread=None) -> list[RegimeResult]:
        return [compare_trees(label, "values", {k: np.asarray(ours[k])[None]}, {k: np.asarray(theirs[k])[None]}, np.array([0]),
                              tol, truth=None if truth is None else {k: np.asarray(truth[k]).reshape((1, *np.shape(theirs[k])))},
                              spread=None if spread is None else {k: spread[k]}, own=None if own is None else {k: own[k]})
                for k in keys]

    parts = judge(scaled)
    if truth is not None and not all(p.passed for p in parts):  # a kink, or a lucky draw? (rounding_spread)
        floats = [k for k in keys if np.asarray(truth[k]).dtype.kind == "f"]
        spread = rounding_spread(truth={k: np.asarray(truth[k]).reshape(1, -1) for k in floats},
                                 evaluate=lambda pts: reference_at(cfg.dtype, pts), points=cast(cfg.dtype))
        both = {k: np.maximum(spread.get(k, np.zeros(1)), 0.0 if scaled is None else scaled.get(k, np.zeros(1))) for k in keys}
        parts = judge(both)
        if all(p.passed for p in parts):
            parts = [dataclasses.replace(p, note="within the reference's rounding spread") for p in parts]
    if missing:
        parts.append(_result(label, "values", tol, False, np.inf, np.inf, missing[0], 0,
                             f"value '{missing[0]}' is produced by only one framework"))
    return Comparison(example, cfg.dtype, device, ref_mod.FRAMEWORK, [worst_of("values", parts)],
                      jax_seconds=jax_seconds, torch_seconds=ref_seconds,
                      jax_losses=np.zeros(0), ref_losses=np.zeros(0))


@dataclass
class _Trajectory:
    """A free run: the loss at every step (steps 0..T-1) and the final parameters (step T)."""

    losses: np.ndarray
    params: Tree

    def trees(self) -> tuple[dict, dict]:
        return {"loss": np.asarray(self.losses)}, {k: np.asarray(v)[None] for k, v in self.params.items()}

    def drift_from(self, truth: "_Trajectory") -> tuple[dict, dict]:
        """|self - truth|, as a running maximum over steps: the rounding envelope."""
        (la, pa), (lb, pb) = self.trees(), truth.trees()
        loss = np.maximum.accumulate(np.abs(la["loss"].astype(np.float64) - lb["loss"]))
        return {"loss": loss}, {k: np.abs(pa[k].astype(np.float64) - pb[k]) for k in pa}

    def check(self, label, regime, ref: "_Trajectory", tol: Tolerance, example: TrainingExample, buffer_tol: Tolerance | None,
              envelope=None) -> RegimeResult:
        (lo, po), (lr, pr) = self.trees(), ref.trees()
        steps = len(lr["loss"])
        env_l, env_p = envelope if envelope is not None else (None, None)
        return worst_of(regime, [
            compare_trees(label, regime, lo, lr, np.arange(steps), tol, env_l),
            compare_state(label, regime, example, po, pr, np.array([steps]), tol, env_p, buffer_tol=buffer_tol),
        ])


SAME_POINT_SAMPLE = 500  # float32 same-point steps checked against a float64 reference evaluation


def sample_steps(steps: int, limit: int) -> np.ndarray:
    """All of ``range(steps)`` if it has at most ``limit`` steps, else ``limit`` evenly spaced ones (first and last included)."""
    if steps <= limit:
        return np.arange(steps)
    return np.unique(np.linspace(0, steps - 1, limit).round().astype(int))


def _same_point(example, cfg, device, label, ref: RefRun, data, steps: np.ndarray,
                truth64: Tree | None = None) -> RegimeResult:
    """JAX's loss and gradients at torch's parameters, at ``steps`` (a sample of ``SAME_POINT_SAMPLE``).

    Judged leaf by leaf against the truth (:func:`_same_point_at`): in float32 the reference's float64
    evaluation of the same parameters (``truth64``, :func:`reference_points` at those steps, computed
    here when not given), in float64 the reference itself with float32's error scaled. The truth never
    comes from the JAX side, so a wrong JAX gradient cannot widen its own bound.
    """
    states = ref.states_at(steps)
    theirs = {"loss": ref.losses[steps], **{f"grad[{k}]": v for k, v in ref.grads_at(steps).items()}}
    return _same_point_at(example, cfg, device, label, states, theirs, steps, data, truth64)


def _same_point_at(example, cfg, device, label, states, theirs, steps, data, truth64: Tree | None = None) -> RegimeResult:
    """JAX's loss and gradients at ``states`` (a leading axis of sampled steps ``steps``) against
    the reference's ``theirs`` there; in float32 held to the reference's own float64 error (above)."""
    dev = training.jax_device(device)
    d = _on_device(example, data, dev)
    ts = jnp.asarray(steps, dtype=jnp.int32)
    loss, grads = _batched(lambda dd, p, t: example.loss_and_grad(example.params_in(p), example.at_step(dd, t)), d,
                           jax.device_put(states, dev), ts)
    ours = {"loss": np.asarray(loss), **{f"grad[{k}]": np.asarray(v) for k, v in grads.items()}}
    truth = own = None
    if cfg.dtype == "float32":
        if truth64 is None:
            truth64 = reference_points(example, dataclasses.replace(cfg, dtype="float64"), device,
                                       {k: _as_float64(v) for k, v in example.params_in(states).items()}, steps)
        truth = {k: v for k, v in truth64.items() if k in theirs}
        d64 = _on_device(example, _floats_as(data, np.float64), dev)
        loss64, grads64 = _batched(lambda dd, p, t: example.loss_and_grad(example.params_in(p), example.at_step(dd, t)),
                                   d64, jax.device_put({k: _as_float64(v) for k, v in states.items()}, dev), ts)
        own = own_rounding(ours, {"loss": np.asarray(loss64), **{f"grad[{k}]": np.asarray(v) for k, v in grads64.items()}})
    tol = tolerance(example.id, cfg.dtype, "same_point", device)
    envelope = None
    if cfg.dtype == "float64":  # the reference is its own truth; its rounding is float32's, measured here, scaled
        truth = theirs
        scaled = scaled_float32_error(theirs, lambda dtype, pts: reference_points(
            example, dataclasses.replace(cfg, dtype=dtype), device, pts, steps), example.params_in(states))
        scaled = {k: v for k, v in scaled.items() if k in theirs}
        envelope = {k: _window_max(v, tol.window) for k, v in scaled.items()}
    result = compare_trees(label, "same_point", ours, theirs, steps, tol, truth=truth, spread=envelope, own=own)
    if result.passed:
        return result
    # a kink decided by rounding, or a lucky draw of the reference's error: its spread under perturbations
    rows = _over_rows(ours, theirs, truth, steps, tol, envelope, own)
    if not len(rows):
        return result
    spread_rows = rounding_spread(
        truth={k: v[rows] for k, v in truth.items()},
        evaluate=lambda pts: {k: v for k, v in reference_points(example, cfg, device, pts, steps[rows]).items() if k in truth},
        points={k: v[rows] for k, v in example.params_in(states).items()})
    spread = {k: np.zeros(len(steps)) if envelope is None else envelope[k].copy() for k in truth}
    for k in spread:
        spread[k][rows] = np.maximum(spread[k][rows], spread_rows[k])
    return _with_spread(compare_trees(label, "same_point", ours, theirs, steps, tol, truth=truth, spread=spread, own=own),
                        steps[rows])


def _floats_as(tree: Mapping[str, Any], dtype) -> dict[str, np.ndarray]:
    """``tree`` with its floating arrays cast to ``dtype`` (integers, such as labels, as they are)."""
    return {k: (np.asarray(v).astype(dtype) if np.asarray(v).dtype.kind == "f" else np.asarray(v)) for k, v in tree.items()}


def _row_distance(a: Any, b: Any, n: int) -> np.ndarray:
    """The largest finite ``|a - b|`` in each of ``n`` rows."""
    with np.errstate(invalid="ignore"):
        d = np.abs(np.asarray(a, np.float64).reshape(n, -1) - np.asarray(b, np.float64).reshape(n, -1))
    return np.where(np.isfinite(d), d, 0.0).max(axis=1, initial=0.0)


def own_rounding(ours: Tree, ours64: Tree) -> dict[str, np.ndarray]:
    """JAX's own float32 rounding per leaf and row: the largest ``|jax32 - jax64|`` (the same function, the
    same point, evaluated in float64 by JAX itself)."""
    return {k: (_row_distance(v, ours64[k], len(np.asarray(v))) if k in ours64 and np.asarray(v).dtype.kind == "f"
                else np.zeros(len(np.asarray(v)))) for k, v in ours.items()}


def scaled_float32_error(theirs: Tree, evaluate, points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A float64 evaluation's rounding, estimated from float32's: the reference evaluates ``points`` rounded to
    float32 in float32 and in float64 (``evaluate(dtype, points)``), and its float32 error per leaf and row,
    times eps64/eps32, is what float64 rounding does at that point. Rounding errors are linear in the unit
    roundoff, and the point's conditioning (how far its terms cancel) is the same in both precisions."""
    p32 = _floats_as(points, np.float32)  # parameters, and data where given: each rounded to float32
    r32 = evaluate("float32", p32)
    t32 = evaluate("float64", _floats_as(p32, np.float64))
    scale = float(np.finfo(np.float64).eps / np.finfo(np.float32).eps)
    return {k: (scale * _row_distance(r32[k], t32[k], len(np.asarray(theirs[k])))
                if k in r32 and np.asarray(r32[k]).dtype.kind == "f" else np.zeros(len(np.asarray(theirs[k]))))
            for k in theirs}


SPREAD_DRAWS = 8  # rounding-sized perturbations of the parameters at which the reference is asked again
SPREAD_EPS = 8.0  # their size: relative, in machine epsilons of the run's dtype
SPREAD_ROWS = 32  # at most this many failing steps are re-examined


def rounding_spread(truth: Tree, evaluate, points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """How far the reference itself lands from the float64 ``truth`` when its inputs move by rounding.

    A float32 evaluation is the exact evaluation of a point within a few roundings of its inputs. Where a
    ReLU pre-activation (or any kink) lies within rounding of zero, which side each framework takes is
    decided by rounding, and the gradient jumps by that unit's whole contribution: JAX's value is then a
    faithful evaluation of the point although it is far from the truth. So the reference evaluates
    ``SPREAD_DRAWS`` copies of ``points`` (each row one point; parameters, and for a values example its
    data) with every float moved toward zero by ``SPREAD_EPS`` eps times a half-normal draw (seeded, so
    the verdict is deterministic; toward zero, so that an input confined to a range stays in it); the largest
    distance from the truth per leaf and row is the reference's spread under rounding, which the verdict
    may use in place of its error at the point itself. A port error is not rounding: no perturbation of
    that size produces it.
    """
    rng = np.random.default_rng(0)
    out = {k: np.zeros(len(next(iter(truth.values())))) for k in truth}
    for _ in range(SPREAD_DRAWS):
        moved = {}
        for k, v in points.items():
            v = np.asarray(v)
            eps = float(np.finfo(v.dtype).eps) if v.dtype.kind == "f" else 0.0
            # toward zero only: an input confined to a range (a probability, a target in [0, 1]) stays in it
            moved[k] = (v * (1 - SPREAD_EPS * eps * np.abs(rng.standard_normal(v.shape)))).astype(v.dtype) if eps else v
        got = evaluate(moved)
        for k in truth:
            out[k] = np.maximum(out[k], _row_distance(got[k], truth[k], len(out[k])))
    return out


def _over_rows(ours, theirs, truth, steps, tol, envelope: Tree | None = None, own: Tree | None = None) -> np.ndarray:
    """The rows (sampled steps) where some leaf exceeds its truth bound, at most ``SPREAD_ROWS`` of them
    (none where a leaf is missing or misshapen: that failure is not a matter of rounding)."""
    judged = _judge_leaves(ours, theirs, len(steps), tol, truth=truth, spread=envelope, own=own)
    if isinstance(judged, tuple):
        return np.zeros(0, dtype=int)
    over = np.zeros(len(steps), dtype=bool)
    for leaf in judged:
        over |= (leaf.measured > leaf.bound).any(axis=1)
    return np.flatnonzero(over)[:SPREAD_ROWS]


def _with_spread(result: RegimeResult, at: np.ndarray) -> RegimeResult:
    """A verdict reached with the reference's rounding spread says so (its note, and its message)."""
    where = f"step {int(at[0])}" if len(at) == 1 else f"{len(at)} steps from step {int(at[0])}"
    note = f"kink at {where}: within the reference's rounding spread"
    if result.passed:
        return dataclasses.replace(result, note=note, message=f"{result.message}. {note}")
    return dataclasses.replace(result, message=f"{result.message}. Beyond the reference's own spread under "
                               f"rounding-sized perturbations at {where} too: not a kink decided by rounding")


SHADOW_SAMPLE = 250  # JAX states of a parted free run at which the reference is asked for its gradients


def jax_states_at(example: TrainingExample, cfg: Any, device: str, p0: Mapping[str, np.ndarray], data: Mapping[str, Any],
                  steps: np.ndarray, placement: Placement | None = None) -> dict[str, np.ndarray]:
    """JAX's own training state before each of ``steps`` (increasing): one free run from ``p0`` (cast to ``cfg.dtype``),
    compiled in segments that end at those steps (the same loop as :func:`jaxport.training.train`), its state
    and data placed by ``placement`` where given."""
    state = example.state(params_mod.cast(p0, cfg.dtype), cfg)
    if placement is None:
        dev = training.jax_device(device)
        d = jax.device_put(data, dev)
        state = jax.device_put(state, dev)
    else:
        state, d = placement(state, data)
    out, t = [], 0
    for s in np.asarray(steps).tolist():
        if s > t:
            state, _ = training.scan_steps(example.train_step, cfg, state, d, jnp.asarray(t, jnp.int32), s - t, True,
                                           example.prepare)
            t = s
        out.append({k: np.asarray(v) for k, v in state.items()})
    return {k: np.stack([o[k] for o in out]) for k in out[0]}


def shadow_same_point(example: TrainingExample, cfg: Any, device: str, label: str, p0: Mapping[str, np.ndarray],
                      data: Mapping[str, Any], placement: Placement | None = None) -> RegimeResult:
    """The same-point check along *JAX's* trajectory: at ``SHADOW_SAMPLE`` of JAX's own states the
    reference computes the loss and gradients (one-step recorded runs), held to the same-point tolerance.

    The same-point and teacher-forced regimes walk torch's trajectory. When a free run still parts,
    this says whether the two frameworks also agree where JAX went: if they do, each trajectory is a
    faithful run of the same step, and the runs part because the dynamics amplify rounding (a chaotic
    stretch, or a ReLU kink that one run crosses and the other does not).
    """
    steps = sample_steps(cfg.steps, SHADOW_SAMPLE)
    states = jax_states_at(example, cfg, device, p0, data, steps, placement)
    theirs = {k: v for k, v in reference_points(example, cfg, device, example.params_in(states), steps).items()
              if not k.startswith("next[")}
    return _same_point_at(example, cfg, device, label, states, theirs, steps, data)


def reference_points(example: TrainingExample, cfg: Any, device: str, points: Mapping[str, np.ndarray],
                     steps: np.ndarray) -> dict[str, np.ndarray]:
    """The reference's loss and gradients at given parameters: ``points[k][i]`` at step ``steps[i]``
    (that step's data), each a one-step recorded run in ``cfg.dtype``. Keys as the same-point regime's,
    ``loss`` and ``grad[name]``, and the state after that step, ``next[name]``."""
    ref_mod = reference_module(example)
    cfg1 = dataclasses.replace(cfg, steps=1)
    data = example.make_data(cfg)
    with reference.probing(()):  # loss and gradients only
        runs = [ref_mod.train({k: v[i] for k, v in points.items()},
                              {k: (v[t:t + 1] if k in example.per_step else v) for k, v in data.items()},
                              cfg1, device=device, record=True)
                for i, t in enumerate(np.asarray(steps).tolist())]
    return {"loss": np.array([r.losses[0] for r in runs]),
            **{f"grad[{k}]": np.stack([r.grads[k][0] for r in runs]) for k in runs[0].grads},
            **{f"next[{k}]": np.stack([r.params[k] for r in runs]) for k in runs[0].params}}


def _as_float64(v: np.ndarray) -> np.ndarray:
    """Floating leaves in float64; integer leaves (step counts) as they are."""
    return v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v


def update_terms(before: Tree, after: Tree, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Element by element, the magnitude of the terms one optimizer step computes each leaf of ``after`` from.

    A leaf's new value is made of terms no larger than its old and new values (``β·m + (1-β)·g``:
    ``|g| <= |m_t+1| + β|m_t|``), except where a parameter's update carries a buffer that cancelled: SGD's
    ``buf = 0.9·buf + g`` with ``buf`` and ``g`` of a thousand and opposite signs leaves a buffer of a few
    units, rounded at the thousand's ulp, and ``p - lr·buf`` carries that error, far above ``p``'s own
    (E08 seed 5, step 20157: ``buf`` 1039 → 6.68, ``e`` ~1e-7). So a parameter's terms also include its
    step ``|p_t+1 - p_t|`` times each of its buffers' cancellation ``max(|b_t|, |b_t+1|) / |b_t+1|`` (the
    buffers named ``field.<param>``: ``momentum_buffer.e``, ``exp_avg.fc1.weight``); 1 where none cancels.
    """
    terms = {k: np.maximum(np.abs(before[k]), np.abs(after[k])) for k in after}
    for k in names:
        if k not in after or np.asarray(after[k]).dtype.kind != "f":
            continue
        p_old, p_new = np.asarray(before[k], np.float64), np.asarray(after[k], np.float64)
        for b in after:
            new = np.asarray(after[b])
            if b == k or not b.endswith("." + k) or new.dtype.kind != "f" or new.shape != p_new.shape:
                continue
            old, new64 = np.abs(np.asarray(before[b], np.float64)), np.abs(new.astype(np.float64))
            kappa = np.maximum(old, new64) / np.maximum(new64, np.finfo(new.dtype).tiny)
            terms[k] = np.maximum(terms[k], kappa * np.abs(p_new - p_old))
    return terms


def _teacher_forced(example, cfg, device, label, ref: RefRun, data, recorded: np.ndarray, at: np.ndarray,
                    truth64: Tree | None = None) -> RegimeResult:
    """One JAX step from torch's state at step t, against torch's state at step t+1, at every recorded
    step (every step, unless the run is too long to record whole: :func:`record_steps`); ``at`` is the
    same-point sample, where ``truth64`` was evaluated.

    An example whose update stands alone (``TrainingExample.has_update``: an optimizer, or an ``update``)
    gets torch's own gradient of step t too, so the regime checks the optimizer's arithmetic by itself, each element
    to a few roundings of its terms (tolerances, ``terms``). Where the reference probed its update
    (``RefRun.updates``), the update itself is checked too, at full precision: JAX's update from
    torch's state with the parameters at zero, against the reference's float64 truth of the same
    probe (``update`` entry). Otherwise the whole step runs (key ``step``); its buffers, which change
    by a gradient, are held to the same-point tolerance.
    """
    dev = training.jax_device(device)
    states, nxt, grads = ref.states_at(recorded), ref.states_at(recorded + 1), ref.grads_at(recorded)
    d = _on_device(example, data, dev)
    ts = jnp.asarray(recorded, dtype=jnp.int32)
    steps = recorded + 1
    rows = np.searchsorted(recorded, at)  # the same-point sample's rows among the recorded steps
    if not example.has_update:
        new, _ = _batched(lambda dd, p, t: example.train_step(p, dd, t, cfg), d, jax.device_put(states, dev), ts)
        new = {k: np.asarray(v) for k, v in new.items()}
        tol = tolerance(example.id, cfg.dtype, "step", device)
        if tol.judge == "truth" and cfg.dtype == "float32" and set(example.params_in(states)) == set(states):
            # the state is the parameters: the reference's float64 step from the same state is the truth
            truth = truth64 if truth64 is not None else reference_points(
                example, dataclasses.replace(cfg, dtype="float64"), device, {k: _as_float64(v[rows]) for k, v in states.items()}, at)
            return compare_trees(label, "teacher_forced", {k: v[rows] for k, v in new.items()}, {k: v[rows] for k, v in nxt.items()},
                                 at + 1, tol, truth={k: truth[f"next[{k}]"] for k in nxt})
        if tol.judge == "truth":  # a state beyond the parameters (buffers a forward pass moves): the reference's rule
            tol = tolerance(example.id, cfg.dtype, "step_state", device)
        return compare_state(label, "teacher_forced", example, new, nxt, steps, tol,
                             buffer_tol=tolerance(example.id, cfg.dtype, "buffers", device))
    apply = lambda dd, p, g, t: example.apply(p, g, dd, t, cfg)  # noqa: E731
    new = _batched(apply, d, jax.device_put(states, dev), jax.device_put(grads, dev), ts)
    terms = update_terms(states, nxt, list(example.params_in(states)))
    parts = [compare_trees(label, "teacher_forced", {k: np.asarray(v) for k, v in new.items()}, nxt, steps,
                           tolerance(example.id, cfg.dtype, "teacher_forced", device), terms=terms)]
    if ref.updates is not None and cfg.dtype == "float32":
        at = np.asarray(ref.update_steps)
        names = list(example.params_in(states))
        before = ref.states_at(at)
        probe = {k: (np.zeros_like(v) if k in names else v) for k, v in before.items()}
        out = _batched(apply, d, jax.device_put(probe, dev), jax.device_put(ref.grads_at(at), dev),
                       jnp.asarray(at, jnp.int32))
        mine = example.params_in(out)
        # an update error below eps² of its parameter could not show in the parameter within 1/eps steps:
        # that is not what the probe is for (XLA flushing a subnormal second moment changes such updates)
        floor = {f"update.{k}": float(np.finfo(np.float32).eps) ** 2
                 * np.abs(before[k].astype(np.float64)).reshape(len(at), -1).max(axis=1, initial=0.0) for k in names}
        parts.append(compare_trees(
            label, "teacher_forced", {f"update.{k}": np.asarray(mine[k]) for k in names},
            {f"update.{k}": ref.updates[f"update.{k}"] for k in names}, at,
            tolerance(example.id, cfg.dtype, "update", device),
            truth={f"update.{k}": ref.updates[f"update64.{k}"] for k in names}, floor=floor))
    return worst_of("teacher_forced", parts)
