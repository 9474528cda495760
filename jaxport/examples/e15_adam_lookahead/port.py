"""E15 adam_lookahead — seed 001, "Modern Optimizers" (Adam; LookAhead).

The notes name two optimizers and give no code: Adam (``torch.optim.Adam()``, "Building a new
network? Start with Adam"; ``m_t = β₁m + (1-β₁)g``, ``v_t = β₂v + (1-β₂)g²``,
``w -= η m̂/(√v̂ + ε)``) and LookAhead ("a fast and slow one ... after a number of iterations, the
slow optimizer is then moved to the linear interpolation between the two"; Zhang et al. 2019:
k fast steps, then ``slow += α(fast - slow)`` and ``fast = slow``). Here both run on the seed's own
problem from the cells before (E13: MyCoolNet(5, 5), ``loss = sum(out²)`` at ``x = [1..5]``, the same
initial weights): LookAhead with Adam as its fast optimizer. With ``k`` larger than ``steps`` no
synchronisation happens and the run is plain Adam.

The contrast: torch's Adam keeps ``exp_avg``, ``exp_avg_sq`` and ``step`` in ``optimizer.state[p]``
and a LookAhead wrapper keeps slow copies beside it, all mutated by ``step()``. Here the optimizer is
one optax transformation, ``optim.lookahead(optim.adam(...))``, and its whole state is part of the
training state under torch's names (``exp_avg.lin1.weight``, ``exp_avg_sq.*``, ``count.*``,
``slow.*``, ``count``): a pure step takes it in and returns it. ``optim.adam`` follows
torch's arithmetic; plain ``optax.adam`` computes ``1 - β₂ᵗ`` in float32 when x64 is off (6e-6
relative on the first update), and ``optax.lookahead`` keeps fast and slow weights together in the
params (``LookaheadParams``) instead of in the state.

No equivalent by design: LookAhead's slow weights held in a Python object beside the optimizer and
copied into the model in place every k steps: in JAX they are part of the one optimizer state, and
the synchronisation every k steps is arithmetic on the step count, so the whole loop still compiles.
"""

import dataclasses
from collections.abc import Mapping

import jax
import optax

from jaxport import optim
from jaxport.catalog import identity
from jaxport.examples.e13_mycoolnet import port as e13
from jaxport.spec import Fraction, Magnitude, Positive, TrainingExample

Params = Mapping[str, jax.Array]
NAMES = e13.NAMES


@dataclasses.dataclass(frozen=True)
class Config:
    steps: Positive = 100  # the notes give no loop: 100 steps of E13's loop (seed cell [179]) with Adam
    lr: float = 1e-3  # seed: torch.optim.Adam() with its default lr (η)
    betas: tuple[Fraction, Fraction] = (0.9, 0.999)  # torch.optim.Adam's defaults: β₁ of m_t, β₂ of v_t
    eps: Magnitude = 1e-8  # torch.optim.Adam's default ε
    k: Positive = 5  # LookAhead: fast steps between synchronisations (Zhang et al.'s k = 5)
    alpha: Magnitude = 0.5  # LookAhead: slow step size (Zhang et al.'s α = 0.5)
    dtype: str = "float32"  # seed: float32 tensors
    print_every: Positive = 10  # the seed's print(f"Loss {i}: {loss.item()}"), every 10th step here


CONFIG = Config()
BUFFERS = ("exp_avg", "exp_avg_sq", "slow")  # optimizer state leaves shaped like the parameters
# phase: data
make_data = e13.make_data
# phase: gradients
loss_and_grad = e13.loss_and_grad


# phase: update
def optimizer(cfg: Config) -> optax.GradientTransformationExtraArgs:
    """``Lookahead(torch.optim.Adam(params, lr, betas, eps), k, alpha)`` as one optax transformation."""
    return optim.lookahead(optim.adam(cfg.lr, betas=cfg.betas, eps=cfg.eps), k=cfg.k, alpha=cfg.alpha)


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=e13.SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    report_line=e13.report_line,
    result_lines=e13.result_lines,
    optimizer=optimizer,  # the state, the update and the step are derived from it
    default_init=e13.DEFAULT_INIT,
)
