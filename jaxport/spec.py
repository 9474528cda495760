"""What every example module provides, so one harness, one training loop and one CLI serve them all.

A JAX example module ``jaxport/examples/eNN_name.py`` defines ``EXAMPLE = Example(...)`` from its own
pure functions; its reference (``eNN_name_torch.py``, or the seed's NumPy code for E01) defines
``FRAMEWORK`` and ``train(params, data, cfg, *, device, record, report) -> RefRun``.
"""

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

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


class Config(Protocol):
    """The fields every training example's config has (each module's frozen dataclass adds its own).

    A values example's config has ``dtype`` and only what its values read (``lr`` for one optimizer
    step): the CLI refuses a flag for a field the config does not have (``--steps`` for E10).
    """

    steps: int
    lr: float
    dtype: str
    print_every: int


@dataclass(frozen=True, eq=False)
class Example:
    """A catalog example's JAX port, as the harness and the CLI see it.

    Two kinds. A **training** example gives ``loss_and_grad(params, data) -> (loss, grads)`` and
    ``step(state, data, t, cfg) -> (state, aux)`` with ``aux["loss"]`` the loss at step ``t``
    (before the update, as the seeds print it); the harness checks it in the same-point,
    teacher-forced, free-running and float64-drift regimes. A **values** example (a demonstration
    with no training loop: a layer's forward, one optimizer step, a loss function) gives
    ``values(params, data, cfg) -> {name: array}`` and its reference the same names; the harness
    compares them leaf by leaf in the ``values`` regime.

    The training state is a flat ``{name: array}``: the parameters, plus, for an example with an
    optimizer, its buffers under names of their own (``init_state`` builds it from the parameters,
    ``params_of`` takes the parameters back out). The reference records the same names, so a
    teacher-forced step starts from torch's optimizer state too.
    """

    id: str  # catalog id, "E03"
    name: str  # catalog name, "polynomial_autograd"
    seed_section: str  # where in the seeds it comes from
    teaches: str  # the one JAX contrast it teaches
    config: Any  # the module's Config() with the seed's settings
    param_shapes: Mapping[str, tuple[int, ...]]  # names and shapes, in the reference's order
    make_data: Callable[[Any], dict[str, np.ndarray]]
    reference: str  # dotted module path of the reference implementation
    # training examples
    loss_and_grad: Callable[..., tuple[Any, Any]] | None = None
    step: Callable[..., tuple[Any, dict]] | None = None
    report_line: Callable[[int, Mapping[str, np.ndarray]], str] | None = None  # the seed's periodic line
    result_lines: Callable[[Mapping[str, np.ndarray], float], list[str]] | None = None  # the seed's final lines
    header_lines: Callable[[Any], list[str]] | None = None  # printed before a run (e.g. which dataset it reads)
    # the update alone, from given gradients: apply(state, grads, data, t, cfg) -> state. With it the
    # teacher-forced regime feeds torch's own gradients to one JAX update (isolating the optimizer)
    apply: Callable[..., dict[str, Any]] | None = None
    init_state: Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]] | None = None  # params -> state
    params_of: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # state -> params
    # values examples
    values: Callable[..., dict[str, Any]] | None = None
    value_lines: Callable[[Mapping[str, np.ndarray]], list[str]] | None = None  # the seed's printed lines
    default_init: Mapping[str, Any] | None = None  # where the seed fixes the initial values
    # a network's own init distribution, for ``--seed S``: draw(S) -> {name: array} from default_rng(S)
    # (default: one standard normal per value, jaxport.params.draw; a 784-wide MLP needs its std 0.01)
    draw: Callable[[int], Mapping[str, Any]] | None = None
    # data keys whose leading axis is the step (E08's drawn orders): loss_and_grad sees one element
    per_step: tuple[str, ...] = ()
    # loop-invariant data the seed computes once before its loop (E05/E06: xx = x.unsqueeze(-1).pow(p)):
    # prepare(data) -> {name: array}, added to the data once per compiled chunk of steps, not once per step
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # data keys with a batch axis, and which axis: what a data-parallel run shards (jaxport.parallel)
    batch_axes: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        training = self.step is not None and self.loss_and_grad is not None
        if training == (self.values is not None):
            raise TypeError(f"{self.id}: an Example gives either step and loss_and_grad, or values")

    @property
    def kind(self) -> str:
        return "values" if self.values is not None else "training"

    def state(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The training state for these parameters (the parameters alone, unless there is an optimizer)."""
        return dict(params) if self.init_state is None else self.init_state(params)

    def at_step(self, data: Mapping[str, Any], t: Any) -> dict[str, Any]:
        """``data`` as one step sees it: each ``per_step`` key replaced by its element ``t``."""
        return {k: (v[t] if k in self.per_step else v) for k, v in data.items()}

    def prepared(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with :attr:`prepare`'s loop-invariant arrays added (traceable)."""
        return dict(data) if self.prepare is None else {**data, **self.prepare(data)}

    def params_in(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters inside a training state."""
        return dict(state) if self.params_of is None else self.params_of(state)

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"

    def init(self, seed: int | None = None) -> dict[str, np.ndarray]:
        """Initial values (float64): the seed's fixed ones when it has them and no ``seed`` is given,
        else ``numpy.random.default_rng(seed)`` draws (seed 0 by default): from :attr:`draw`, the
        network's own distribution, where the example has one, else standard normals (:mod:`jaxport.params`)."""
        from jaxport import params

        if seed is None and self.default_init is not None:
            return params.validate(self.default_init, self.param_shapes, source=f"{self.id} default init")
        seed = 0 if seed is None else seed
        if self.draw is not None:
            return params.validate(self.draw(seed), self.param_shapes, source=f"{self.id} init drawn from seed {seed}")
        return params.draw(self.param_shapes, seed)

    def train(self, params: Mapping[str, np.ndarray], cfg: Any = None, *, device: str = "cpu",
              report: Callable[[str], None] | None = print):
        """Train the JAX port from ``params`` (cast to the config's dtype), printing the seed's lines.

        Returns a :class:`jaxport.training.TrainResult` (final params, losses, seconds).
        """
        from jaxport import params as params_mod
        from jaxport import training

        cfg = self.config if cfg is None else cfg
        return training.train(self, params_mod.cast(params, cfg.dtype), cfg, device=device, report=report)


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
