"""E22 reference: the seed's ``Net``, one backward pass and its manual SGD update, as written.

Changes from the seed: the initial weights come in as arguments (loaded with
``load_state_dict(strict=True)``); the input, target and criterion (``nn.MSELoss``, which the seed
names) come in as data; ``dtype`` and ``device`` come from the run's settings.
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: model
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    net = Net().to(device, dtype)
    net.load_state_dict({k: torch.tensor(v) for k, v in params.items()}, strict=True)
    # phase: data
    input = torch.tensor(data["input"], device=device, dtype=dtype)
    target = torch.tensor(data["target"], device=device, dtype=dtype)
    # phase: loss
    criterion = nn.MSELoss()

    # phase: gradients
    # we need to clear the existing gradients (net.zero_grad()) and then call loss.backward()
    net.zero_grad()
    # phase: model
    output = net(input)
    # phase: loss
    loss = criterion(output, target)
    # phase: gradients
    loss.backward()
    grads = {f"grad.{k}": to_numpy(f.grad).copy() for k, f in net.named_parameters()}

    # phase: update
    # weights = weights - learning rate * gradient
    learning_rate = cfg.lr
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)

    # phase: report
    with torch.no_grad():
        loss_after = criterion(net(input), target)
    return {
        "output": to_numpy(output).copy(),
        "loss": to_numpy(loss).copy(),
        **grads,
        **{f"updated.{k}": to_numpy(f).copy() for k, f in net.named_parameters()},
        "loss_after": to_numpy(loss_after).copy(),
    }
