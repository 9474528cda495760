"""E29 reference: the seed's ``PyTorchLinearRegression``, ``.grad`` accumulating over two ``backward()`` calls.

Changes from the seed: the initial weights come in as arguments (default: the ones the seed prints),
loaded with ``load_state_dict(strict=True)``; the two micro-batches come in as data; ``dtype`` and
``device`` come from the run's settings; ``.grad`` is copied out after each stage.
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from jaxport.examples.e27_pytorch_linear_regression.reference import PyTorchLinearRegression  # the seed's one class
from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    # phase: model
    model = PyTorchLinearRegression(3, 1).to(device, dtype)  # initialise the model
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()}, strict=True)
    # phase: update
    optimiser = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    # phase: data
    X = torch.tensor(data["X"], device=device, dtype=dtype)
    y = torch.tensor(data["y"], device=device, dtype=dtype)

    # phase: gradients
    def grads() -> dict[str, np.ndarray]:
        return {k: to_numpy(p.grad).copy() for k, p in model.named_parameters()}

    # phase: model
    prediction = model(X[0])
    # phase: loss
    loss_first = F.mse_loss(prediction, y[0])
    # phase: gradients
    loss_first.backward()  # populate gradients
    grad_first = grads()

    # phase: gradients
    # no zero_grad: the second backward() adds to .grad instead of replacing it
    prediction = model(X[1])
    loss_second = F.mse_loss(prediction, y[1])
    loss_second.backward()
    grad_accumulated = grads()

    # phase: update
    optimiser.step()
    updated = {k: to_numpy(p).copy() for k, p in model.named_parameters()}

    # phase: gradients
    optimiser.zero_grad()  # .grad is None again (the seed prints None)
    assert all(p.grad is None for p in model.parameters())
    F.mse_loss(model(X[0]), y[0]).backward()
    grad_after_zero_grad = grads()

    # phase: report
    named = lambda prefix, tree: {f"{prefix}.{k}": v for k, v in tree.items()}  # noqa: E731
    return {
        "loss_first": to_numpy(loss_first).copy(),
        "loss_second": to_numpy(loss_second).copy(),
        **named("grad_first", grad_first),
        **named("grad_accumulated", grad_accumulated),
        **named("updated", updated),
        **named("grad_after_zero_grad", grad_after_zero_grad),
    }
