"""Bookkeeping shared by the reference implementations (torch, or the seed's NumPy).

A reference reads like the seed's code with two additions: the explicit initial values, and a
:class:`Recorder` that keeps the loss of every step (to check for divergence and for the free-running
comparison) and, when asked, the parameters and gradients of every step (for the same-point and
teacher-forced regimes). Recording is off when the reference is timed.

**Writing a training reference.** Define ``FRAMEWORK`` (``"torch"``, or ``"numpy"`` for the seed's
NumPy code), then write the seed's loop as a function of ``(params, data, cfg, run)`` under
:func:`training_reference`::

    FRAMEWORK = "torch"

    @training_reference
    def train(params, data, cfg, run: RunContext) -> RefRun:
        model = MyCoolNet(5, 5).to(device=run.device, dtype=run.dtype)
        ...
        for i in range(cfg.steps):
            ...
            run.rec.loss(loss)
            run.rec.step(optimizer_state(model, optimizer), grads, optimizer, dict(model.named_parameters()))
            optimizer.step()
        return run.rec.finish(optimizer_state(model, optimizer))

The decorator writes the public ``train(params, data, cfg, *, device="cpu", record=False,
report=None) -> RefRun`` the harness, the CLI and the benchmarks call, and builds what the body gets
(:class:`RunContext`): the :class:`Recorder` under the example's label (:func:`example_label`), the
run's dtype and device as the framework's own objects. :func:`optimizer_state` names a torch
optimizer's state as the JAX state does, deriving which buffers it keeps from its settings.
"""

import contextlib
import contextvars
import inspect
import re
import time
import types
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from jaxport._config import configure_torch
from jaxport.errors import DivergenceError, UsageError
from jaxport.spec import RefRun


def to_numpy(v: Any) -> np.ndarray:
    """A torch tensor (any device) or NumPy value as a NumPy array, without copying its history."""
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return np.asarray(v)


def torch_device(device: str):
    """torch's device for 'cpu' or 'gpu' (CUDA); a clear error when there is none."""
    import torch

    configure_torch()  # torch's threads, as limit_cpu_threads asked: applied at torch's first use

    if device == "cpu":
        return torch.device("cpu")
    if device == "gpu":
        if not torch.cuda.is_available():
            raise UsageError("--device gpu: torch sees no CUDA device")
        return torch.device("cuda")
    raise UsageError(f"--device {device!r}: expected 'cpu' or 'gpu'")


def torch_dtype(dtype: str):
    """torch's dtype for 'float32' or 'float64'."""
    import torch

    configure_torch()

    return {"float32": torch.float32, "float64": torch.float64}[dtype]


_PROBE_STEPS: contextvars.ContextVar[frozenset[int] | None] = contextvars.ContextVar("probe_steps", default=None)
_RECORD_STEPS: contextvars.ContextVar[frozenset[int] | None] = contextvars.ContextVar("record_steps", default=None)


@contextlib.contextmanager
def recording(steps: Collection[int]) -> Iterator[None]:
    """Within it, a recording reference keeps the state and gradients of these steps ``t`` only, and
    the state after each (step ``t + 1``), instead of every step: what a run too long to hold whole
    in memory keeps for the same-point and teacher-forced regimes (the harness's ``record_steps``)."""
    token = _RECORD_STEPS.set(frozenset(int(s) for s in steps))
    try:
        yield
    finally:
        _RECORD_STEPS.reset(token)


@contextlib.contextmanager
def probing(steps: Collection[int]) -> Iterator[None]:
    """Within it, a recording reference probes its optimizer's update (:func:`update_probe`) at these
    steps only (default: every step). A probe deep-copies the optimizer twice, so a 30000-step run
    probes a sample, as the harness's teacher-forced regime checks one."""
    token = _PROBE_STEPS.set(frozenset(int(s) for s in steps))
    try:
        yield
    finally:
        _PROBE_STEPS.reset(token)


