"""E02 polynomial_tensor — seed 000, "Adding Pytorch: Tensors".

The seed moves E01 onto torch tensors and a ``device``; the math and the hand-derived gradients are
unchanged, so this port reuses E01's ``loss_and_grad`` and ``step`` as they are. The one contrast is
placement: torch creates each tensor ``device=device``; JAX picks a device from ``jax.devices()`` and
puts data there with ``jax.device_put``, and a jitted step then runs where its inputs live
(:func:`place` and :func:`placement`).

No equivalent by design: ``device=`` on every tensor operation: a JAX array is placed once
(``jax.device_put``) and a jitted computation runs where its inputs live; there is no per-operation
device argument, because placement is a property of the data, not of each call.
"""

from collections.abc import Mapping

import jax
import numpy as np

from jaxport.catalog import identity
from jaxport.examples._polynomial import SHAPES, PolynomialConfig, make_data, scalar
from jaxport.examples.e01_polynomial_numpy.port import loss_and_grad, predict, step
from jaxport.spec import TrainingExample

# phase: other
__all__ = ["CONFIG", "EXAMPLE", "loss_and_grad", "place", "placement", "predict", "step"]

# phase: setup
# The seed's settings: float32 (`dtype = torch.float`), lr 1e-6, 2000 steps, print every 100.
CONFIG = PolynomialConfig()


# phase: data
def place(tree: Mapping[str, np.ndarray], platform: str = "cpu") -> dict[str, jax.Array]:
    """torch's ``torch.tensor(..., device=device)``: put every array on the first ``platform`` device."""
    device = jax.devices(platform)[0]
    return jax.device_put(dict(tree), device)


def placement(tree: Mapping[str, jax.Array]) -> dict[str, str]:
    """Where each array lives (torch: ``tensor.device``)."""
    return {k: ", ".join(str(d) for d in v.devices()) for k, v in tree.items()}


# phase: report
def report_line(t: int, aux: Mapping[str, np.ndarray]) -> str:
    # seed: print(t, loss) with loss = (...).sum().item()
    return f"{t} {scalar(aux['loss'])}"


def result_lines(params: Mapping[str, np.ndarray], loss: float) -> list[str]:
    a, b, c, d = (scalar(params[k]) for k in "abcd")
    return [f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3", f"Final Loss: {loss}"]


# phase: other
EXAMPLE = TrainingExample(
    **identity(__name__),
    config=CONFIG,
    param_shapes=SHAPES,
    make_data=make_data,
    loss_and_grad=loss_and_grad,
    step=step,
    report_line=report_line,
    result_lines=result_lines,
)
