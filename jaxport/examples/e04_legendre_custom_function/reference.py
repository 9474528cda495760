"""E04 reference: the seed's custom autograd Function (Legendre P3), as written.

Changes from the seed: initial values (default: the seed's 0, -1, 0, 0.3) and data come in as
arguments; ``dtype`` and ``device`` come from the run's settings; a Recorder keeps the trajectory.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples._polynomial import PolynomialConfig
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: gradients
class LegendrePolynomial3(torch.autograd.Function):
    """P3(t) = 0.5 (5 t^3 - 3 t) with a hand-written backward."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: PolynomialConfig, run: RunContext) -> RefRun:
    # phase: data
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # phase: gradients
    # Weights (seed: torch.full((), 0.0 / -1.0 / 0.0 / 0.3, ..., requires_grad=True))
    a, b, c, d = (torch.tensor(params[k], device=run.device, dtype=run.dtype, requires_grad=True) for k in "abcd")

    # phase: update
    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # To apply our Function, we use Function.apply method. We alias this as 'P3'.
        P3 = LegendrePolynomial3.apply

        # Forward pass: compute predicted y using operations; P3 is our custom autograd operation
        y_pred = a + b * P3(c + d * x)

        # phase: loss
        # Compute and print loss
        loss = (y_pred - y).pow(2).sum()
        run.rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"Step: {t} Loss: {loss.item()}")

        # phase: gradients
        # Use autograd to compute the backward pass.
        loss.backward()
        run.rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": a.grad, "b": b.grad, "c": c.grad, "d": d.grad})

        # phase: update
        # Update weights using gradient descent
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # phase: gradients
            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    # phase: report
    result = run.rec.finish({"a": a, "b": b, "c": c, "d": d})
    if run.report is not None:
        run.report(f"Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)")
    return result
