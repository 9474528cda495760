"""What every example module provides, so one harness, one training loop and one CLI serve them all.

A JAX port ``jaxport/examples/eNN_name/port.py`` defines ``EXAMPLE = TrainingExample(...)`` (or
``ValuesExample``) from its own pure functions; its reference (``reference.py`` beside it: torch, or
the seed's NumPy code) defines ``FRAMEWORK`` and ``train(params, data, cfg, *, device, record, report)
-> RefRun`` (:func:`jaxport.reference.training_reference` writes that signature) or ``values``.
"""

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class Range:
    """The values a config field may take, as ``Annotated[int, Range(1)]``: ``lo <= v``, and ``v < hi``
    when given. The CLI checks a ``--set`` value against it (one line, exit 2 when outside)."""

    lo: float
    hi: float | None = None

    def holds(self, v: float) -> bool:
        return self.lo <= v and (self.hi is None or v < self.hi)

    def __str__(self) -> str:
        return f"at least {self.lo:g}" if self.hi is None else f"in [{self.lo:g}, {self.hi:g})"


Positive = Annotated[int, Range(1)]  # a count: steps, a batch size, a print period
NonNegative = Annotated[int, Range(0)]  # a seed (numpy.random.default_rng's), or a count where 0 means "derived"
Magnitude = Annotated[float, Range(0.0)]  # a rate, a norm, an eps: torch's optimizers refuse a negative one
Fraction = Annotated[float, Range(0.0, 1.0)]  # Adam's betas, as torch checks them


@dataclass(frozen=True, eq=False, kw_only=True)
class Example:
    """What both kinds of example give: identity, the seed's config, parameters, data, initial values.

    ``id``, ``name`` and ``reference`` come from the catalog (``**catalog.identity(__name__)`` in a
    port); a user's own example names them itself. ``config`` is a frozen dataclass whose defaults are
    the seed's settings (``dtype`` always; ``steps``, ``lr``, ``print_every`` where it trains).
    """

    id: str  # "E03", or a user's own label
    name: str  # "polynomial_autograd"
    reference: str  # dotted path of the reference module (FRAMEWORK, train or values)
    config: Any
    param_shapes: Mapping[str, tuple[int, ...]]  # names and shapes, in the reference's order
    make_data: Callable[[Any], dict[str, np.ndarray]]  # cfg -> the arrays both frameworks are handed
    default_init: Mapping[str, Any] | None = None  # where the seed fixes the initial values
    draw: Callable[[int], Mapping[str, Any]] | None = None  # --seed S -> the network's own init (default: normals)

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"

    def init(self, seed: int | None = None) -> dict[str, np.ndarray]:
        """Initial values (float64): the seed's fixed ones when it has them and no ``seed`` is given,
        else ``numpy.random.default_rng(seed)`` draws (seed 0 by default): :attr:`draw` where given,
        else standard normals (:func:`jaxport.params.draw`)."""
        from jaxport import params

        if seed is None and self.default_init is not None:
            return params.validate(self.default_init, self.param_shapes, source=f"{self.id} default init")
        seed = 0 if seed is None else seed
        if self.draw is not None:
            return params.validate(self.draw(seed), self.param_shapes, source=f"{self.id} init drawn from seed {seed}")
        return params.draw(self.param_shapes, seed)


@dataclass(frozen=True, eq=False, kw_only=True)
class ValuesExample(Example):
    """A demonstration with no training loop (a layer's forward, one optimizer step, a loss): its
    ``values(params, data, cfg) -> {name: array}`` and the reference's ``values`` are compared leaf by leaf."""

    values: Callable[..., dict[str, Any]]
    value_lines: Callable[[Mapping[str, np.ndarray]], list[str]] | None = None  # the seed's printed lines
    kind: ClassVar[str] = "values"


