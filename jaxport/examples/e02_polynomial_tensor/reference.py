"""E02 reference: the seed's torch-tensor network with hand gradients, as written.

Changes from the seed: initial values and data come in as arguments (the same numbers JAX gets);
``dtype`` and ``device`` come from the run's settings; a Recorder keeps the trajectory.
"""

from collections.abc import Callable, Mapping

import numpy as np
import torch

from jaxport.examples._polynomial import PolynomialConfig
from jaxport.reference import Recorder, torch_device, torch_dtype
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: setup
def train(
    params: Mapping[str, np.ndarray],
    data: Mapping[str, np.ndarray],
    cfg: PolynomialConfig,
    *,
    device: str = "cpu",
    record: bool = False,
    report: Callable[[str], None] | None = None,
) -> RefRun:
    rec = Recorder("E02 polynomial_tensor", FRAMEWORK, record, report)
    dtype = torch_dtype(cfg.dtype)  # seed: dtype = torch.float
    device = torch_device(device)  # seed: device = torch.device("cpu")

    # phase: data
    # Input and output data (seed: torch.linspace(...) and torch.sin(x)): the shared arrays
    x = torch.tensor(data["x"], device=device, dtype=dtype)
    y = torch.tensor(data["y"], device=device, dtype=dtype)

    # Initial weights on the device (seed: torch.randn((), device=device, dtype=dtype))
    a, b, c, d = (torch.tensor(params[k], device=device, dtype=dtype) for k in "abcd")

    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y
        y_pred = a + b * x + c * x**2 + d * x**3

        # phase: loss
        # Compute and print loss
        loss = (y_pred - y).pow(2).sum().item()
        rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            rec.print(f"{t} {loss}")

        # phase: gradients
        # Backprop to compute gradients of a, b, c, d with respect to loss
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": grad_a, "b": grad_b, "c": grad_c, "d": grad_d})

        # phase: update
        # Update weights using gradient descent
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    # phase: report
    run = rec.finish({"a": a, "b": b, "c": c, "d": d})
    if report is not None:
        report(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
        report(f"Final Loss: {loss}")
    return run