class Recorder:
    """Collects a reference run: losses always; parameters and gradients when ``record``."""

    def __init__(self, example: str, framework: str, record: bool, report: Callable[[str], None] | None):
        self.example, self.framework, self.record = example, framework, record
        self.report = report
        self._losses: list[Any] = []
        self._checked = 0
        self._states: list[dict[str, np.ndarray]] = []
        self._grads: list[dict[str, np.ndarray]] = []
        self._state_steps: list[int] = []
        self._grad_steps: list[int] = []
        self._steps = 0
        self._keep = _RECORD_STEPS.get()
        self._updates: list[dict[str, np.ndarray]] = []
        self._update_steps: list[int] = []
        self._probe_steps = _PROBE_STEPS.get()
        self._start = time.perf_counter()

    def loss(self, loss: Any) -> None:
        """The loss of the current step (kept as a detached tensor: no device sync here)."""
        self._losses.append(loss.detach() if hasattr(loss, "detach") else loss)

    def step(self, state: Mapping[str, Any], grads: Mapping[str, Any], optimizer: Any = None,
             params: Mapping[str, Any] | None = None) -> None:
        """The training state (parameters, and optimizer buffers if any) and the gradients of the
        current step, before its update (only when recording). With ``optimizer`` (and the model's
        ``params`` by name) also the update it is about to make, at full precision (:func:`update_probe`).
        Within :func:`recording`, only its steps (and the state after each) are kept."""
        t, self._steps = self._steps, self._steps + 1
        if not self.record:
            return
        keep = self._keep is None or t in self._keep
        if keep or t - 1 in self._keep:
            self._states.append({k: to_numpy(v).copy() for k, v in state.items()})
            self._state_steps.append(t)
        if keep:
            self._grads.append({k: to_numpy(v).copy() for k, v in grads.items()})
            self._grad_steps.append(t)
            if optimizer is not None and (self._probe_steps is None or t in self._probe_steps):
                self._updates.append(update_probe(optimizer, params))
                self._update_steps.append(t)

    def print(self, line: str) -> None:
        """A line the seed prints; losses so far are checked for divergence first."""
        self.check()
        if self.report is not None:
            self.report(line)

    def check(self) -> None:
        """Raise DivergenceError at the first non-finite loss not yet checked."""
        new = self._losses[self._checked:]
        if not new:
            return
        values = np.array([float(to_numpy(v)) for v in new])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise DivergenceError(self.example, self.framework, self._checked + int(bad[0]), float(values[bad[0]]))
        self._checked += len(new)

    def finish(self, state: Mapping[str, Any]) -> RefRun:
        """The run's result, with the final state appended to the trajectory."""
        self.check()
        final = {k: to_numpy(v).copy() for k, v in state.items()}
        seconds = time.perf_counter() - self._start
        losses = np.array([to_numpy(v) for v in self._losses]).reshape(-1)
        states = grads = updates = update_steps = state_steps = grad_steps = None
        if self.record:
            states = {k: np.stack([s[k] for s in self._states] + [final[k]]) for k in final}
            state_steps = np.array(self._state_steps + [self._steps])
            grads = {k: np.stack([g[k] for g in self._grads]) for k in (self._grads[0] if self._grads else {})}
            grad_steps = np.array(self._grad_steps, dtype=int)
            if self._updates:
                updates = {k: np.stack([u[k] for u in self._updates]) for k in self._updates[0]}
                update_steps = np.array(self._update_steps)
        return RefRun(self.framework, final, losses, seconds, states, grads, updates, update_steps, state_steps, grad_steps)


