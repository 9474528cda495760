"""E06 polynomial_optim — seed 000, "PyTorch's Optim Package".

The seed keeps E05's model and loss and hands the update to ``torch.optim.RMSprop(lr=1e-3)``:
``optimizer.zero_grad(); loss.backward(); optimizer.step()``. The contrast: an optax optimizer is a
pair of pure functions, and its state (RMSprop's running average of squared gradients) is a value
passed in and returned, not a buffer hidden inside an object. Plain ``optax.rmsprop`` is not torch's:
its defaults are decay 0.9 and eps *inside* the square root (torch: alpha 0.99, eps outside), 3%
off at the first step; ``jaxport.optim.rmsprop`` has torch's semantics.

The free-running trajectory is chaotic: by symmetry the gradients of the even coefficients (x² and
the bias) are ~0, and RMSprop divides that rounding noise by its own running RMS, taking steps of
size ~lr in directions set by noise. Two runs that differ by rounding part ways (float32 after a few
hundred steps, float64 too); the harness judges the free run against each framework's own rounding
envelope instead of a fixed tolerance (see ``OVERRIDES`` in :mod:`jaxport.tolerances`), while the
same-point and teacher-forced regimes (gradients; the update from torch's gradients) stay tight.

No equivalent by design: An optimizer object holding ``square_avg`` inside itself: optax's (and
``jaxport.optim``'s) state is a value passed to ``update`` and returned by it, so a step is a
function of (params, state, grads) with no hidden buffers, and ``optimizer.zero_grad()`` has nothing
to act on.
"""

import dataclasses
from collections.abc import Mapping

import jax
import numpy as np
import optax

from jaxport import optim
from jaxport.examples._polynomial import scalar
from jaxport.examples.e05_polynomial_nn.port import DEFAULT_INIT, SHAPES, loss_and_grad, make_data, model_of, powers, predict, prepare
from jaxport.spec import Example, Positive

__all__ = ["CONFIG", "EXAMPLE", "apply", "init_state", "loss_and_grad", "model_of", "optimizer", "powers", "predict", "step"]

Params = dict[str, jax.Array]
NAMES = tuple(SHAPES)  # "0.weight", "0.bias"


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 2000  # seed: for t in range(2000)
    lr: float = 1e-3  # seed: learning_rate = 1e-3; torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    dtype: str = "float32"  # seed: torch's default dtype
    print_every: Positive = 100  # seed: if t % 100 == 99: print("Step:", t, "Loss:", loss.item())


CONFIG = Config()


def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    """torch.optim.RMSprop(lr) with torch's defaults: alpha 0.99, eps 1e-8 outside the sqrt."""
    return optim.rmsprop(cfg.lr)


def init_state(params: Mapping[str, np.ndarray]) -> dict[str, jax.Array]:
    """Parameters, RMSprop's ``square_avg`` (zeros) and per-parameter ``count`` (torch's ``step``)."""
    return optim.init_flat(optimizer(CONFIG), params)


def params_of(state: Mapping[str, jax.Array]) -> Params:
    return {k: state[k] for k in NAMES}


def apply(state: Mapping[str, jax.Array], grads: Params, data, t, cfg: Config) -> dict[str, jax.Array]:
    """``optimizer.step()``: the optax update from ``grads``, state in and state out."""
    return optim.update_flat(optimizer(cfg), state, grads)


def step(state: Mapping[str, jax.Array], data: Mapping[str, jax.Array], t: jax.Array, cfg: Config):
    """``zero_grad(); backward(); step()`` as one pure function: gradients, then :func:`apply`."""
    loss, grads = loss_and_grad(params_of(state), data)
    return apply(state, grads, data, t, cfg), {"loss": loss}


def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Step: {t} Loss: {scalar(aux['loss'])}"  # seed: print("Step:", t, "Loss:", loss.item())


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    w, b = np.asarray(state["0.weight"]), np.asarray(state["0.bias"])
    # seed: linear_layer = model[0]; print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + ...')
    return [f"Result: y = {b[0].item()} + {w[0, 0].item()} x + {w[0, 1].item()} x^2 + {w[0, 2].item()} x^3"]


EXAMPLE = Example(
    id="E06",
    name="polynomial_optim",
    seed_section="000 Learning Pytorch: PyTorch's Optim Package",
    teaches="an optax optimizer is (init, update) and its state is a value; jaxport.optim.rmsprop has torch's semantics where optax.rmsprop's defaults differ",
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    reference="jaxport.examples.e06_polynomial_optim.reference",
    loss_and_grad=loss_and_grad,
    step=step,
    report_line=report_line,
    result_lines=result_lines,
    apply=apply,
    init_state=init_state,
    params_of=params_of,
    default_init=DEFAULT_INIT,
    prepare=prepare,  # xx, once before the loop (the seed's own order)
)
