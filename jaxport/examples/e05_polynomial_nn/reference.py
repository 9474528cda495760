"""E05 reference: the seed's ``nn`` network, as written.

Changes from the seed: initial values come in as a ``state_dict`` (``load_state_dict(strict=True)``
instead of torch's random init) and the data as arguments (the same numbers JAX gets); ``dtype`` and
``device`` come from the run's settings; a Recorder keeps the trajectory. Its prints are the seed's,
its inputs' (``x``, ``y``, ``p``, ``xx``) included: ``jaxport run E05 --framework torch`` prints what the
seed's own script prints (``parity_tests/test_seed_scripts.py``).
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples.e05_polynomial_nn.port import Config
from jaxport.reference import RunContext, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: setup
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg: Config, run: RunContext) -> RefRun:
    # phase: data
    # Create Tensors to hold input and outputs. Both will be 2000-element 1D Tensors
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)
    y = torch.tensor(data["y"], device=run.device, dtype=run.dtype)
    if run.report is not None:
        run.report(f"x tensor of inputs x, shape: {x.shape} contents:\n {x}")
        run.report(f"y tensor of true outputs y, shape: {y.shape} contents:\n {y}")

    # Prepare the tensor of (x, x^2, x^3) values: x.unsqueeze(-1) has shape (2000, 1), p has shape
    # (3,), broadcasting gives (2000, 3), each column raised to its own power
    p = torch.tensor(data["p"].tolist(), device=run.device)  # the seed's torch.tensor([1, 2, 3]), int64
    if run.report is not None:
        run.report(f"p tensor of powers (x,x^2,x^3), shape: {p.shape} contents:\n {p}")
    xx = x.unsqueeze(-1).pow(p)
    if run.report is not None:
        run.report(f"xx tensor of x,x^2,x^3-values, shape: {xx.shape} contents:\n {xx}")

    # phase: model
    # The model as a sequence of layers: Linear(3, 1) computes xx A^T + b, (2000, 3) -> (2000, 1);
    # Flatten(0, 1) flattens that to (2000,) to match y
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1),
    ).to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, device=run.device, dtype=run.dtype) for k, v in params.items()}, strict=True)

    # phase: loss
    # MSELoss(reduction='sum') does the 'loss = (y_pred - y).pow(2).sum()' bit
    loss_fn = torch.nn.MSELoss(reduction="sum")

    # phase: update
    learning_rate = cfg.lr
    for t in range(cfg.steps):
        # phase: model
        # Forward pass: compute predicted y by passing xx to the model.
        y_pred = model(xx)

        # phase: loss
        # Compute and print loss.
        loss = loss_fn(y_pred, y)
        run.rec.loss(loss)
        # phase: report
        # print the loss at step 99 and every 1000 after that (the seed's condition)
        if t % cfg.print_every == cfg.print_offset:
            run.rec.print(f"Step: {t} Loss: {loss.item()}")

        # phase: gradients
        # Zero the gradients before running the backward pass.
        model.zero_grad()

        # Backward pass: compute gradient of the loss with respect to all the learnable parameters
        loss.backward()
        run.rec.step(model.state_dict(), {name: param.grad for name, param in model.named_parameters()})

        # phase: update
        # Update the weights using gradient descent, outside autograd's tracking
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    # phase: report
    result = run.rec.finish(model.state_dict())
    if run.report is not None:
        # You can access the first layer of `model` like accessing the first item of a list
        linear_layer = model[0]
        # For linear layer, its parameters are stored as `weight` and `bias`.
        run.report(f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
                   f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3")
        run.report(f"Final Loss: {loss}")
        run.report(f"y_pred tensor, shape: {y_pred.shape} contents:\n {y_pred}")
        run.report("printing named parameter data")
        with torch.no_grad():
            for name, param in model.named_parameters():
                if param.requires_grad:
                    run.report(f"param name: {name} data: {param.data} grad {param.grad}")
    return result
