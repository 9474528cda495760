"""E08 reference: the seed's DynamicNet, as written, with its random draws replayed.

Changes from the seed: initial values come in (the seed: ``torch.randn(())`` per parameter); the
order of each step comes from ``data["orders"]`` instead of ``random.randint(4, 6)`` inside
``forward`` (the same draws, made up front so JAX gets them too); the Recorder keeps the
parameters, SGD's momentum buffers and whether each buffer exists yet (torch creates it at a
parameter's first gradient), so a JAX step can start from torch's exact optimizer state.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import RunContext, optimizer_state, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"
NAMES = ("a", "b", "c", "d", "e")


# phase: model
class DynamicNet(torch.nn.Module):
    def __init__(self, orders):
        """Five parameters; 'e' is needed when the order is 5 or 6."""
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))
        self.e = torch.nn.Parameter(torch.randn(()))
        self.orders = iter(orders)  # replaces random.randint(4, 6): the same draws, made up front

    def forward(self, x):
        """Python control flow builds the graph: 4, 5 or 6 terms, the extra ones sharing 'e'."""
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, next(self.orders)):
            y = y + self.e * x**exp
        return y

    # phase: report
    def string(self):
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 + {self.e.item()} x^6 ?"


@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: data
    # Create Tensors to hold input and outputs (the shared arrays).
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # phase: model
    # Construct our model, then give it the shared initial values.
    model = DynamicNet(data["orders"][: cfg.steps].tolist()).to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(params[k], dtype=run.dtype) for k in NAMES}, strict=True)

    # phase: loss
    # Training this strange model with vanilla stochastic gradient descent is tough, so we use momentum
    criterion = torch.nn.MSELoss(reduction="sum")
    # phase: update
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    counts = dict.fromkeys(NAMES, 0)  # steps in which each parameter had a gradient (SGD skips the others)
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: Compute predicted y by passing x to the model
        y_pred = model(x)

        # phase: loss
        # Compute and print loss
        loss = criterion(y_pred, y)
        run.rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"{t} {loss.item()}")

        # phase: gradients
        # Zero gradients, perform a backward pass, and update the weights.
        optimizer.zero_grad()
        loss.backward()
        if run.record:  # e.grad is None when the order was 4: recorded as 0, and SGD skips e
            grads = {k: (torch.zeros_like(p) if p.grad is None else p.grad) for k, p in zip(NAMES, model.parameters())}
            run.rec.step(optimizer_state(model, optimizer, counts=counts), grads,
                         optimizer, dict(zip(NAMES, model.parameters())))
        # phase: update
        optimizer.step()
        for k in NAMES:
            counts[k] += getattr(model, k).grad is not None

    # phase: report
    result = run.rec.finish(optimizer_state(model, optimizer, counts=counts))
    if run.report is not None:
        run.report(f"Result: {model.string()}")
    return result
