"""E02 reference: the seed's torch-tensor network with hand gradients, as written.

Changes from the seed: initial values and data come in as arguments (the same numbers JAX gets);
``dtype`` and ``device`` come from the run's settings; a Recorder keeps the trajectory.
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
    # seed: dtype = torch.float; device = torch.device("cpu"): here run.dtype and run.device, the run's settings

    # phase: data
    # Input and output data (seed: torch.linspace(...) and torch.sin(x)): the shared arrays
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # Initial weights on the device (seed: torch.randn((), device=device, dtype=dtype))
    a, b, c, d = (torch.tensor(params[k], device=run.device, dtype=run.dtype) for k in "abcd")

    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y
        y_pred = a + b * x + c * x**2 + d * x**3

        # phase: loss
        # Compute and print loss
        loss = (y_pred - y).pow(2).sum().item()
        run.rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"{t} {loss}")

        # phase: gradients
        # Backprop to compute gradients of a, b, c, d with respect to loss
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        run.rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": grad_a, "b": grad_b, "c": grad_c, "d": grad_d})

        # phase: update
        # Update weights using gradient descent
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    # phase: report
    result = run.rec.finish({"a": a, "b": b, "c": c, "d": d})
    if run.report is not None:
        run.report(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
        run.report(f"Final Loss: {loss}")
    return result
