"""E14 momentum_forms — seed 001, "Momentum" (and "Optimizers in Pytorch": ``SGD(lr=0.001, momentum=0.9)``).

The notes write momentum as an exponentially weighted moving average, ``V = βV + (1-β) ∂L/∂w`` and
``w -= αV``. torch's SGD keeps a plain sum instead: ``V = μV + g`` (dampening 0), ``w -= lr·V``, and
its first buffer is the raw ``g``. The contrast: each form is one optax transformation, a pure
``(init, update)`` pair with its buffer in an explicit state, so the forms can be run side by side
on the same gradients and their relation *checked*, not argued:

* the notes' form (:func:`ema_momentum`, written here; it is also
  ``optax.chain(optax.ema(β, debias=False), optax.scale(-α))``) with ``α = lr/(1-β)`` equals torch's
  ``SGD(lr, momentum=β)`` (``optim.sgd``, or ``optax.sgd``) at every step, the first included:
  ``V_ema = (1-β)·V_torch`` and the parameters are the same;
* torch's ``SGD(α, momentum=β, dampening=β)`` looks like the notes' form but is not: its first
  buffer is the undamped ``g₁``, so ``V_damp - V_ema = βᵗ·g₁`` at step t (it fades), and the
  parameters end up shifted by ``-α·g₁·β(1-βᵗ)/(1-β)`` (it does not).

The demonstration feeds a fixed stream of gradients (``make_data``: ``steps`` draws of
``1 + N(0, 1)`` from ``default_rng(data_seed)``, the same arrays in both frameworks) to the three
forms from the same ``w``, and returns every step's ``w`` and buffer. Gradients that do not depend on
``w`` isolate the optimizers: what differs is the update rule, nothing else.

No equivalent by design: An optimizer subclass that mutates ``state['V']`` in place
(``V.mul_(β).add_(g)``): an optax transformation is a pair of pure functions, ``init`` and
``update``, its buffer a value in the returned state.
"""

import dataclasses
import functools
from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxport import optim
from jaxport.catalog import identity
from jaxport.data import np_dtype
from jaxport.spec import Magnitude, NonNegative, Positive, ValuesExample

Params = Mapping[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 300  # length of the gradient stream (the notes give the formula, no loop)
    lr: float = 0.001  # torch's lr: seed's torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    beta: Magnitude = 0.9  # β of V = βV + (1-β)∂L/∂w, and torch's momentum: seed's momentum=0.9
    dtype: str = "float32"  # torch's default dtype
    data_seed: NonNegative = 0  # the gradient stream: 1 + numpy.random.default_rng(data_seed) standard normals


CONFIG = Config()
SHAPES = {"w": (5,)}  # one parameter vector, the notes' w
# SGD(lr, momentum=β); the notes' form with α = lr/(1-β); SGD(α, momentum=β, dampening=β)
FORMS = ("torch", "ema", "dampened")


# phase: data
def make_data(cfg: Config) -> dict[str, np.ndarray]:
    """``grads[t]`` = ∂L/∂w at step t: a drift of 1 plus standard-normal noise, ``(steps, 5)``."""
    rng = np.random.default_rng(cfg.data_seed)
    return {"grads": (1.0 + rng.standard_normal((cfg.steps, *SHAPES["w"]))).astype(np_dtype(cfg.dtype))}


# phase: update
class EmaMomentumState(NamedTuple):
    """The notes' momentum V (zeros before the first step)."""

    V: optax.Updates


def ema_momentum(alpha: float, beta: float) -> optax.GradientTransformation:
    """The notes' form: ``V = βV + (1-β)g``, update ``-αV``; V starts at zero, every step damped alike."""

    def init_fn(params: optax.Params) -> EmaMomentumState:
        return EmaMomentumState(jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates: optax.Updates, state: EmaMomentumState, params: optax.Params | None = None):
        del params
        V = jax.tree.map(lambda v, g: beta * v + (1 - beta) * g, state.V, updates)
        return jax.tree.map(lambda v: -alpha * v, V), EmaMomentumState(V)

    return optax.GradientTransformation(init_fn, update_fn)


def transforms(cfg: Config) -> dict[str, optax.GradientTransformation]:
    """The three forms; the notes' α is torch's lr scaled by 1/(1-β)."""
    alpha = cfg.lr / (1 - cfg.beta)
    return {
        "torch": optim.sgd(cfg.lr, momentum=cfg.beta),
        "ema": ema_momentum(alpha, cfg.beta),
        "dampened": optim.sgd(alpha, momentum=cfg.beta, dampening=cfg.beta),
    }


def buffer(state: optax.OptState) -> optax.Updates:
    """The momentum buffer inside either state type."""
    return state.V if isinstance(state, EmaMomentumState) else state.momentum_buffer


# phase: other
def run(tx: optax.GradientTransformation, w: jax.Array, grads: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``tx`` over the stream with ``lax.scan``: ``w`` before every step and after the last, and each step's buffer."""

    def body(carry, g):
        w, state = carry
        updates, state = tx.update(g, state, w)
        w = optax.apply_updates(w, updates)
        return (w, state), (w, buffer(state))

    _, (ws, bufs) = jax.lax.scan(body, (w, tx.init(w)), grads)
    return jnp.concatenate([w[None], ws]), bufs


# phase: report
@functools.partial(jax.jit, static_argnums=2)
def values(params: Params, data: Mapping[str, jax.Array], cfg: Config) -> dict[str, jax.Array]:
    """Each form's ``w`` trajectory ``(steps + 1, 5)`` and buffer trajectory ``(steps, 5)`` on the same stream."""
    out = {}
    for name, tx in transforms(cfg).items():  # FORMS, in order
        out[f"{name}.w"], out[f"{name}.V"] = run(tx, params["w"], data["grads"])
    return out


def value_lines(vals: Mapping[str, np.ndarray]) -> list[str]:
    T = len(vals["torch.V"])
    lines = ["step   w[0]: torch SGD(lr, β)   notes' EMA (α = lr/(1-β))   torch dampening=β (α)"]
    for t in sorted({1, 2, *range(100, T + 1, 100), T}):
        if t <= T:
            torch_w, ema_w, damp_w = (vals[f"{form}.w"][t, 0] for form in FORMS)
            lines.append(f"{t:4d}   {torch_w:22.8f}   {ema_w:25.8f}   {damp_w:21.8f}")
    w_gap = np.abs(np.asarray(vals["ema.w"], np.float64) - vals["torch.w"]).max()
    lines.append(f"max |w_EMA - w_torch| over {T} steps: {w_gap:.3g} (the same trajectory)")
    return lines


# phase: other
EXAMPLE = ValuesExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    values=values,
    value_lines=value_lines,
)
