"""Where a port parts from torch: the first layer whose output departs, then the first parameter gradient.

When the same-point regime fails, the harness names a gradient and a step; it cannot say *where in
the model* the two frameworks part. :func:`locate` runs one batch through both models with every
submodule's first input and output recorded in call order (torch: forward hooks; nnx: each submodule
instance runs as a recording subclass of its own class while the model is traced, then gets its class
back), and judges each output in forward order, then the loss, then each parameter gradient in
backward order, each against its own bound. :func:`first_divergence` gives the first departure only::

    >>> d = first_divergence(torch_net, nnx_net, x, loss="cross_entropy", targets=y)
    >>> print(d.line())
    first divergence: features.3 (Conv2d) output, 4.1e-2 relative, bound 2e-6 (float32)

The nnx forward pass is traced once with the recording in place and compiled whole, the recorded values
being the compiled function's outputs (op by op, every one of a small CNN's few hundred operations is
compiled on its own: ~15 s here against ~1 s). Where that cannot work (a port that raises, or one that
cannot be traced whole) the model runs op by op, eagerly, and what it recorded before an exception stays.

**Matching.** The nnx model's attribute paths mirror torch's module names, as :mod:`jaxport.convert`
maps its state: the path parts joined with ``.``, ``layers`` followed by an index dropped
(``nnx.Sequential``; ``sequential_attr``), so nnx ``('features', 'layers', 3)`` is torch's
``features.3`` and the root is ``''`` (shown as ``(model)``). A module called several times is
matched call by call. A torch module with no nnx counterpart (an ``nn.ReLU`` the port writes as
``nnx.relu``) is skipped, and the trace says so. Outputs are compared in torch's layout: where the
shapes differ by an axis permutation (NHWC against NCHW) the nnx output is transposed; where several
permutations fit, the one that agrees best is taken (a wrong value agrees under none). A tuple output
(attention's ``(out, weights)``) compares its first element. Parameter gradients come back in torch's
names and layout through :func:`jaxport.convert.torch_tree`.

**The bound** is the harness's, derived from rounding, not calibrated (:mod:`jaxport.tolerances`):
outputs are judged as the ``values`` regime judges a demonstration's values, the loss and gradients
as the ``same_point`` regime judges them, with :func:`jaxport.harness.compare_trees`'s leaf judge.
In a float32 run the torch model is evaluated once more in float64 at the same float32 parameters
and inputs: the truth. JAX's distance from it may be ``factor`` times torch's own (``32×ref err``),
plus ``own`` times JAX's own float32 rounding (the nnx model in float64 at the same point: a port bug
is in both JAX evaluations and cancels there), plus ``ulps`` eps of the value's magnitude. In a
float64 run torch is its own truth, and its rounding is float32's scaled by eps64/eps32
(:func:`jaxport.harness.scaled_float32_error`). Where the loss or a gradient fails, torch is evaluated
again with its parameters moved by a few eps, as the same-point regime does
(:func:`jaxport.harness.rounding_spread`): a gradient that jumps at a ReLU kink decided by rounding is
not a port error; such a pass is marked in the trace. Outputs get no such allowance: a forward pass of
ReLUs and max-pools is continuous in its parameters and inputs. The truth comes from torch only, never
from JAX, so a wrong JAX value cannot widen its own bound.

**Diagnosis.** The first departing output says more than its name: whether its input already
departed (then the difference arose before the call, in the enclosing module's own code between
two recorded calls: a flatten order, a missing transpose), and whether its own parameters are equal
on both sides (a loading bug) or its computation differs (an epsilon, a padding, a transposed
kernel in the port's code).

Limits: the models must compute deterministically (dropout off: call ``.eval()`` and pass
``deterministic`` nnx modules); data-dependent control flow must take the same branches in float32 and
float64; only ``__call__``/``forward`` outputs are seen (a submodule run through another method is
not); an nnx model that jits or scans internally hides its submodules' values (the trace says so); a
forward pass with a discontinuity decided by rounding (an argmax, a comparison) is judged as continuous.
Parameters are what the caller loaded: the function compares the models as given, in ``dtype``.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxport import convert
from jaxport import harness
from jaxport import training
from jaxport._config import configure_torch
from jaxport.errors import UsageError
from jaxport.tolerances import Tolerance, tolerance, tolerance_text

__all__ = ["Divergence", "Report", "Step", "first_divergence", "locate"]

Kind = Literal["output", "loss", "gradient", "error"]
LossSpec = str | tuple[Callable[..., Any], Callable[..., Any]] | None

ROOT = "(model)"  # how the root module (torch's name '') is shown


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One comparison of the trace: a module's output (one call), the loss, or a parameter's gradient.

    ``status`` is ``"ok"``, ``"departs"`` or ``"skipped"`` (``note`` says why). ``ratio`` is the worst
    element's distance over its bound (at most 1 passes); ``max_abs`` that distance (JAX's from the
    truth), ``max_rel`` it over the value's magnitude ``scale``, ``bound`` the bound there (absolute).
    ``layout`` is the axis permutation applied to the nnx value to bring it to torch's layout (``None``:
    as it is); ``input_ratio`` the same judgement of the module's first positional input (``None``:
    not compared)."""

    name: str  # torch's module name ('' = the root), the parameter's name (gradient), or 'loss'
    module: str  # torch's class name (a gradient: its owner's; the loss: the loss's name)
    kind: Kind
    call: int = 0  # which call of the module (a module called twice has calls 0 and 1)
    status: Literal["ok", "departs", "skipped"] = "ok"
    ratio: float = 0.0
    max_abs: float = 0.0
    max_rel: float = 0.0
    bound: float = 0.0
    scale: float = 0.0
    layout: tuple[int, ...] | None = None
    input_ratio: float | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return self.name if self.name else ROOT

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Divergence:
    """The first departure: which module (torch's name and class), what departs (its ``output``,
    the ``loss``, a parameter's ``gradient``, or an ``error`` the nnx forward raised), by how much
    and against which bound. :meth:`line` says it in one line; ``note`` says what else is known
    (its input, its parameters); ``trace`` is every comparison made, in order."""

    name: str  # the module's torch name ('' = root); a gradient's parameter name; 'loss'
    module: str
    kind: Kind
    max_abs: float
    max_rel: float
    bound: float  # absolute; relative: bound_rel
    scale: float
    ratio: float
    dtype: str
    call: int = 0
    note: str = ""
    tolerance: str = ""  # the rule the bound comes from (tolerances.tolerance_text)
    trace: tuple[Step, ...] = field(default=(), repr=False, compare=False)

    @property
    def bound_rel(self) -> float:
        return self.bound / self.scale if self.scale > 0 else self.bound

    def line(self, lead: str = "first divergence") -> str:
        """``first divergence: features.3 (Conv2d) output, 4.1e-2 relative, bound 2e-6 (float32)``; a value
        that cannot be compared (another shape) or an exception says that instead of the numbers."""
        label = self.name if self.name else ROOT
        what = {"output": "output", "gradient": "gradient", "loss": "value", "error": "raised"}[self.kind]
        call = f" (call {self.call + 1})" if self.call else ""
        head = f"{lead}: {label} ({self.module}) {what}{call}"
        if self.kind == "error" or not math.isfinite(self.max_rel):
            return f"{head}: {self.note.split('; ')[0].split('. Every')[0] if self.note else 'not comparable'}"
        unit = "relative" if self.scale > 0 else "absolute"
        return f"{head}, {_sci(self.max_rel)} {unit}, bound {_sci(self.bound_rel)} ({self.dtype})"

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "trace"}
        return {**d, "bound_rel": self.bound_rel, "line": self.line()}