def update_probe(optimizer: Any, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The update ``optimizer.step()`` is about to make, unrounded by the parameters: ``update.NAME``
    in the parameters' dtype and ``update64.NAME`` in float64 (the same step from the same state and
    gradients, cast: its arithmetic's float64 truth).

    A step adds its update to the parameters, so in float32 everything below one ulp of the parameter
    is lost; an optimizer bug there (eps inside the sqrt) would never show. The probe steps a deep copy
    of the optimizer (its state, its parameters and their gradients) whose parameters are zero: then
    ``p ← 0 - update`` is exact and the copy's parameters are the update itself. The real optimizer
    is untouched. Where a rule reads the parameters (weight decay, LookAhead's sync), the probe is that
    rule at p = 0: what the JAX port is asked for too (``harness``'s teacher-forced regime).
    """
    import copy

    import torch

    out: dict[str, np.ndarray] = {}
    for prefix, dtype in (("update", None), ("update64", torch.float64)):
        memo: dict = {}
        probe = copy.deepcopy(optimizer, memo)
        copies = {k: memo[id(p)] for k, p in params.items()}
        with torch.no_grad():
            if dtype is not None:  # every floating tensor of the copy in float64: state, then parameters
                for v in list(memo.values()):
                    if isinstance(v, torch.Tensor) and v.is_floating_point() and not isinstance(v, torch.nn.Parameter):
                        v.data = v.data.to(dtype)
            for k, p in copies.items():
                grad = params[k].grad
                p.grad = None
                p.data = torch.zeros_like(p.data, dtype=dtype or p.dtype)
                p.grad = None if grad is None else grad.detach().to(p.dtype).clone()
            probe.step()
        out.update({f"{prefix}.{k}": to_numpy(p).copy() for k, p in copies.items()})
    return out


def optimizer_buffers(optimizer: Any) -> tuple[str, ...]:
    """The names of the per-parameter tensors ``optimizer.state[p]`` holds (``step`` aside), derived
    from the optimizer's class and its ``param_groups[0]`` settings: the fields of the matching JAX
    state (:mod:`jaxport.optim`), which leaves a feature switched off out.

    * ``SGD``: ``momentum_buffer`` when ``momentum != 0``, else nothing;
    * ``RMSprop``: ``square_avg``, then ``momentum_buffer`` when ``momentum > 0``, then ``grad_avg``
      when ``centered``;
    * ``Adam``, ``AdamW``: ``exp_avg``, ``exp_avg_sq``, then ``max_exp_avg_sq`` when ``amsgrad``.

    Anything else (another torch optimizer, a wrapper such as E15's ``Lookahead``) raises TypeError
    naming its class: give :func:`optimizer_state` the buffers, or the torch optimizer it wraps.
    """
    import torch

    groups = getattr(optimizer, "param_groups", None)
    group = groups[0] if groups else {}
    if isinstance(optimizer, torch.optim.SGD):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()
    if isinstance(optimizer, torch.optim.RMSprop):
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):  # AdamW: a subclass of Adam in recent torch only
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
    cls = type(optimizer)
    raise TypeError(
        f"optimizer_state cannot derive the buffers of {cls.__module__}.{cls.__qualname__} "
        "(known: torch.optim SGD, RMSprop, Adam, AdamW): pass buffers=(...) explicitly, "
        "or the torch optimizer it wraps")


def optimizer_state(model: Any, optimizer: Any, buffers: tuple[str, ...] | None = None,
                    counts: Mapping[str, int] | None = None) -> dict:
    """A torch model's training state under the JAX state's names: each parameter (``fc1.weight``),
    each ``optimizer.state[p][buffer]`` (``exp_avg.fc1.weight``; zeros before torch creates it) and the
    steps that updated each parameter (``count.fc1.weight``): from ``counts`` where the optimizer keeps
    none (SGD), else torch's own ``state[p]["step"]`` (Adam, RMSprop).

    ``buffers``: which of ``optimizer.state[p]``'s tensors to keep; by default (None) those the
    optimizer's settings make it keep (:func:`optimizer_buffers`: SGD with ``momentum=0`` keeps none,
    as :func:`jaxport.optim.sgd`'s state then has no ``momentum_buffer``)."""
    import torch

    if buffers is None:
        buffers = optimizer_buffers(optimizer)
    named = list(model.named_parameters())
    out = {k: p for k, p in named}
    for buffer in buffers:
        for k, p in named:
            value = optimizer.state[p].get(buffer) if p in optimizer.state else None
            out[f"{buffer}.{k}"] = torch.zeros_like(p) if value is None else value
    for k, p in named:
        if counts is not None:
            out[f"count.{k}"] = np.int32(counts[k])
        else:
            st = optimizer.state[p] if p in optimizer.state else {}
            out[f"count.{k}"] = np.int32(int(st["step"]) if "step" in st else 0)
    return out


FRAMEWORKS: tuple[str, ...] = ("torch", "numpy")  # what a reference's FRAMEWORK may be


def example_label(module_name: str) -> str:
    """The label a reference's lines and errors carry, from its module's name: the catalog's
    ``"E13 mycoolnet"`` for ``jaxport.examples.e13_mycoolnet.reference``; outside the catalog, the
    same form read off a package named ``eNN_name`` (``"E42 mynet"`` for ``mypkg.e42_mynet.reference``),
    else the module's name itself."""
    from jaxport import catalog

    for e in catalog.CATALOG:
        if module_name in (e.reference, e.package, e.module):
            return f"{e.id} {e.name}"
    for part in reversed(module_name.split(".")):
        m = re.fullmatch(r"[eE](\d+)_(\w+)", part)
        if m:
            return f"E{m.group(1)} {m.group(2)}"
    return module_name


@dataclass(frozen=True)
class RunContext:
    """What :func:`training_reference` hands a reference's body, built from the public call's
    ``device``, ``record`` and ``report`` and the config's ``dtype``.

    * ``rec``: the run's :class:`Recorder` (``rec.loss``, ``rec.step``, ``rec.print``, ``rec.finish``);
    * ``dtype``: ``cfg.dtype`` as the framework's own: a ``torch.dtype`` (:func:`torch_dtype`), or
      for NumPy the scalar type (:func:`jaxport.data.np_dtype`: ``np.float32``/``np.float64``);
    * ``device``: a ``torch.device`` (:func:`torch_device`: ``"cpu"`` or CUDA for ``"gpu"``), or for
      NumPy the string ``"cpu"`` (a NumPy reference refuses any other device).
    """

    rec: Recorder
    dtype: Any
    device: Any

    @property
    def record(self) -> bool:
        """Whether the run records its trajectory (the Recorder's ``record``): a reference may skip
        building a state nobody keeps when it is timed."""
        return self.rec.record

    @property
    def report(self) -> Callable[[str], None] | None:
        """Where the seed's lines go (None: nowhere); :meth:`Recorder.print` checks for divergence first."""
        return self.rec.report


def run_context(example: str, framework: str, cfg: Any, device: str = "cpu", record: bool = False,
                report: Callable[[str], None] | None = None) -> RunContext:
    """The preamble every training reference shares: the Recorder, then the dtype and the device
    (UsageError for a device the framework lacks). :func:`training_reference` calls it."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"{example}: FRAMEWORK must be one of {FRAMEWORKS}, got {framework!r}")
    if framework == "numpy" and device != "cpu":
        raise UsageError(f"{example.split()[0]}'s reference is NumPy, which runs on the cpu only (got --device {device})")
    rec = Recorder(example, framework, record, report)
    if framework == "numpy":
        from jaxport.data import np_dtype

        return RunContext(rec, np_dtype(cfg.dtype), "cpu")
    return RunContext(rec, torch_dtype(cfg.dtype), torch_device(device))


T = TypeVar("T")

# A reference's body: the seed's code as a function of the initial values, the data, the config and
# its RunContext, returning what the public function returns (a RefRun for ``train``).
ReferenceBody = Callable[[Mapping[str, np.ndarray], Mapping[str, np.ndarray], Any, RunContext], T]


class TrainingReference(Protocol[T]):
    """What :func:`training_reference` makes of a body: the public function every caller uses (the
    harness, the CLI, the benchmarks), with the body itself as ``.body``."""

    body: ReferenceBody[T]

    def __call__(self, params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: Any, *,
                 device: str = "cpu", record: bool = False, report: Callable[[str], None] | None = None) -> T: ...


def training_reference(body: ReferenceBody[T]) -> TrainingReference[T]:
    """Decorator: a reference's body ``(params, data, cfg, run: RunContext)`` as the public
    ``train(params, data, cfg, *, device="cpu", record=False, report=None) -> RefRun`` every caller uses.

    The body is the seed's code from its first line. The public function builds the body's
    :class:`RunContext` with :func:`run_context` (the :class:`Recorder` under :func:`example_label`
    of the body's module, then the dtype and the device) and returns what the body returns: the
    :class:`~jaxport.spec.RefRun` of ``run.rec.finish(state)`` for ``train``; a body may return more
    (E20's ``finetune``: the run and the trained model). It has the body's name, module, and the
    annotations of ``params``, ``data``, ``cfg`` and the return where the body gives them.

    The framework is the module's ``FRAMEWORK`` (``"torch"`` or ``"numpy"``), which must be defined
    above the decorated body (TypeError at import otherwise). The body stays reachable as ``.body``:
    another body calls it with its own context (E20: ``train`` is ``finetune.body(...)[0]``).
    """
    module = body.__module__
    framework = body.__globals__.get("FRAMEWORK")
    if framework not in FRAMEWORKS:
        raise TypeError(f"{module}.{body.__name__}: @training_reference needs FRAMEWORK = 'torch' or 'numpy' "
                        f"defined above it (got {framework!r})")
    label = example_label(module)

    def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: Any, *, device: str = "cpu",
              record: bool = False, report: Callable[[str], None] | None = None) -> RefRun:
        return body(params, data, cfg, run_context(label, framework, cfg, device, record, report))

    hints = getattr(body, "__annotations__", {})
    train.__annotations__ = {**train.__annotations__, **{k: hints[k] for k in ("params", "data", "cfg", "return") if k in hints}}
    train.__module__, train.__name__, train.__qualname__ = module, body.__name__, body.__qualname__
    what = "the seed's NumPy code, cpu only" if framework == "numpy" else "torch"
    own = f"\n\n{inspect.cleandoc(body.__doc__)}" if body.__doc__ else ""
    train.__doc__ = (
        f"{label}'s reference ({what}): ``cfg.steps`` steps from ``params`` on ``data``.{own}\n\n"
        "Args:\n"
        "    params: the initial values by name (the JAX port's names).\n"
        "    data: the arrays both frameworks are given.\n"
        "    cfg: the example's config (``steps``, ``dtype``, ``lr``, ...).\n"
        "    device: 'cpu', or 'gpu' (CUDA).\n"
        "    record: keep the trajectory (each step's state, gradients and update) besides the losses.\n"
        "    report: where the seed's printed lines go (None: nowhere).\n\n"
        "Written by :func:`jaxport.reference.training_reference` around the body (``.body``)."
    )
    train.body = body  # type: ignore[attr-defined]
    return train  # type: ignore[return-value]


class ReplaySampler:
    """A ``DataLoader`` sampler that replays drawn orders: its e-th pass (epoch) yields ``epochs[e]``.

    Stands in for ``shuffle=True``'s ``RandomSampler`` so torch makes the very batches the JAX port
    was handed (:func:`jaxport.data.epoch_batches`); ``length`` is what ``len(sampler)`` reports
    (``RandomSampler``'s: the dataset's size), so ``len(trainloader)`` is the seed's.
    """

    def __init__(self, epochs: list[list[int]], length: int | None = None):
        self.epochs, self.epoch = epochs, 0
        self.length = len(epochs[0]) if length is None else length

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        order = self.epochs[self.epoch]
        self.epoch += 1
        return iter(order)


def replay_epochs(idx: np.ndarray, mask: np.ndarray, per_epoch: int) -> list[list[int]]:
    """Each epoch's sample order from drawn batches: the steps' real rows, ``per_epoch`` steps at a time."""
    rows = [r[m].tolist() for r, m in zip(idx, mask)]
    return [sum(rows[e: e + per_epoch], []) for e in range(0, len(rows), per_epoch)]


@contextlib.contextmanager
def resuming(optimizer_state: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """While active, the first torch optimizer a reference builds is kept (``.optimizer``: its
    ``state_dict()`` after the run is a checkpoint's) and, given ``optimizer_state``, loads it as soon
    as it is built (``optimizer.load_state_dict``): a run resumed from a training checkpoint, with the
    seed's own code unchanged. The state is copied first (torch's ``load_state_dict`` keeps and then
    increments the ``step`` tensors it is given)."""
    import copy

    import torch

    kept = types.SimpleNamespace(optimizer=None)
    original = torch.optim.Optimizer.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if kept.optimizer is None:
            kept.optimizer = self
            if optimizer_state is not None:
                self.load_state_dict(copy.deepcopy(dict(optimizer_state)))

    torch.optim.Optimizer.__init__ = init
    try:
        yield kept
    finally:
        torch.optim.Optimizer.__init__ = original
