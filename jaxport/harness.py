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
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxport import params as params_mod
from jaxport import training
from jaxport.spec import Example, RefRun
from jaxport.errors import UsageError
from jaxport.tolerances import Tolerance, is_override, tolerance

Tree = Mapping[str, np.ndarray]


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

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "passed": self.passed,
            "max_abs": self.max_abs,
            "max_rel": self.max_rel,
            "tolerance": self.tolerance.as_dict(),
            "worst_leaf": self.worst_leaf,
            "worst_step": self.worst_step,
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
        }


def compare_trees(
    label: str,
    regime: str,
    ours: Tree,
    ref: Tree,
    steps: np.ndarray,
    tol: Tolerance,
    envelope: Tree | None = None,
) -> RegimeResult:
    """Compare trees whose leaves have a leading step axis (``steps`` gives each row's step number).

    Passes when every ``|ours - ref| <= atol + rtol * scale + factor * envelope`` (see tolerances).
    The scale is the largest finite |ref|. NaNs, and infinities of the same sign, in the same places
    compare equal; a non-finite value on one side only fails.
    """
    steps = np.asarray(steps).reshape(-1)
    scale = np.zeros(len(steps))
    for k in ref:
        r = np.asarray(ref[k], dtype=np.float64).reshape(len(steps), -1)
        scale = np.maximum(scale, np.where(np.isfinite(r), np.abs(r), 0.0).max(axis=1, initial=0.0))
    worst = (-1.0, "", 0, 0.0, 0.0, 0.0, 0.0)  # ratio, leaf, step, abs, rel, ours, ref
    for k in ref:
        if k not in ours:
            return _result(label, regime, tol, False, np.inf, np.inf, k, int(steps[0]), f"leaf '{k}' is missing from the JAX side")
        o = np.asarray(ours[k], dtype=np.float64)
        r = np.asarray(ref[k], dtype=np.float64)
        if o.shape != r.shape:
            return _result(
                label, regime, tol, False, np.inf, np.inf, k, int(steps[0]),
                f"leaf '{k}' has shape {list(o.shape[1:])} in JAX, {list(r.shape[1:])} in the reference",
            )
        o, r = o.reshape(len(steps), -1), r.reshape(len(steps), -1)
        with np.errstate(invalid="ignore"):
            diff = np.abs(o - r)  # inf where one side is infinite, NaN for inf - inf
        same = (o == r) | (np.isnan(o) & np.isnan(r))  # equal values, equal infinities, NaN on both sides
        diff = np.where(same, 0.0, np.where(np.isnan(diff), np.inf, diff))
        bound = tol.atol + tol.rtol * scale
        if envelope is not None and tol.factor:
            bound = bound + tol.factor * np.asarray(envelope[k], dtype=np.float64).reshape(len(steps), -1).max(axis=1)
        leaf_max = diff.max(axis=1, initial=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(bound > 0, leaf_max / bound, np.where(leaf_max > 0, np.inf, 0.0))
        i = int(np.argmax(ratio))
        if ratio[i] > worst[0]:
            j = int(np.argmax(diff[i]))
            rel = leaf_max[i] / scale[i] if scale[i] > 0 else (0.0 if leaf_max[i] == 0 else np.inf)
            worst = (float(ratio[i]), k, int(steps[i]), float(leaf_max[i]), float(rel), float(o[i, j]), float(r[i, j]))
    ratio, leaf, step, max_abs, max_rel, ov, rv = worst
    passed = ratio <= 1.0
    msg = (
        f"{label} {regime}: leaf '{leaf}' at step {step}: |Δ| = {max_abs:.3g} (rel {max_rel:.3g}); "
        f"jax {ov!r} vs ref {rv!r}; tolerance rtol={tol.rtol:g} atol={tol.atol:g}"
        + (f" factor={tol.factor:g}×envelope" if tol.factor else "")
        + f" — {tol.reason}"
    )
    return _result(label, regime, tol, passed, max_abs, max_rel, leaf, step, msg)


def _result(label, regime, tol, passed, max_abs, max_rel, leaf, step, msg) -> RegimeResult:
    if not msg.startswith(label):
        msg = f"{label} {regime}: {msg}"
    return RegimeResult(regime, bool(passed), float(max_abs), float(max_rel), tol, leaf, int(step), msg)


def compare_state(label: str, regime: str, example: Example, ours: Tree, ref: Tree, steps: np.ndarray,
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
    pick = failing[0] if failing else max(results, key=lambda r: r.max_rel)
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
    return importlib.import_module(example.reference)


def compare(
    example: Example,
    init: Mapping[str, np.ndarray],
    *,
    dtype: str | None = None,
    device: str = "cpu",
    steps: int | None = None,
    lr: float | None = None,
    **config: Any,
) -> Comparison:
    """Run ``example`` in JAX and in its reference from the same initial values; check every regime.

    Args:
        init: initial values by name (any float dtype; cast to ``dtype`` for both frameworks).
        dtype, steps, lr, config: override the example's seed settings (``config``: fields of its
            own config, such as E08's ``seed`` for the drawn orders).
    """
    overrides = {k: v for k, v in {"dtype": dtype, "steps": steps, "lr": lr, **config}.items() if v is not None}
    cfg = dataclasses.replace(example.config, **overrides)
    label = f"{example.label} [{cfg.dtype}/{device}]"
    ref_mod = reference_module(example)
    p0 = params_mod.cast(init, cfg.dtype)
    data = example.make_data(cfg)
    if example.kind == "values":
        return _compare_values(example, cfg, device, label, ref_mod, p0, data)

    check_record_size(example, cfg, p0)
    ref = ref_mod.train(p0, data, cfg, device=device, record=True)
    jax_run = training.train(example, p0, cfg, device=device)
    ours = _Trajectory(jax_run.losses, jax_run.params)
    theirs = _Trajectory(ref.losses, ref.params)
    regimes = [
        _same_point(example, cfg, device, label, ref, data),
        _teacher_forced(example, cfg, device, label, ref, data),
    ]
    drift = None
    # Optimizer buffers are accumulated gradients: held to the gradients' (same-point) tolerance,
    # unless the example has its own entry for the regime (a chaotic run: it covers the whole state).
    def buffer_tol(regime: str) -> Tolerance | None:
        return None if is_override(example.id, cfg.dtype, regime, device) else tolerance(example.id, cfg.dtype, "same_point", device)

    if cfg.dtype == "float32":
        # The reference again in float64 from the same (float32-rounded) values: the "truth" that
        # tells rounding drift from a real difference.
        cfg64 = dataclasses.replace(cfg, dtype="float64")
        ref64 = ref_mod.train(params_mod.cast(p0, "float64"), example.make_data(cfg64), cfg64, device=device)
        truth = _Trajectory(ref64.losses, ref64.params)
        envelope = theirs.drift_from(truth)
        tol = tolerance(example.id, cfg.dtype, "float64_drift", device)
        drift = ours.check(label, "float64_drift", truth, tol, example, buffer_tol("float64_drift"), envelope)
    elif tolerance(example.id, cfg.dtype, "free_running", device).factor:
        # A chaotic float64 run has nothing more precise to be judged against; its envelope is the
        # spread between the reference's own float32 and float64 runs (the same quantity a float32
        # comparison uses): how far rounding alone carries this trajectory.
        cfg32 = dataclasses.replace(cfg, dtype="float32")
        ref32 = ref_mod.train(params_mod.cast(p0, "float32"), example.make_data(cfg32), cfg32, device=device)
        envelope = _Trajectory(ref32.losses, ref32.params).drift_from(theirs)
    else:
        envelope = None
    regimes.append(ours.check(label, "free_running", theirs, tolerance(example.id, cfg.dtype, "free_running", device),
                              example, buffer_tol("free_running"), envelope))
    if drift is not None:
        regimes.append(drift)
    regimes = _diagnose_parting(example, cfg, device, label, p0, data, regimes)
    return Comparison(
        example, cfg.dtype, device, ref_mod.FRAMEWORK, regimes,
        jax_seconds=jax_run.seconds, torch_seconds=ref.seconds,
        jax_losses=jax_run.losses, ref_losses=ref.losses,
    )


def _diagnose_parting(example, cfg, device, label, p0, data, regimes: list[RegimeResult]) -> list[RegimeResult]:
    """A free run that parts while every step-by-step regime passes gets :func:`shadow_same_point`'s
    diagnosis appended to its failure messages. The verdict stays: the regime still fails."""
    trajectory = ("free_running", "float64_drift")
    parted = [r.name for r in regimes if r.name in trajectory and not r.passed]
    if not parted or not all(r.passed for r in regimes if r.name not in trajectory):
        return regimes
    note = shadow_text(shadow_same_point(example, cfg, device, label, p0, data), len(sample_steps(cfg.steps, SHADOW_SAMPLE)))
    return [dataclasses.replace(r, message=f"{r.message}. {note}") if r.name in parted else r for r in regimes]


RECORD_LIMIT_BYTES = 12 * 2**30  # of this machine's 24 GB: the recorded trajectory and the copies made of it


def check_record_size(example: Example, cfg: Any, p0: Mapping[str, np.ndarray]) -> None:
    """Refuse, before anything runs, a comparison whose recorded trajectory would not fit in memory.

    The reference keeps its whole state and every gradient at each step; the regimes hold up to about six
    float64-sized copies of that at once (the recording, its stacked arrays, their device copies, the
    teacher-forced states: E17's 120 steps, estimated 5.3 GB so, peaked at 5.4 GB measured).
    """
    values = sum(int(np.size(v)) for v in example.state(p0).values()) + sum(int(np.size(v)) for v in p0.values())
    per_step = 6 * 8 * values
    need = per_step * (cfg.steps + 1)
    if need > RECORD_LIMIT_BYTES:
        most = RECORD_LIMIT_BYTES // per_step - 1
        raise UsageError(f"{example.label}: comparing {cfg.steps} steps records every step's state and gradients, "
                         f"~{need / 2**30:.0f} GiB: expected --steps {most} or fewer")


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
    missing = sorted(set(ours) ^ set(theirs))
    parts = [compare_trees(label, "values", {k: np.asarray(ours[k])[None]}, {k: np.asarray(theirs[k])[None]}, np.array([0]), tol)
             for k in theirs if k in ours]
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

    def check(self, label, regime, ref: "_Trajectory", tol: Tolerance, example: Example, buffer_tol: Tolerance | None,
              envelope=None) -> RegimeResult:
        (lo, po), (lr, pr) = self.trees(), ref.trees()
        steps = len(lr["loss"])
        env_l, env_p = envelope if envelope is not None else (None, None)
        if env_l is not None and tol.lookahead:  # the burst's onset jitters by a few steps (tolerances.Tolerance)
            ahead = np.minimum(np.arange(steps) + tol.lookahead, steps - 1)
            env_l = {k: np.asarray(v)[ahead] for k, v in env_l.items()}
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


def _same_point(example, cfg, device, label, ref: RefRun, data) -> RegimeResult:
    """JAX's loss and gradients at torch's parameters, step by step.

    float64: every step. float32: late in a run the gradients are sums of terms that cancel to a
    small fraction of their size, so both frameworks' rounding error is large relative to the
    result. On a sample of ``SAME_POINT_SAMPLE`` steps the *reference* evaluates the same float32
    parameters in float64 (a one-step recorded run); its own float32 error from that value is the
    envelope that the tolerance's ``factor`` scales. The truth never comes from the JAX side, so a
    wrong JAX gradient cannot widen its own bound.
    """
    steps = np.arange(cfg.steps) if cfg.dtype == "float64" else sample_steps(cfg.steps, SAME_POINT_SAMPLE)
    states = {k: v[steps] for k, v in ref.states.items()}
    theirs = {"loss": ref.losses[steps], **{f"grad[{k}]": v[steps] for k, v in ref.grads.items()}}
    return _same_point_at(example, cfg, device, label, states, theirs, steps, data)


def _same_point_at(example, cfg, device, label, states, theirs, steps, data) -> RegimeResult:
    """JAX's loss and gradients at ``states`` (a leading axis of sampled steps ``steps``) against
    the reference's ``theirs`` there; in float32 held to the reference's own float64 error (above)."""
    dev = training.jax_device(device)
    d = _on_device(example, data, dev)
    ts = jnp.asarray(steps, dtype=jnp.int32)
    loss, grads = _batched(lambda dd, p, t: example.loss_and_grad(example.params_in(p), example.at_step(dd, t)), d,
                           jax.device_put(states, dev), ts)
    ours = {"loss": np.asarray(loss), **{f"grad[{k}]": np.asarray(v) for k, v in grads.items()}}
    envelope = None
    if cfg.dtype == "float32":
        truth = reference_points(example, dataclasses.replace(cfg, dtype="float64"), device,
                                 {k: _as_float64(v) for k, v in example.params_in(states).items()}, steps)
        err = {k: np.abs(theirs[k].astype(np.float64) - truth[k]).reshape(len(steps), -1).max(axis=1) for k in truth}
        grad_err = np.max([v for k, v in err.items() if k != "loss"], axis=0)
        envelope = {k: (err["loss"] if k == "loss" else grad_err) for k in truth}
    tol = tolerance(example.id, cfg.dtype, "same_point", device)
    grad_keys = [k for k in theirs if k != "loss"]
    parts = []
    for keys in (["loss"], grad_keys):
        env = None if envelope is None else {k: envelope[k] for k in keys}
        parts.append(compare_trees(label, "same_point", {k: ours[k] for k in keys}, {k: theirs[k] for k in keys}, steps, tol, env))
    return worst_of("same_point", parts)


SHADOW_SAMPLE = 50  # JAX states of a parted free run at which the reference is asked for its gradients


def jax_states_at(example: Example, cfg: Any, device: str, p0: Mapping[str, np.ndarray], data: Mapping[str, Any],
                  steps: np.ndarray) -> dict[str, np.ndarray]:
    """JAX's own training state before each of ``steps`` (increasing): one free run from ``p0`` (cast to ``cfg.dtype``),
    compiled in segments that end at those steps (the same loop as :func:`jaxport.training.train`)."""
    dev = training.jax_device(device)
    d = jax.device_put(data, dev)
    state = jax.device_put(example.state(params_mod.cast(p0, cfg.dtype)), dev)
    out, t = [], 0
    for s in np.asarray(steps).tolist():
        if s > t:
            state, _ = training.scan_steps(example.step, cfg, state, d, jnp.asarray(t, jnp.int32), s - t, True,
                                           example.prepare)
            t = s
        out.append({k: np.asarray(v) for k, v in state.items()})
    return {k: np.stack([o[k] for o in out]) for k in out[0]}


def shadow_same_point(example: Example, cfg: Any, device: str, label: str, p0: Mapping[str, np.ndarray],
                      data: Mapping[str, Any]) -> RegimeResult:
    """The same-point check along *JAX's* trajectory: at ``SHADOW_SAMPLE`` of JAX's own states the
    reference computes the loss and gradients (one-step recorded runs), held to the same-point tolerance.

    The same-point and teacher-forced regimes walk torch's trajectory. When a free run still parts,
    this says whether the two frameworks also agree where JAX went: if they do, each trajectory is a
    faithful run of the same step, and the runs part because the dynamics amplify rounding (a chaotic
    stretch, or a ReLU kink that one run crosses and the other does not).
    """
    steps = sample_steps(cfg.steps, SHADOW_SAMPLE)
    states = jax_states_at(example, cfg, device, p0, data, steps)
    theirs = reference_points(example, cfg, device, example.params_in(states), steps)
    return _same_point_at(example, cfg, device, label, states, theirs, steps, data)


def shadow_text(shadow: RegimeResult, samples: int) -> str:
    """The diagnosis a parted free run's message ends with."""
    if shadow.passed:
        return (f"Diagnosis: at {samples} of JAX's own states along its free run the reference computes the same loss "
                f"and gradients as JAX (same-point tolerance; worst {shadow.max_rel:.2g} relative, {shadow.worst_leaf} at "
                f"step {shadow.worst_step}). With same_point and teacher_forced passing along the reference's run, both "
                f"runs are the same computation: they part by rounding that the dynamics amplify (a chaotic stretch, or "
                f"a ReLU kink one run crosses and the other does not), not by a port error")
    return (f"Diagnosis: at JAX's own state of step {shadow.worst_step} the reference's {shadow.worst_leaf} differs by "
            f"{shadow.max_rel:.2g} relative, beyond the same-point tolerance: the frameworks compute differently "
            f"where JAX's run goes; look there first")


def reference_points(example: Example, cfg: Any, device: str, points: Mapping[str, np.ndarray],
                     steps: np.ndarray) -> dict[str, np.ndarray]:
    """The reference's loss and gradients at given parameters: ``points[k][i]`` at step ``steps[i]``
    (that step's data), each a one-step recorded run in ``cfg.dtype``. Keys as the same-point regime's:
    ``loss`` and ``grad[name]``."""
    ref_mod = reference_module(example)
    cfg1 = dataclasses.replace(cfg, steps=1)
    data = example.make_data(cfg)
    runs = [ref_mod.train({k: v[i] for k, v in points.items()},
                          {k: (v[t:t + 1] if k in example.per_step else v) for k, v in data.items()},
                          cfg1, device=device, record=True)
            for i, t in enumerate(np.asarray(steps).tolist())]
    return {"loss": np.array([r.losses[0] for r in runs]),
            **{f"grad[{k}]": np.stack([r.grads[k][0] for r in runs]) for k in runs[0].grads}}


def _as_float64(v: np.ndarray) -> np.ndarray:
    """Floating leaves in float64; integer leaves (step counts) as they are."""
    return v.astype(np.float64) if np.issubdtype(v.dtype, np.floating) else v


def _teacher_forced(example, cfg, device, label, ref: RefRun, data) -> RegimeResult:
    """One JAX step from torch's state at step t, against torch's state at step t+1, every step.

    An example with an optimizer gives ``apply`` (the update alone): it then gets torch's own
    gradient of step t too, so the regime checks the optimizer's arithmetic by itself (its buffers
    to a few ulp); the gradients are the same-point regime's business. Otherwise the whole step runs
    and its optimizer buffers, which change by a gradient, are held to the same-point tolerance.
    """
    dev = training.jax_device(device)
    states = jax.device_put({k: v[:-1] for k, v in ref.states.items()}, dev)
    d = _on_device(example, data, dev)
    ts = jnp.arange(cfg.steps, dtype=jnp.int32)
    tol = tolerance(example.id, cfg.dtype, "teacher_forced", device)
    if example.apply is not None:
        grads = jax.device_put(ref.grads, dev)
        new = _batched(lambda dd, p, g, t: example.apply(p, g, dd, t, cfg), d, states, grads, ts)
        buffer_tol = None
    else:
        new, _ = _batched(lambda dd, p, t: example.step(p, dd, t, cfg), d, states, ts)
        buffer_tol = tolerance(example.id, cfg.dtype, "same_point", device)
    nxt = {k: v[1:] for k, v in ref.states.items()}
    return compare_state(label, "teacher_forced", example, {k: np.asarray(v) for k, v in new.items()}, nxt,
                         np.arange(1, cfg.steps + 1), tol, buffer_tol=buffer_tol)