@dataclass(frozen=True)
class Report:
    """Everything :func:`locate` compared: the first departing output (forward order), the loss, the
    first departing gradient (backward order), and the whole trace. ``first`` is the earliest of them."""

    dtype: str
    output: Divergence | None
    loss: Divergence | None
    gradient: Divergence | None
    trace: tuple[Step, ...]
    nnx_error: str | None = None  # what the nnx forward raised, if it did
    notes: tuple[str, ...] = ()  # what limited the comparison (JAX's float64 evaluation failing)

    @property
    def first(self) -> Divergence | None:
        return self.output or self.loss or self.gradient

    def lines(self) -> list[str]:
        """The verdict and the trace, one line each (for a report)."""
        out = [self.first.line() if self.first else f"no divergence ({self.dtype}): every compared value within its bound"]
        if self.first and self.first.note:
            out.append(f"  {self.first.note}")
        if self.gradient is not None and self.gradient is not self.first:
            out.append(self.gradient.line("then, first gradient divergence"))
            if self.gradient.note:
                out.append(f"  {self.gradient.note}")
        out += [f"  note: {n}" for n in self.notes]
        for s in self.trace:
            call = f"#{s.call}" if s.call else ""
            judged = (f"{s.ratio:.3g}x bound" if s.status != "skipped" else "")
            extra = f"  [{s.note}]" if s.note else ""
            out.append(f"  {s.status:8s} {s.kind:8s} {s.label}{call} ({s.module}) {judged}{extra}")
        return out

    def as_dict(self) -> dict:
        """For ``--json``: the verdicts (each with its line) and the trace."""
        return {"dtype": self.dtype, "passed": self.first is None,
                "first": None if self.first is None else self.first.as_dict(),
                "output": None if self.output is None else self.output.as_dict(),
                "loss": None if self.loss is None else self.loss.as_dict(),
                "gradient": None if self.gradient is None else self.gradient.as_dict(),
                "nnx_error": self.nnx_error, "notes": list(self.notes), "trace": [s.as_dict() for s in self.trace]}


def _sci(x: float) -> str:
    """4.1e-2, 2e-6, 1, 0.45, 3e+3: two significant digits, no padded exponent."""
    if x == 0 or not math.isfinite(x) or 0.1 <= abs(x) < 100:
        return f"{x:.2g}"
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant.removesuffix('.0')}e{int(exp):+d}" if int(exp) > 0 else f"{mant.removesuffix('.0')}e{int(exp)}"


# --------------------------------------------------------------------------------------------
# the public entry points
# --------------------------------------------------------------------------------------------


def first_divergence(torch_model: Any, nnx_model: nnx.Module, inputs: Any, *, loss: LossSpec = None,
                     targets: Any = None, dtype: str = "float32", to_nnx: Callable[..., Any] | None = None,
                     sequential_attr: str | None = "layers") -> Divergence | None:
    """The first place where ``nnx_model`` parts from ``torch_model`` on ``inputs``, or ``None``.

    In order: the first module output, in forward (call) order, that departs from torch's beyond its
    rounding bound; else the loss (when ``loss`` is given); else the first parameter gradient, in
    backward order, that departs. See :func:`locate` for the arguments and :class:`Report` for the
    whole trace (kept on the result's ``trace`` too)."""
    return locate(torch_model, nnx_model, inputs, loss=loss, targets=targets, dtype=dtype, to_nnx=to_nnx,
                  sequential_attr=sequential_attr).first


