"""E03 reference: the seed's autograd network, as written.

Changes from the seed: initial values and data come in as arguments (the same numbers JAX gets);
``dtype`` and ``device`` come from the run's settings; the seed's commented-out print of step 99 is
left out (it prints the same line below); a Recorder keeps the trajectory.
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
    rec = Recorder("E03 polynomial_autograd", FRAMEWORK, record, report)
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    # phase: data
    # Inputs and outputs; requires_grad=False by default: no gradients for these
    x = torch.tensor(data["x"], device=device, dtype=dtype)
    y = torch.tensor(data["y"], device=device, dtype=dtype)

    # phase: gradients
    # Weights: requires_grad=True asks autograd for their gradients during backward()
    a, b, c, d = (torch.tensor(params[k], device=device, dtype=dtype, requires_grad=True) for k in "abcd")

    # phase: update
    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y using operations on Tensors.
        y_pred = a + b * x + c * x**2 + d * x**3

        # phase: loss
        # Compute loss using operations on Tensors.
        loss = (y_pred - y).pow(2).sum()
        rec.loss(loss)

        # phase: gradients
        # Backward pass: a.grad ... d.grad now hold d loss / d a ... d
        loss.backward()
        rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": a.grad, "b": b.grad, "c": c.grad, "d": d.grad})

        # phase: update
        # Manually update weights using gradient descent, outside autograd's tracking
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad

            # phase: report
            if t % cfg.print_every == cfg.print_every - 1:
                rec.print(f"Step: {t} Loss: {loss.item()} a.grad: {a.grad} b.grad: {b.grad} c.grad: {c.grad} d.grad: {d.grad}")

            # phase: gradients
            # Manually zero the gradients after updating weights
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    # phase: report
    run = rec.finish({"a": a, "b": b, "c": c, "d": d})
    if report is not None:
        report(f"Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3")
        report(f"Final Loss: {loss}")
    return run
