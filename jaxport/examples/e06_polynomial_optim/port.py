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
from jaxport.catalog import identity
from jaxport.examples._polynomial import scalar
from jaxport.examples.e05_polynomial_nn.port import DEFAULT_INIT, SHAPES, loss_and_grad, make_data, model_of, powers, predict, prepare
from jaxport.spec import Positive, TrainingExample

# phase: other
__all__ = ["CONFIG", "EXAMPLE", "loss_and_grad", "model_of", "optimizer", "powers", "predict"]

# phase: setup
Params = dict[str, jax.Array]
NAMES = tuple(SHAPES)  # "0.weight", "0.bias"


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 2000  # seed: for t in range(2000)
    lr: float = 1e-3  # seed: learning_rate = 1e-3; torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    dtype: str = "float32"  # seed: torch's default dtype
    print_every: Positive = 100  # seed: if t % 100 == 99: print("Step:", t, "Loss:", loss.item())


CONFIG = Config()


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    """torch.optim.RMSprop(lr) with torch's defaults: alpha 0.99, eps 1e-8 outside the sqrt."""
    return optim.rmsprop(cfg.lr)


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    return f"Step: {t} Loss: {scalar(aux['loss'])}"  # seed: print("Step:", t, "Loss:", loss.item())


def result_lines(state: Mapping[str, np.ndarray], loss: float) -> list[str]:
    w, b = np.asarray(state["0.weight"]), np.asarray(state["0.bias"])
    # seed: linear_layer = model[0]; print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + ...')
    return [f"Result: y = {b[0].item()} + {w[0, 0].item()} x + {w[0, 1].item()} x^2 + {w[0, 2].item()} x^3"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    report_line=report_line,
    result_lines=result_lines,
    optimizer=optimizer,  # the state, the update and the step are derived from it
    default_init=DEFAULT_INIT,
    prepare=prepare,  # xx, once before the loop (the seed's own order)
)