def locate(torch_model: Any, nnx_model: nnx.Module, inputs: Any, *, loss: LossSpec = None, targets: Any = None,
           dtype: str = "float32", to_nnx: Callable[..., Any] | None = None,
           sequential_attr: str | None = "layers") -> Report:
    """Compare two models holding the same parameters, module by module, and say where they part.

    Args:
        torch_model: the reference ``torch.nn.Module`` (it is copied, never changed; its mode,
            ``train()`` or ``eval()``, is kept).
        nnx_model: the port, its attribute paths mirroring torch's module names (module docstring),
            holding the same values (``convert.nnx_tree``/``convert.from_state_dict``). Copied, never changed.
        inputs: the batch in torch's layout: an array or tensor, or a tuple of them (positional arguments).
        loss: ``None`` (outputs only), ``"mse"`` (``F.mse_loss``: mean squared error), ``"cross_entropy"``
            (``F.cross_entropy`` on integer class targets, mean), or a pair ``(torch_fn, jax_fn)``, each
            ``fn(output, targets)`` (``fn(output)`` when ``targets`` is ``None``) giving a scalar.
        targets: the loss's targets (torch's layout), if it takes any.
        dtype: ``"float32"`` or ``"float64"``: both models run in it (their parameters cast to it).
        to_nnx: the nnx model's inputs from torch's (``lambda x: jnp.transpose(x, (0, 2, 3, 1))`` for a
            model that takes NHWC); default: the same arrays.
        sequential_attr: the nnx attribute dropped before an index (:func:`jaxport.convert.torch_key`).

    Raises:
        UsageError: an unknown ``dtype`` or ``loss``, a named loss without ``targets``, models of the wrong
            kind, or JAX without float64 (``jaxport.enable_x64()``).
    """
    import torch

    configure_torch()
    if dtype not in ("float32", "float64"):
        raise UsageError(f"dtype {dtype!r}: expected 'float32' or 'float64'")
    if not jax.config.jax_enable_x64:
        raise UsageError("first_divergence needs JAX's float64 (its truth and rounding estimates): call "
                         "jaxport.enable_x64() before any array exists")
    if not isinstance(torch_model, torch.nn.Module):
        raise UsageError(f"torch_model: expected a torch.nn.Module, got {type(torch_model).__name__}")
    if not isinstance(nnx_model, nnx.Module):
        raise UsageError(f"nnx_model: expected an nnx.Module, got {type(nnx_model).__name__}")
    losses = loss_pair(loss)
    if losses is not None and losses.named and targets is None:
        raise UsageError(f"loss {loss!r} needs targets")
    device = "gpu" if jax.default_backend() == "gpu" else "cpu"
    values_tol = tolerance("", dtype, "values", device)
    grads_tol = tolerance("", dtype, "same_point", device)

    base = copy.deepcopy(torch_model)
    xs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    points = {f"p:{k}": _np(v) for k, v in base.state_dict().items()}
    points.update({f"x:{i}": _np(x) for i, x in enumerate(xs)})
    if targets is not None:
        points["y"] = _np(targets)
    points = harness._floats_as(points, np.dtype(dtype))  # float32: every float rounded to float32 once
    graphdef, state = nnx.split(nnx_model)

    def torch_at(dt: str, pts: Mapping[str, np.ndarray]) -> _Run:
        return _torch_run(base, dt, pts, losses)

    ref = torch_at(dtype, points)
    ours = _nnx_run(graphdef, state, dtype, points, losses, to_nnx, sequential_attr)
    own: dict[str, np.ndarray] | None = None
    spread: dict[str, np.ndarray] | None = None
    notes: list[str] = []
    if dtype == "float32":  # torch in float64 at the same float32 point is the truth; JAX's own rounding beside it
        p64 = harness._floats_as(points, np.float64)
        truth = torch_at("float64", p64).values
        # standard promotion here: flax's own layers ask for float64 ∨ float32 (nnx.LayerNorm's statistics),
        # which strict promotion refuses; this evaluation only measures JAX's rounding
        with jax.numpy_dtype_promotion("standard"):
            run64 = _nnx_run(graphdef, state, "float64", p64, losses, to_nnx, sequential_attr)
        if run64.error is not None and ours.error is None:
            notes.append(f"JAX's own float64 evaluation raised {run64.error}: the bounds leave out JAX's own rounding")
        own = harness.own_rounding(_rows({k: v for k, v in ours.values.items() if k in run64.values}),
                                   _rows(run64.values))
    else:  # torch is its own truth; its rounding is float32's, scaled (the harness's float64 rule)
        truth = ref.values
        spread = harness.scaled_float32_error(_rows(ref.values), lambda dt, pts: _rows(torch_at(dt, pts).values), points)

    judged = _judge_all(ref, ours, truth, values_tol, grads_tol, spread, own)
    failing = [k for k, v in judged.items() if v.ratio > 1.0 and not k.startswith(("in:", "out:"))]
    if failing:  # a ReLU kink decided by rounding? torch's own spread under rounding-sized parameter moves
        floats = {k: v for k, v in _rows(truth).items() if v.dtype.kind == "f" and not k.startswith(("in:", "out:"))}
        fixed = {k: v for k, v in points.items() if not k.startswith("p:")}

        def at_moved(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            got = _rows(torch_at(dtype, {**params, **fixed}).values)
            return {k: got.get(k, floats[k]) for k in floats}

        moved = harness.rounding_spread(truth=floats, evaluate=at_moved,
                                        points={k: v for k, v in points.items() if k.startswith("p:")})
        wider = dict(spread or {})
        wider.update({k: np.maximum(moved[k], wider[k]) if k in wider else moved[k] for k in moved})
        again = _judge_all(ref, ours, truth, values_tol, grads_tol, wider, own)
        judged = {**judged, **{k: replace(again[k], spread=again[k].ratio <= 1.0) for k in failing}}
    return _report(base, ref, ours, judged, dtype, losses, values_tol, grads_tol, graphdef, state, sequential_attr, notes)


# --------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Losses:
    name: str
    torch_fn: Callable[..., Any]
    jax_fn: Callable[..., Any]
    named: bool  # a named loss: applied to the first element of a tuple output


def loss_pair(loss: LossSpec) -> _Losses | None:
    """A loss spec (``"mse"``, ``"cross_entropy"``, ``(torch_fn, jax_fn)`` or ``None``) as its two
    functions, each ``(output, target) -> the batch mean`` (:mod:`jaxport.check` takes the same names)."""
    import torch.nn.functional as F

    if loss is None:
        return None
    if loss == "mse":
        return _Losses("mse", F.mse_loss, lambda out, t: jnp.mean((out - t) ** 2), True)
    if loss == "cross_entropy":
        import optax

        return _Losses("cross_entropy", lambda out, t: F.cross_entropy(out, t.long()),
                       lambda out, t: optax.losses.softmax_cross_entropy_with_integer_labels(out, t).mean(), True)
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(f) for f in loss):
        name = getattr(loss[0], "__name__", "") or getattr(loss[1], "__name__", "")
        return _Losses("custom" if name in ("", "<lambda>") else name, loss[0], loss[1], False)
    raise UsageError(f"loss {loss!r}: expected 'mse', 'cross_entropy', a pair (torch_fn, jax_fn), or None")


