"""E03 reference: the seed's autograd network, as written.

Changes from the seed: initial values and data come in as arguments (the same numbers JAX gets);
``dtype`` and ``device`` come from the run's settings; the seed's commented-out print of step 99 is
left out (it prints the same line below); a Recorder keeps the trajectory.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples._polynomial import PolynomialConfig
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: PolynomialConfig, run: RunContext) -> RefRun:
    # phase: data
    # Inputs and outputs; requires_grad=False by default: no gradients for these
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # phase: gradients
    # Weights: requires_grad=True asks autograd for their gradients during backward()
    a, b, c, d = (torch.tensor(params[k], device=run.device, dtype=run.dtype, requires_grad=True) for k in "abcd")

    # phase: update
    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y using operations on Tensors.
        y_pred = a + b * x + c * x**2 + d * x**3

        # phase: loss
        # Compute loss using operations on Tensors.
        loss = (y_pred - y).pow(2).sum()
        run.rec.loss(loss)

        # phase: gradients
        # Backward pass: a.grad ... d.grad now hold d loss / d a ... d
        loss.backward()
        run.rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": a.grad, "b": b.grad, "c": c.grad, "d": d.grad})

        # phase: update
        # Manually update weights using gradient descent, outside autograd's tracking
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # phase: report
            if t % cfg.print_every == cfg.print_every - 1:
                run.rec.print(f"Step: {t} Loss: {loss.item()} a.grad: {a.grad} b.grad: {b.grad} c.grad: {c.grad} d.grad: {d.grad}")

            # phase: gradients
            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    # phase: report
    result = run.rec.finish({"a": a, "b": b, "c": c, "d": d})
    if run.report is not None:
        run.report(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
        run.report(f"Final Loss: {loss}")
    return result
