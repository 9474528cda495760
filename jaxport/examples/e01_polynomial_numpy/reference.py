"""E01 reference: the seed's NumPy network, as written, with explicit initial values.

Changes from the seed: ``a, b, c, d`` come in as arguments instead of ``np.random.randn()``;
the data comes in (the same array JAX gets); a Recorder keeps the trajectory.
"""

from collections.abc import Mapping

import numpy as np

from jaxport.examples._polynomial import PolynomialConfig
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "numpy"  # cpu only: training_reference refuses another --device


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: PolynomialConfig, run: RunContext) -> RefRun:
    # phase: data
    x, y = data["x"], data["y"]

    # Initial weights (the seed: a = np.random.randn() ...), as NumPy scalars of the run's dtype
    a, b, c, d = (params[k][()] for k in "abcd")

    learning_rate = cfg.lr

    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y
        y_pred = a + b * x + c * x**2 + d * x**3

        # phase: loss
        # Compute and print loss
        loss = np.square(y_pred - y).sum()
        run.rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"step: {t} loss: {loss}")

        # phase: gradients
        # Backprop to compute gradients of a, b, c, d with respect to loss
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        run.rec.step({"a": a, "b": b, "c": c, "d": d}, {"a": grad_a, "b": grad_b, "c": grad_c, "d": grad_d})

        # phase: update
        # Update weights
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d

    # phase: report
    result = run.rec.finish({"a": a, "b": b, "c": c, "d": d})
    if run.report is not None:
        run.report(f"Result: y = {a} + {b} x + {c} x^2 + {d} x^3")
    return result