def _apply_loss(losses: _Losses, fn: Callable[..., Any], out: Any, y: Any) -> Any:
    if losses.named and isinstance(out, (tuple, list)):
        out = out[0]
    return fn(out) if y is None else fn(out, y)


# --------------------------------------------------------------------------------------------
# one evaluation of either model, every module's output recorded
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    """One call of a module: ``key`` names its recorded output (``out:name#k``), ``inkey`` its input."""

    name: str
    call: int
    module: str
    parent: str | None  # the enclosing module's name at the call (None: the root itself)
    order: int  # when the call began, in computation order
    before: int  # how many outputs were recorded before the call began

    @property
    def key(self) -> str:
        return f"out:{self.name}#{self.call}"

    @property
    def inkey(self) -> str:
        return f"in:{self.name}#{self.call}"


@dataclass
class _Run:
    values: dict[str, np.ndarray]  # out:*, in:*, loss, grad:*
    events: list[_Event]  # output order (a call's event is appended when it returns)
    error: str | None = None
    error_at: str | None = None  # the module the error escaped from first (innermost)
    modules: frozenset[str] = frozenset()  # every callable module's name, called or not


class _Recorder:
    """Collects outputs and inputs in call order; the bookkeeping both sides share. ``traced``: the values
    are kept as they come (inside a trace: the traced function returns them), else as NumPy."""

    def __init__(self, traced: bool = False) -> None:
        self.traced = traced
        self.values: dict[str, np.ndarray] = {}
        self.events: list[_Event] = []
        self.counts: dict[str, int] = {}
        self.stack: list[tuple[str, int, int, int]] = []  # name, call, order, outputs before it
        self.order = 0
        self.error_at: str | None = None
        self.modules: frozenset[str] = frozenset()

    def enter(self, name: str, first_input: Any) -> None:
        k = self.counts.get(name, 0)
        self.counts[name] = k + 1
        self.stack.append((name, k, self.order, len(self.events)))
        self.order += 1
        x = _as_array(first_input, self.traced)
        if x is not None:
            self.values[f"in:{name}#{k}"] = x

    def leave(self, module: str, output: Any) -> None:
        name, k, order, before = self.stack.pop()
        parent = self.stack[-1][0] if self.stack else None
        y = _as_array(output, self.traced)
        if y is not None:
            self.values[f"out:{name}#{k}"] = y
        self.events.append(_Event(name, k, module, parent, order, before))

    def fail(self) -> None:
        name = self.stack.pop()[0]
        if self.error_at is None:
            self.error_at = name


def _as_array(value: Any, traced: bool = False) -> Any:
    """A recorded value as NumPy (``traced``: a JAX value as it is): a tensor or array, or a tuple's first
    element; else None."""
    if isinstance(value, (tuple, list)):
        value = value[0] if value else None
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy().copy()
    if traced and isinstance(value, jax.Array):
        return value
    if isinstance(value, jax.core.Tracer):  # inside the port's own jit or scan: no value to see
        return None
    if isinstance(value, (jax.Array, np.ndarray)):
        return np.array(value)
    return None


