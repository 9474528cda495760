"""E07 reference: the seed's custom ``nn.Module`` (Polynomial3) trained with ``torch.optim.SGD``, as written.

Changes from the seed: the four parameters get explicit initial values through
``load_state_dict(strict=True)`` (the constructor still draws ``torch.randn`` as the seed's does;
those values are then replaced) and the data comes in as arguments (the same numbers JAX gets);
``dtype`` and ``device`` come from the run's settings; a Recorder keeps the trajectory.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples._polynomial import PolynomialConfig
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: model
class Polynomial3(torch.nn.Module):
    def __init__(self):
        """
        In the constructor we instantiate four parameters and assign them as
        member parameters of this class.
        """
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        """
        In the forward function we accept a Tensor of input data and we must return
        a Tensor of output data.
        """
        return self.a + self.b * x + self.c * x**2 + self.d * x**3

    # phase: report
    def string(self):
        """
        A custom method that prints out the equation with its current weights.
        """
        return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: PolynomialConfig, run: RunContext) -> RefRun:
    # phase: data
    # Create Tensors to hold input and outputs.
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # phase: model
    # Construct our model by instantiating the class defined above, then give it the run's values
    model = Polynomial3().to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, device=run.device, dtype=run.dtype) for k, v in params.items()}, strict=True)

    # phase: loss
    # Construct our loss function and an Optimizer. The call to model.parameters()
    # in the SGD constructor will contain the learnable parameters (defined
    # with torch.nn.Parameter) which are members of the model.
    criterion = torch.nn.MSELoss(reduction="sum")
    # phase: update
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
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
            run.rec.print(f"Step: {t} Loss: {loss.item()}")

        # phase: gradients
        # Zero gradients, perform a backward pass, and update the weights.
        optimizer.zero_grad()
        loss.backward()
        run.rec.step(model.state_dict(), {name: p.grad for name, p in model.named_parameters()})
        # phase: update
        optimizer.step()

    # phase: report
    result = run.rec.finish(model.state_dict())
    if run.report is not None:
        run.report(f"Result: {model.string()}")
    return result
