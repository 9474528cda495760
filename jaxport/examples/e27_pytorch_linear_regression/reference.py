"""E27 reference: the seed's ``PyTorchLinearRegression`` cells, as written.

Changes from the seed: the initial weights come in as arguments (default: the ones the seed prints)
and are loaded with ``load_state_dict(strict=True)``, once (the seed re-creates the model, with a
fresh unseeded init, before its prediction cell and again before its step cell); ``X``, ``y`` and
``t`` come in as data; the step cell runs on the ``X = [[1., 2., 3.]]`` it meant (in the seed ``X``
had been rebound to a (4, 4) dataloader batch and the cell raised); ``dtype`` and ``device`` come from
the run's settings; values are copied out.
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: model
class PyTorchLinearRegression(torch.nn.Module):
    def __init__(self, num_inputs, num_outputs):
        super().__init__()
        self.linear_layer = torch.nn.Linear(num_inputs, num_outputs)

    def forward(self, X):
        return self.linear_layer(X)


def make_model(params: Mapping[str, np.ndarray], dtype=torch.float32, device="cpu") -> PyTorchLinearRegression:
    model = PyTorchLinearRegression(3, 1).to(device, dtype)  # initialise the model
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()}, strict=True)
    return model


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    # phase: model
    model = make_model(params, dtype, device)
    initial = {f"initial.{k}": to_numpy(p).copy() for k, p in model.named_parameters()}

    # phase: data
    X = torch.tensor(data["X"], device=device, dtype=dtype)  # create a torch tensor
    y = torch.tensor(data["y"], device=device, dtype=dtype)  # create a label for this example

    # phase: model
    prediction = model(X)  # call the model on the data
    # phase: loss
    loss = F.mse_loss(prediction, y)

    # phase: gradients
    prediction.backward()  # populate gradients
    grads = {f"grad.{k}": to_numpy(p.grad).copy() for k, p in model.named_parameters()}

    t = torch.tensor(data["t"], device=device, dtype=dtype)
    t.requires_grad = True
    t_prediction = t * X.T + 1

    # phase: update
    # Here's how one optimisation step would be performed (on the X the cell meant)
    optimiser = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    optimiser.step()  # uses the .grad populated by prediction.backward() above
    stepped = {f"step.{k}": to_numpy(p).copy() for k, p in model.named_parameters()}
    optimiser.zero_grad()

    # phase: report
    return {
        **initial,
        "prediction": to_numpy(prediction).copy(),
        "loss": to_numpy(loss).copy(),
        **grads,
        "t_prediction": to_numpy(t_prediction).copy(),
        **stepped,
    }
