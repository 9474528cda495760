"""E13 reference: the seed's MyCoolNet and its 10-step SGD loop, as written.

Changes from the seed: the initial weights come in as arguments (loaded with
``load_state_dict(strict=True)``) and ``x`` comes in as data; ``dtype`` and ``device`` come from
the run's settings; the Recorder keeps the parameters, SGD's momentum buffers (zeros before torch
creates them at the first ``step()``) and how many steps updated each parameter, under the JAX
state's names, so a JAX step can start from torch's exact optimizer state.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import RunContext, optimizer_state, to_numpy, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: model
class MyCoolNet(torch.nn.Module):
    def __init__(self, in_size, out_size):
        super(MyCoolNet, self).__init__()

        self.lin1 = torch.nn.Linear(in_size, 10)
        self.lin2 = torch.nn.Linear(10, 15)
        self.lin3 = torch.nn.Linear(15, 10)
        self.lin4 = torch.nn.Linear(10, out_size)
        self.relu = torch.nn.ReLU()
        self.sig = torch.nn.Sigmoid()

    def forward(self, x):
        hidden = self.relu(self.lin1(x))
        hidden = self.relu(self.lin2(hidden))
        hidden = self.relu(self.lin3(hidden))
        output = self.sig(self.lin4(hidden))

        return output


@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    # phase: model
    model = MyCoolNet(in_size=5, out_size=5).to(device=run.device, dtype=run.dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)
    # phase: update
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)

    # phase: data
    x = torch.tensor(data["x"], device=run.device, dtype=run.dtype)  # seed: torch.tensor([1.,2,3,4,5])

    # phase: update
    counts = {k: 0 for k, _ in model.named_parameters()}  # steps in which each parameter had a gradient
    for i in range(cfg.steps):
        # phase: model
        out = model(x)
        # phase: loss
        loss = torch.sum((0 - out) ** 2)  # loss decreases as out->0
        run.rec.loss(loss)

        # phase: gradients
        loss.backward()  # Calculate gradients
        run.rec.step(optimizer_state(model, optimizer, counts=counts), {k: p.grad for k, p in model.named_parameters()},
                     optimizer, dict(model.named_parameters()))
        # phase: update
        optimizer.step()  # Step all weights in the direction of gradient
        for k, p in model.named_parameters():
            counts[k] += p.grad is not None
        # phase: gradients
        optimizer.zero_grad()
        # phase: report
        if i % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"Loss {i}: {loss.item()}")

    # phase: report
    result = run.rec.finish(optimizer_state(model, optimizer, counts=counts))
    if run.report is not None:
        with torch.no_grad():
            out = to_numpy(model(x))
        body = np.array2string(out, precision=4, floatmode="fixed", separator=", ", prefix="tensor(")
        run.report(f"model(x) = tensor({body})")
    return result
