"""E08 dynamic_net — seed 000, "Control Flow and Weight Sharing".

The seed's DynamicNet draws ``random.randint(4, 6)`` inside ``forward`` and adds ``e * x**exp`` for
``exp in range(4, order)``: Python control flow decides the graph each step, and the one parameter
``e`` is shared by every extra term. The contrast: under ``jax.grad`` the same Python loop works
unchanged (:func:`predict_eager`: the order is a Python int, the trace is rebuilt per order), but a
compiled ``lax.scan`` needs the order as *data*. Two compiled forms compute exactly the same thing:
masking (:func:`predict`, every term computed, the unused ones replaced by an exact 0) and
``lax.switch`` (:func:`predict_switch`, one branch per order). Randomness is explicit: the orders
are drawn up front (``random.Random(seed).randint(4, 6)``, one per step) and handed to torch too.

When the order is 4, ``e`` is not used: torch leaves ``e.grad`` None and SGD skips ``e`` (no update,
momentum buffer untouched). A zero gradient would still move ``e`` on its momentum, so the step tells
the optimizer which leaves had a gradient (``present=``, see :mod:`jaxport.optim`).

No equivalent by design: A ``random.randint`` inside ``forward`` that rebuilds the graph each step:
a compiled ``lax.scan`` has one fixed program, so the draw becomes data (drawn up front from a seed,
replayed in torch) and the branch a mask or ``lax.switch``. torch's ``e.grad is None`` (an unused
parameter, skipped by SGD) has no JAX counterpart: a gradient is always an array, so absence is
passed explicitly (``present=``).
"""

import dataclasses
import functools
import json
import random
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim
from jaxport.catalog import identity
from jaxport.data import sine_data
from jaxport.errors import UsageError
from jaxport.examples._polynomial import scalar
from jaxport.spec import Magnitude, NonNegative, Positive, TrainingExample

Params = dict[str, jax.Array]
NAMES = ("a", "b", "c", "d", "e")
SHAPES = {k: () for k in NAMES}


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 30000  # seed: for t in range(30000)
    lr: float = 1e-8  # seed: torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    momentum: Magnitude = 0.9  # seed: momentum=0.9 ("training this strange model with vanilla SGD is tough")
    dtype: str = "float32"  # seed: torch.randn's default dtype
    print_every: Positive = 2000  # seed: if t % 2000 == 1999: print(t, loss.item())
    seed: NonNegative = 0  # the orders: random.Random(seed).randint(4, 6), one per step (the seed's random.randint)
    orders_file: str | None = None  # or a JSON list of orders (4, 5 or 6), one per step


CONFIG = Config()


# phase: data
def draw_orders(seed: int, steps: int) -> np.ndarray:
    """The seed's ``random.randint(4, 6)`` (inclusive), one per step, from ``random.Random(seed)``."""
    rng = random.Random(seed)
    return np.array([rng.randint(4, 6) for _ in range(steps)], dtype=np.int32)


def load_orders(path: str, steps: int) -> np.ndarray:
    """Orders from a JSON list; a clear error if it is not a list of exactly ``steps`` 4s, 5s and 6s."""
    try:
        raw = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"--orders {path}: no such file") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"--orders {path}: cannot read it ({type(e).__name__}: {e})") from None
    if not isinstance(raw, list) or not all(type(v) is int and v in (4, 5, 6) for v in raw):
        raise UsageError(f"--orders {path}: expected a JSON list of orders 4, 5 or 6")
    if len(raw) != steps:
        raise UsageError(f"--orders {path}: has {len(raw)} orders, the run has {steps} steps: expected one per step "
                         f"(--steps {len(raw)} runs them all)")
    return np.array(raw, dtype=np.int32)


def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """The sine data and each step's order (``orders[t]``), the same for both frameworks."""
    orders = load_orders(cfg.orders_file, cfg.steps) if cfg.orders_file else draw_orders(cfg.seed, cfg.steps)
    return {**sine_data(cfg.dtype), "orders": orders}


# phase: model
def _base(params: Params, x: jax.Array) -> jax.Array:
    return params["a"] + params["b"] * x + params["c"] * x**2 + params["d"] * x**3


def predict_eager(params: Params, x: jax.Array, order: int) -> jax.Array:
    """The seed's forward, Python loop and all: ``order`` is a Python int (works under ``jax.grad``)."""
    y = _base(params, x)
    for exp in range(4, order):
        y = y + params["e"] * x**exp
    return y


def predict(params: Params, x: jax.Array, order: jax.Array) -> jax.Array:
    """The compiled form by masking: both extra terms computed, an unused one replaced by an exact 0.

    ``y + 0`` is exact, so the adds happen in the seed's order (XLA may still fuse a multiply and
    an add into one FMA, as it may in any jitted form).
    """
    y = _base(params, x)
    for exp in (4, 5):
        y = y + jnp.where(exp < order, params["e"] * x**exp, 0)
    return y


def predict_switch(params: Params, x: jax.Array, order: jax.Array) -> jax.Array:
    """The compiled form by ``lax.switch``: one branch per order, the branch picked at run time."""
    branches = [lambda p, xx, n=n: predict_eager(p, xx, n) for n in (4, 5, 6)]
    return jax.lax.switch(order - 4, branches, params, x)


# phase: loss
def loss_fn(params: Params, data: Mapping[str, jax.Array], forward=predict) -> jax.Array:
    """``MSELoss(reduction='sum')`` at this step's order, ``data["orders"]`` (a scalar here)."""
    return ((forward(params, data["x"], data["orders"]) - data["y"]) ** 2).sum()


# phase: gradients
loss_and_grad = jax.value_and_grad(loss_fn)


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    return optim.sgd(cfg.lr, momentum=cfg.momentum)


def update(state: Mapping[str, jax.Array], grads: Params, data: Mapping[str, jax.Array], t: jax.Array, cfg: Config):
    """``optimizer.step()``: SGD with momentum from ``grads``, ``e`` absent at an order-4 step (torch's
    ``e.grad is None``: no update, its buffer and step count left alone)."""
    present = {k: (data["orders"][t] > 4) if k == "e" else True for k in NAMES}
    return optim.update_flat(optimizer(cfg), state, grads, present=present)


# phase: report
def string(params: Mapping[str, np.ndarray]) -> str:
    """The seed's ``string()``, question marks and all."""
    a, b, c, d, e = (scalar(params[k]) for k in NAMES)
    return f"y = {a} + {b} x + {c} x^2 + {d} x^3 + {e} x^4 ? + {e} x^5 + {e} x^6 ?"


def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"{t} {scalar(aux['loss'])}"  # seed: print(t, loss.item())


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    return [f"Result: {string(state)}"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    report_line=report_line,
    result_lines=result_lines,
    optimizer=optimizer,
    update=update,  # the optimizer's update, told which leaves have a gradient
    per_step=("orders",),
)

# phase: model
# The same example compiled with the lax.switch forward: one branch per order, picked at run time.
SWITCH = dataclasses.replace(EXAMPLE, loss_and_grad=jax.value_and_grad(functools.partial(loss_fn, forward=predict_switch)))