@dataclass(frozen=True, eq=False, kw_only=True)
class TrainingExample(Example):
    """A training loop, checked in the same-point, teacher-forced, free-running and drift regimes.

    The training state is a flat ``{name: array}``: the parameters, the ``optimizer``'s state under
    torch's names (``exp_avg.fc1.weight``, :func:`jaxport.optim.state_to_flat`) and ``extra_state``.
    A step is derived: ``loss_and_grad`` on step ``t``'s data, then :meth:`apply`; give ``step`` only
    where the seed's step does more (BatchNorm's buffers, a running loss printed per epoch). Every
    callable that depends on the config takes it.
    """

    loss_and_grad: Callable[[Any, Any], tuple[Any, Any]]  # (params, data at step t) -> (loss, grads)
    report_line: Callable[[int, Mapping[str, np.ndarray]], str]  # (t, the step's aux) -> the seed's periodic line
    result_lines: Callable[[Mapping[str, np.ndarray], float], list[str]]  # (final state, last loss) -> final lines
    optimizer: Callable[[Any], Any] | None = None  # cfg -> a jaxport.optim (optax) transformation
    update: Callable[..., dict[str, Any]] | None = None  # (state, grads, data, t, cfg) -> state, where not the optimizer's
    step: Callable[..., tuple[dict[str, Any], dict]] | None = None  # (state, data, t, cfg) -> (state, {"loss", ...})
    extra_state: Callable[[Mapping[str, Any], Any], dict[str, Any]] | None = None  # (params, cfg) -> more leaves
    header_lines: Callable[[Any], list[str]] | None = None  # cfg -> lines printed before the run
    printed: Callable[[int, Any], bool] | None = None  # (t, cfg) -> print step t? (default t % every == every - 1)
    per_step: tuple[str, ...] = ()  # data keys whose leading axis is the step (E08's orders)
    # (params, step t's data, cfg) -> lines saying where JAX's step first parts from the reference's
    # (jaxport.check's: the first layer and gradient, jaxport.divergence); run when a regime fails
    diagnose: Callable[[Mapping[str, np.ndarray], Mapping[str, Any], Any], list[str]] | None = None
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # loop-invariant data, once per chunk
    batch_axes: Mapping[str, int] = dataclasses.field(default_factory=dict)  # what --data-parallel shards
    kind: ClassVar[str] = "training"

    def __post_init__(self):
        if self.step is None and not self.has_update:
            raise TypeError(f"{self.label}: a TrainingExample needs a step, or an optimizer or update to derive one from")

    def state(self, params: Mapping[str, Any], cfg: Any = None) -> dict[str, Any]:
        """The training state at ``params`` for ``cfg`` (default the seed's)."""
        cfg = self.config if cfg is None else cfg
        p = {k: params[k] for k in self.param_shapes}
        s = p
        if self.optimizer is not None:
            from jaxport import optim  # (imports optax: only where there is an optimizer)

            s = optim.init_flat(self.optimizer(cfg), p)
        return s if self.extra_state is None else {**s, **self.extra_state(p, cfg)}

    def params_in(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters inside a training state."""
        return {k: state[k] for k in self.param_shapes}

    @property
    def has_update(self) -> bool:
        """Whether the update alone exists (:meth:`apply`), so teacher forcing can feed it torch's gradients."""
        return self.update is not None or (self.optimizer is not None and self.step is None)

    def apply(self, state: Mapping[str, Any], grads: Mapping[str, Any], data: Any, t: Any, cfg: Any) -> dict[str, Any]:
        """``optimizer.step()``: the state after the update from ``grads`` (:attr:`update`, else the optimizer's)."""
        from jaxport import optim

        if self.update is not None:
            return self.update(state, grads, data, t, cfg)
        if self.optimizer is None:
            raise TypeError(f"{self.label} has no update of its own (no optimizer, no update)")
        return {**state, **optim.update_flat(self.optimizer(cfg), state, grads)}

    def train_step(self, state: Mapping[str, Any], data: Any, t: Any, cfg: Any) -> tuple[dict[str, Any], dict]:
        """One step, ``aux["loss"]`` the loss before the update: :attr:`step`, else gradients then :meth:`apply`."""
        if self.step is not None:
            return self.step(state, data, t, cfg)
        loss, grads = self.loss_and_grad(self.params_in(state), self.at_step(data, t))
        return self.apply(state, grads, data, t, cfg), {"loss": loss}

    def prints_at(self, t: int, cfg: Any) -> bool:
        return self.printed(t, cfg) if self.printed is not None else t % cfg.print_every == cfg.print_every - 1

    def at_step(self, data: Mapping[str, Any], t: Any) -> dict[str, Any]:
        """``data`` as one step sees it: each ``per_step`` key replaced by its element ``t``."""
        return {k: (v[t] if k in self.per_step else v) for k, v in data.items()}

    def prepared(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with :attr:`prepare`'s loop-invariant arrays added (traceable)."""
        return dict(data) if self.prepare is None else {**data, **self.prepare(data)}


@dataclass
class RefRun:
    """A reference (torch or NumPy) training run, with its trajectory when recorded."""

    framework: str
    params: dict[str, np.ndarray]  # final training state (parameters, and optimizer buffers if any)
    losses: np.ndarray  # (steps,) the loss at each step, before that step's update
    seconds: float
    # leaf -> (rows, ...) the state before each recorded step, then the final state (rows: state_steps)
    states: dict[str, np.ndarray] | None = None
    grads: dict[str, np.ndarray] | None = None  # param -> (rows, ...) the gradient at each of grad_steps
    # where the reference gives its optimizer to the recorder: the update of each step at p = 0,
    # "update.NAME" in the run's dtype and "update64.NAME" its float64 truth (reference.update_probe)
    updates: dict[str, np.ndarray] | None = None
    update_steps: np.ndarray | None = None  # the steps those updates were probed at (reference.probing)
    # the steps of the rows of ``states`` and ``grads``: every step (0..steps and 0..steps-1) unless the
    # run recorded a sample (reference.recording: each sampled step t and the state after it, t + 1)
    state_steps: np.ndarray | None = None
    grad_steps: np.ndarray | None = None

    def states_at(self, steps: np.ndarray) -> dict[str, np.ndarray]:
        """The recorded state before each of ``steps`` (``steps`` itself: the final state)."""
        rows = _rows(self.state_steps, steps, "state")
        return {k: v[rows] for k, v in self.states.items()}

    def grads_at(self, steps: np.ndarray) -> dict[str, np.ndarray]:
        """The recorded gradient of each of ``steps``."""
        rows = _rows(self.grad_steps, steps, "gradient")
        return {k: v[rows] for k, v in self.grads.items()}


def _rows(recorded: np.ndarray, steps: np.ndarray, what: str) -> np.ndarray:
    steps = np.asarray(steps, dtype=int)
    rows = np.searchsorted(recorded, steps)
    if steps.size and (rows.max() >= len(recorded) or not np.array_equal(recorded[rows], steps)):
        missing = np.setdiff1d(steps, recorded)
        raise KeyError(f"the reference recorded no {what} at step(s) {missing[:5].tolist()}")
    return rows
