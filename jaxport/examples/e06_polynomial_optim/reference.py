"""E06 reference: the seed's optim-package network (RMSprop), as written.

Changes from the seed: initial values come in as a ``state_dict`` (``load_state_dict(strict=True)``
instead of torch's random init) and the data as arguments (the same numbers JAX gets); ``dtype``
and ``device`` come from the run's settings; a Recorder keeps the parameters, RMSprop's
``square_avg`` (zeros before the first step) and its per-parameter ``step`` under the JAX names.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import RunContext, optimizer_state, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: data
    # Create Tensors to hold input and outputs (the shared arrays).
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)

    # Prepare the input tensor (x, x^2, x^3).
    p = torch.tensor(data["p"].tolist(), device=run.device)
    xx = x.unsqueeze(-1).pow(p)

    # phase: model
    # Use the nn package to define our model and loss function.
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, device=run.device, dtype=run.dtype) for k, v in params.items()}, strict=True)
    # phase: loss
    loss_fn = torch.nn.MSELoss(reduction="sum")

    # phase: update
    # Use the optim package to define an Optimizer that will update the weights of the model for us.
    learning_rate = cfg.lr
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y by passing x to the model.
        y_pred = model(xx)

        # phase: loss
        # Compute and print loss.
        loss = loss_fn(y_pred, y)
        run.rec.loss(loss)
        # phase: report
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"Step: {t} Loss: {loss.item()}")

        # phase: gradients
        # Zero the gradients, backward pass, then let the optimizer update the parameters.
        optimizer.zero_grad()
        loss.backward()
        if run.record:
            run.rec.step(optimizer_state(model, optimizer), {name: q.grad for name, q in model.named_parameters()},
                         optimizer, dict(model.named_parameters()))
        # phase: update
        optimizer.step()

    # phase: report
    result = run.rec.finish(optimizer_state(model, optimizer))
    if run.report is not None:
        linear_layer = model[0]
        run.report(f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
                   f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3")
    return result