def _np(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy().copy()
    return np.array(value)


def _torch_run(base: Any, dtype: str, points: Mapping[str, np.ndarray], losses: _Losses | None) -> _Run:
    """torch's model (a fresh copy of ``base`` in ``dtype``, holding ``points``' parameters) on ``points``'
    inputs, every module's first input and output recorded by hooks; the loss and gradients with ``losses``."""
    import torch

    tdt = {"float32": torch.float32, "float64": torch.float64}[dtype]
    model = copy.deepcopy(base).to(tdt)
    model.load_state_dict({k[2:]: torch.from_numpy(np.ascontiguousarray(v)) for k, v in points.items()
                           if k.startswith("p:")}, strict=True)
    rec = _Recorder()
    handles = []
    for name, mod in model.named_modules():
        handles.append(mod.register_forward_pre_hook(lambda m, args, name=name: rec.enter(name, args[0] if args else None)))
        handles.append(mod.register_forward_hook(lambda m, args, out: rec.leave(type(m).__name__, out)))
    xs = [torch.from_numpy(np.ascontiguousarray(points[f"x:{i}"])) for i in range(_count(points, "x:"))]
    y = torch.from_numpy(np.ascontiguousarray(points["y"])) if "y" in points else None
    try:
        with torch.set_grad_enabled(losses is not None):
            out = model(*xs)
            if losses is not None:
                value = _apply_loss(losses, losses.torch_fn, out, y)
                value.backward()
    finally:
        for h in handles:
            h.remove()
    values = dict(rec.values)
    if losses is not None:
        values["loss"] = np.array(value.detach().cpu().numpy())
        for name, p in model.named_parameters():
            if p.requires_grad:
                values[f"grad:{name}"] = (np.zeros(tuple(p.shape), dtype) if p.grad is None else p.grad.detach().cpu().numpy().copy())
    return _Run(values, rec.events, modules=frozenset(n for n, _ in model.named_modules()))


def _count(points: Mapping[str, Any], prefix: str) -> int:
    return sum(1 for k in points if k.startswith(prefix))


def _module_name(path: tuple[Any, ...], sequential_attr: str | None) -> str:
    """torch's module name of an nnx module path: ``convert.torch_key``'s rule, without a leaf."""
    return convert.torch_key((*path, "_"), sequential_attr=sequential_attr).rpartition(".")[0]


_SUBCLASSES: dict[type, type] = {}  # an nnx class -> its recording subclass (made once)
_ACTIVE: list[tuple[_Recorder, dict[int, str]]] = []  # the recording in progress: recorder, id(module) -> name


def _recording(cls: type) -> type:
    """``cls`` with a ``__call__`` that records its first input and its output in the active recording."""
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
            name = _ACTIVE[-1][1].get(id(self)) if _ACTIVE else None
            if name is None:
                return cls.__call__(self, *args, **kwargs)
            rec = _ACTIVE[-1][0]
            rec.enter(name, args[0] if args else None)
            try:
                out = cls.__call__(self, *args, **kwargs)
            except BaseException:
                rec.fail()
                raise
            rec.leave(cls.__name__, out)
            return out

        def body(ns: dict[str, Any]) -> None:
            ns.update({"__call__": __call__, "__module__": cls.__module__, "__qualname__": cls.__qualname__})

        # the class keyword nnx's Pytree takes (pytree=...) kept as the class has it
        kwds = {"pytree": cls._pytree__is_pytree} if hasattr(cls, "_pytree__is_pytree") else {}
        sub = types.new_class(cls.__name__, (cls,), kwds, body)
        _SUBCLASSES[cls] = sub
    return sub


@contextlib.contextmanager
def _recorded(model: nnx.Module, rec: _Recorder, sequential_attr: str | None) -> Iterator[None]:
    """Every callable submodule of ``model`` (a private copy) records into ``rec`` while inside; each gets
    its own class back on the way out, whatever happens."""
    swapped: list[tuple[Any, type]] = []
    names: dict[int, str] = {}
    for path, mod in nnx.iter_modules(model):
        cls = type(mod)
        if not any("__call__" in c.__dict__ for c in cls.__mro__[:-1]) or id(mod) in names:
            continue
        names[id(mod)] = _module_name(tuple(path), sequential_attr)
        object.__setattr__(mod, "__class__", _recording(cls))
        swapped.append((mod, cls))
    rec.modules = frozenset(names.values())
    _ACTIVE.append((rec, names))
    try:
        yield
    finally:
        _ACTIVE.pop()
        for mod, cls in swapped:
            object.__setattr__(mod, "__class__", cls)


def _cast_state(state: Any, dtype: str) -> Any:
    dt = jnp.dtype(dtype)
    return jax.tree.map(lambda a: a.astype(dt) if jnp.issubdtype(a.dtype, jnp.floating) else a, state)


def _nnx_run(graphdef: Any, state: Any, dtype: str, points: Mapping[str, np.ndarray], losses: _Losses | None,
             to_nnx: Callable[..., Any] | None, sequential_attr: str | None) -> _Run:
    """The nnx model (a fresh copy, its floats in ``dtype``) on ``points``' inputs, every submodule's first
    input and output recorded; the loss and torch-named gradients (``convert.torch_tree``) with ``losses``.

    The forward pass is traced once with the recording in place and compiled whole, the recorded values
    returned as outputs (op by op, each of the few hundred operations of a small CNN is compiled on its
    own: ~15 s against ~1 s); where that fails (a port that raises, or one that cannot be traced whole), it
    runs op by op, eagerly, and an exception is kept with what was recorded before it."""
    st = _cast_state(state, dtype)
    xs = tuple(jnp.asarray(points[f"x:{i}"]) for i in range(_count(points, "x:")))
    args = xs if to_nnx is None else to_nnx(*xs)
    args = args if isinstance(args, tuple) else (args,)
    y = jnp.asarray(points["y"]) if "y" in points else None

    def loss_of(m: nnx.Module) -> Any:
        return _apply_loss(losses, losses.jax_fn, m(*args), y)

    def gradients(st: Any) -> tuple[Any, dict[str, Any]]:
        value, grads = nnx.value_and_grad(loss_of)(nnx.merge(graphdef, st, copy=True))
        return value, convert.torch_tree(grads, sequential_attr=sequential_attr)

    with jax.default_matmul_precision("highest"):
        traced: list[_Recorder] = []

        def forward(st: Any) -> dict[str, Any]:
            rec = _Recorder(traced=True)
            model = nnx.merge(graphdef, st, copy=True)
            with _recorded(model, rec, sequential_attr):
                model(*args)
            traced.append(rec)
            return rec.values

        try:
            values = {k: np.array(v) for k, v in _jit(forward)(st).items()}
            rec, error = traced[-1], None
        except Exception:  # op by op instead: what it records before an exception stays
            rec = _Recorder()
            model = nnx.merge(graphdef, st, copy=True)
            with _recorded(model, rec, sequential_attr):
                try:
                    model(*args)
                    error = None
                except Exception as e:  # kept: the trace shows how far the port got
                    error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            values = dict(rec.values)
        if losses is not None and error is None:
            try:
                value, grads = _jit(gradients)(st)
            except Exception:
                value, grads = gradients(st)
            values["loss"] = np.array(value)
            values.update({f"grad:{k}": np.array(v) for k, v in grads.items()})
    return _Run(values, rec.events, error, rec.error_at, rec.modules)


def _jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with the training loop's options (``training.compiler_options``) and, on CPU, LLVM's
    optimisation off: these programs run once, and ~half of the compile time goes (the arithmetic XLA asks
    for is the same; its HLO passes all run)."""
    platform = jax.default_backend()
    opts: dict[str, Any] = dict(training.compiler_options(platform))
    if platform == "cpu":
        opts["xla_backend_optimization_level"] = 0
    return jax.jit(fn, compiler_options=opts or None)


# --------------------------------------------------------------------------------------------
# judging: the harness's truth judge, leaf by leaf
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    ratio: float
    max_abs: float
    max_rel: float
    bound: float
    scale: float
    layout: tuple[int, ...] | None = None
    note: str = ""
    spread: bool = False  # passed only once torch's rounding spread was allowed


def _rows(tree: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The harness's trees have a leading row (step) axis: one row here."""
    return {k: np.asarray(v)[None] for k, v in tree.items()}


def _layouts(ours: tuple[int, ...], theirs: tuple[int, ...]) -> list[tuple[int, ...] | None]:
    """Axis permutations taking the nnx shape ``ours`` to torch's ``theirs``: as it is first, then channels
    last -> first (NHWC -> NCHW) and back, then (up to 4 axes) any other."""
    n = len(ours)
    if n != len(theirs) or sorted(ours) != sorted(theirs):
        return []
    ident = tuple(range(n))
    cands = [ident]
    if n >= 3:
        cands += [(0, n - 1, *range(1, n - 1)), (0, *range(2, n), 1)]
    if n <= 4:
        cands += list(itertools.permutations(range(n)))
    seen, out = set(), []
    for p in cands:
        if p not in seen and tuple(ours[i] for i in p) == tuple(theirs):
            seen.add(p)
            out.append(None if p == ident else p)
    return out


def _verdicts(ours: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
              tol: Tolerance, spread: Mapping[str, np.ndarray] | None,
              own: Mapping[str, np.ndarray] | None) -> dict[str, _Verdict]:
    """``harness._judge_leaves`` on one tree (one row): each leaf's worst ratio, distance, magnitude, bound."""
    judged = harness._judge_leaves(_rows(ours), _rows(ref), 1, tol, truth=_rows(truth),
                                   spread=None if spread is None else {k: spread[k] for k in ref if k in spread},
                                   own=None if own is None else {k: own[k] for k in ref if k in own})
    if isinstance(judged, tuple):  # cannot happen: shapes and kinds are checked before
        raise AssertionError(judged[1])
    out = {}
    for leaf in judged:
        bound = np.broadcast_to(leaf.bound, leaf.measured.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(bound > 0, leaf.measured / bound, np.where(leaf.measured > 0, np.inf, 0.0))
        if r.size == 0:
            out[leaf.name] = _Verdict(0.0, 0.0, 0.0, float(bound.max(initial=0.0)), float(leaf.scale[0]))
            continue
        j = int(np.argmax(r))
        sc = float(leaf.scale[0])
        m = float(leaf.measured.reshape(-1)[j])
        out[leaf.name] = _Verdict(float(r.reshape(-1)[j]), m, m / sc if sc > 0 else (0.0 if m == 0 else math.inf),
                                  float(bound.reshape(-1)[j]), sc)
    return out


def _judge_one(key: str, ours: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray],
               truth: Mapping[str, np.ndarray], tol: Tolerance, spread: Mapping[str, np.ndarray] | None,
               own: Mapping[str, np.ndarray] | None) -> tuple[_Verdict, np.ndarray | None]:
    """One value judged alone, in the layout that agrees best; returns its verdict and the nnx value in
    torch's layout (``None`` where no layout fits)."""
    o, r = np.asarray(ours[key]), np.asarray(ref[key])
    if key not in truth or np.asarray(truth[key]).shape != r.shape:
        return _Verdict(0.0, 0.0, 0.0, 0.0, 0.0, note="torch's float64 run has no such value: not compared"), None
    if o.dtype.kind != "f" or r.dtype.kind != "f":
        return _Verdict(0.0, 0.0, 0.0, 0.0, 0.0, note="not floating: not compared"), None
    best: tuple[_Verdict, np.ndarray] | None = None
    for p in _layouts(o.shape, r.shape):
        op = o if p is None else np.transpose(o, p)
        v = _verdicts({key: op}, {key: r}, {key: truth[key]}, tol, spread, own)[key]
        if best is None or v.ratio < best[0].ratio:
            best = (replace(v, layout=p), op)
        if v.ratio <= 1.0:
            break
    if best is None:
        return _Verdict(math.inf, math.inf, math.inf, math.nan, 0.0,
                        note=f"shape {list(o.shape)} in nnx, {list(r.shape)} in torch: no axis permutation maps "
                             "one to the other"), None
    return best


def _judge_all(ref: _Run, ours: _Run, truth: Mapping[str, np.ndarray], values_tol: Tolerance, grads_tol: Tolerance,
               spread: Mapping[str, np.ndarray] | None, own: Mapping[str, np.ndarray] | None) -> dict[str, _Verdict]:
    """Every value both runs recorded: inputs and outputs one by one (the ``values`` rule), the loss and
    gradients as one tree (the ``same_point`` rule: a float64 bound's rtol is of the tree's magnitude)."""
    out: dict[str, _Verdict] = {}
    tree_o, tree_r = {}, {}
    for key in ref.values:
        if key not in ours.values:
            continue
        if key.startswith(("in:", "out:")):
            out[key] = _judge_one(key, ours.values, ref.values, truth, values_tol, spread, own)[0]
            continue
        v, op = _judge_one(key, ours.values, ref.values, truth, grads_tol, spread, own)
        if op is None:
            out[key] = v
        else:
            tree_o[key], tree_r[key] = op, ref.values[key]
            out[key] = v
    if tree_r and all(k in truth for k in tree_r):
        for k, v in _verdicts(tree_o, tree_r, {k: truth[k] for k in tree_r}, grads_tol, spread, own).items():
            out[k] = replace(v, layout=out[k].layout)
    return out


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def _step(name: str, module: str, kind: Kind, call: int, v: _Verdict | None, note: str = "",
          input_ratio: float | None = None) -> Step:
    if v is None:
        return Step(name, module, kind, call, "skipped", note=note)
    if v.note and not math.isfinite(v.ratio):
        return Step(name, module, kind, call, "departs", math.inf, math.inf, math.inf, math.nan, 0.0, None,
                    input_ratio, v.note)
    if v.note:
        return Step(name, module, kind, call, "skipped", note=v.note)
    if v.spread:
        note = "; ".join(filter(None, [note, "passes within torch's own spread under rounding-sized parameter moves "
                                             "(harness.rounding_spread: a kink decided by rounding, or a lucky draw)"]))
    return Step(name, module, kind, call, "departs" if v.ratio > 1.0 else "ok", v.ratio, v.max_abs, v.max_rel,
                v.bound, v.scale, v.layout, input_ratio, note)


def _divergence(s: Step, dtype: str, tol: Tolerance, note: str, trace: tuple[Step, ...]) -> Divergence:
    return Divergence(s.name, s.module, s.kind, s.max_abs, s.max_rel, s.bound, s.scale, s.ratio, dtype, s.call,
                      "; ".join(filter(None, [s.note, note])), tolerance_text(tol.as_dict()), trace)


def _param_diff(base: Any, name: str, graphdef: Any, state: Any, dtype: str,
                sequential_attr: str | None) -> tuple[list[str], list[str]]:
    """The module's own parameters and buffers (torch's names) that differ between the models in ``dtype``
    (each with its largest |Δ|), and those only one side has."""
    mod = base.get_submodule(name) if name else base
    prefix = f"{name}." if name else ""
    theirs = {prefix + k: _np(v) for k, v in [*mod.named_parameters(recurse=False), *mod.named_buffers(recurse=False)]}
    try:
        ours = {k: np.asarray(v) for k, v in convert.torch_tree(_cast_state(state, dtype),
                                                               sequential_attr=sequential_attr).items()}
    except convert.StateDictError:
        return [], []
    differ, alone = [], []
    for k, t in theirs.items():
        if t.dtype.kind != "f":
            continue
        if k not in ours:
            alone.append(f"{k} (torch only)")
            continue
        o, t = ours[k], t.astype(dtype)
        if o.shape != t.shape:
            differ.append(f"{k} (shape {list(o.shape)} in nnx, {list(t.shape)} in torch)")
        elif not np.array_equal(o, t):
            differ.append(f"{k} (max |Δ| {_sci(float(np.abs(o.astype(np.float64) - t).max()))})")
    alone += [f"{k} (nnx only)" for k in ours if k.startswith(prefix) and "." not in k[len(prefix):] and k not in theirs]
    return differ, alone


def _report(base: Any, ref: _Run, ours: _Run, judged: Mapping[str, _Verdict], dtype: str, losses: _Losses | None,
            values_tol: Tolerance, grads_tol: Tolerance, graphdef: Any, state: Any,
            sequential_attr: str | None, notes: list[str]) -> Report:
    events = ref.events
    by_order = sorted(events, key=lambda e: e.order)  # calls as they began
    nnx_keys = {e.key for e in ours.events}
    trace: list[Step] = []
    first_out: tuple[Step, _Event] | None = None
    for e in events:  # outputs in forward order (a call's output once it returns)
        if e.key not in nnx_keys:
            calls = sum(o.name == e.name for o in ours.events)
            if e.name not in ours.modules:
                why = "no nnx module at this path"
            elif ours.error is not None:
                why = f"not reached: the nnx forward raised {ours.error}"
            else:
                why = f"nnx called it {calls} time(s), torch more"
            trace.append(_step(e.name, e.module, "output", e.call, None, why))
            continue
        if e.key not in judged:
            trace.append(_step(e.name, e.module, "output", e.call, None, "no tensor output on one side"))
            continue
        iv = judged.get(e.inkey)
        s = _step(e.name, e.module, "output", e.call, judged[e.key], input_ratio=None if iv is None else iv.ratio)
        trace.append(s)
        if s.status == "departs" and first_out is None:
            first_out = (s, e)
    torch_names = {e.name for e in events}
    for o in ours.events:
        if o.name not in torch_names:
            trace.append(Step(o.name, o.module, "output", o.call, "skipped", note="nnx only: torch has no module of this name"))

    loss_step = None
    grad_steps: list[Step] = []
    if losses is not None:
        if "loss" in ours.values:
            loss_step = _step("loss", losses.name, "loss", 0, judged.get("loss"))
        else:
            loss_step = _step("loss", losses.name, "loss", 0, None, "the nnx forward raised: no loss")
        trace.append(loss_step)
        first_call = {}
        for e in by_order:
            first_call.setdefault(e.name, e.order)
        params = [k[5:] for k in ref.values if k.startswith("grad:")]
        owner = {p: p.rpartition(".")[0] for p in params}
        ranked = sorted(range(len(params)), key=lambda i: (first_call.get(owner[params[i]], math.inf), i))
        modules = dict(base.named_modules())
        for i in reversed(ranked):  # backward order: the last layer called first
            p = params[i]
            cls = type(modules[owner[p]]).__name__ if owner[p] in modules else "?"
            key = f"grad:{p}"
            if key not in ours.values:
                why = "the nnx forward raised: no gradients" if ours.error else "no nnx parameter of this name"
                grad_steps.append(_step(p, cls, "gradient", 0, None, why))
            else:
                grad_steps.append(_step(p, cls, "gradient", 0, judged.get(key)))
        trace.extend(grad_steps)
    trace_t = tuple(trace)

    output = None
    if first_out is not None:
        s, e = first_out
        output = _divergence(s, dtype, values_tol, _output_note(s, e, events, by_order, judged, base, graphdef, state, dtype,
                                                                sequential_attr), trace_t)
    elif ours.error is not None:
        at = ours.error_at
        mod = next((e.module for e in events if e.name == at), "?") if at is not None else "?"
        output = Divergence(at or "", mod, "error", math.inf, math.inf, math.nan, 0.0, math.inf, dtype,
                            note=f"the nnx forward raised {ours.error}. Every output before it matches", trace=trace_t)
    loss = None
    if loss_step is not None and loss_step.status == "departs":
        root_ok = any(s.kind == "output" and s.name == "" and s.status == "ok" for s in trace)
        loss = _divergence(loss_step, dtype, grads_tol, "the model's output matches: the loss functions differ"
                           if root_ok else "", trace_t)
    gradient = None
    first_grad = next((s for s in grad_steps if s.status == "departs"), None)
    if first_grad is not None:
        said = []
        differ, _ = _param_diff(base, first_grad.name.rpartition(".")[0], graphdef, state, dtype, sequential_attr)
        mine = [d for d in differ if d.startswith(first_grad.name + " ")]
        if mine:
            said.append(f"the parameter differs between the models: {mine[0]}")
        if output is not None:
            said.append(f"the forward already departs at {output.name or ROOT}")
        elif loss is not None:
            said.append("the loss already departs")
        else:
            before = [s.name for s in grad_steps[:grad_steps.index(first_grad)] if s.status == "ok"]
            said.append("every output, the loss" + (f" and the gradients before it in backward order ({', '.join(before)})"
                                                    if before else "") +
                        " match: its gradient is computed differently (a stop_gradient, a custom VJP, a frozen parameter)")
        gradient = _divergence(first_grad, dtype, grads_tol, "; ".join(said), trace_t)
    return Report(dtype, output, loss, gradient, trace_t, ours.error, tuple(notes))


def _output_note(s: Step, e: _Event, events: Sequence[_Event], by_order: Sequence[_Event], judged: Mapping[str, _Verdict], base: Any,
                 graphdef: Any, state: Any, dtype: str, sequential_attr: str | None) -> str:
    """What else is known about the first departing output: did its input already depart (then where the
    difference arose), are its parameters equal on both sides."""
    if s.input_ratio is not None and s.input_ratio > 1.0:
        # the earliest call whose input departs: every output before it matches, so its input was computed
        # differently by the code of the module enclosing it, after the last output compared (and matching)
        start = next(x for x in by_order if x.inkey in judged and judged[x.inkey].ratio > 1.0)
        if start.parent is None:
            return "its input already departs, from the model's own inputs on: the inputs differ (check to_nnx)"
        prior = list(events[:start.before])  # the outputs that returned before that call began
        last = next((x for x in reversed(prior) if x.key in judged and judged[x.key].ratio <= 1.0), None)
        between = [x for x in prior[prior.index(last) + 1:] if x.key not in judged] if last is not None else []
        where = (f"between {last.name or ROOT}'s output and the call of {start.name}" if last is not None
                 else f"before the call of {start.name}")
        if between:
            where += (" (torch runs " + ", ".join(f"{x.name} ({x.module})" for x in between)
                      + " there, which the port has no module for)")
        parent_cls = next((x.module for x in by_order if x.name == start.parent), "?")
        return (f"its input already departs (from {start.name}'s input on), while every output before it "
                f"matches: the difference arises in the forward code of {start.parent or ROOT} ({parent_cls}), {where}")
    differ, alone = _param_diff(base, e.name, graphdef, state, dtype, sequential_attr)
    if differ or alone:
        return "its parameters differ between the models: " + ", ".join(differ + alone)
    inp = "its input matches" if s.input_ratio is not None else "its input was not compared"
    return f"{inp} and its own parameters are equal: the difference is in {e.module}'s computation"
