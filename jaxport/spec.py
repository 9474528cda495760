"""What every example module provides, so one harness, one training loop and one CLI serve them all.

A JAX example module ``jaxport/examples/eNN_name.py`` defines ``EXAMPLE = Example(...)`` from its own
pure functions; its reference (``eNN_name_torch.py``, or the seed's NumPy code for E01) defines
``FRAMEWORK`` and ``train(params, data, cfg, *, device, record, report) -> RefRun``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Config(Protocol):
    """The fields every example config has (each module's frozen dataclass adds its own)."""

    steps: int
    lr: float
    dtype: str
    print_every: int


@dataclass(frozen=True, eq=False)
class Example:
    """A catalog example's JAX port, as the harness and the CLI see it.

    The functions are the module's own; see any example module for their exact signatures:
    ``loss_and_grad(params, data) -> (loss, grads)`` and
    ``step(params, data, t, cfg) -> (params, aux)`` with ``aux["loss"]`` the loss at step ``t``
    (computed before the update, as the seeds print it).
    """

    id: str  # catalog id, "E03"
    name: str  # catalog name, "polynomial_autograd"
    seed_section: str  # where in the seeds it comes from
    teaches: str  # the one JAX contrast it teaches
    config: Any  # the module's Config() with the seed's settings
    param_shapes: Mapping[str, tuple[int, ...]]  # names and shapes, in the reference's order
    make_data: Callable[[Any], dict[str, np.ndarray]]
    loss_and_grad: Callable[..., tuple[Any, Any]]
    step: Callable[..., tuple[Any, dict]]
    report_line: Callable[[int, Mapping[str, np.ndarray]], str]  # the seed's periodic line
    result_lines: Callable[[Mapping[str, np.ndarray], float], list[str]]  # the seed's final lines
    reference: str  # dotted module path of the reference implementation
    default_init: Mapping[str, float] | None = None  # where the seed fixes the initial values

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"

    def init(self, seed: int | None = None) -> dict[str, np.ndarray]:
        """Initial values (float64): the seed's fixed ones when it has them and no ``seed`` is given,
        else ``numpy.random.default_rng(seed)`` draws (seed 0 by default); see :mod:`jaxport.params`."""
        from jaxport import params

        if seed is None and self.default_init is not None:
            return params.validate(self.default_init, self.param_shapes, source=f"{self.id} default init")
        return params.draw(self.param_shapes, 0 if seed is None else seed)

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
    params: dict[str, np.ndarray]  # final parameters
    losses: np.ndarray  # (steps,) the loss at each step, before that step's update
    seconds: float
    states: dict[str, np.ndarray] | None = None  # leaf -> (steps + 1, ...) parameters before each step, then final
    grads: dict[str, np.ndarray] | None = None  # leaf -> (steps, ...) gradient at each step
