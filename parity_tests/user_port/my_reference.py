"""The torch side of ``my_port.py``: the training loop as one would write it in torch."""

import torch

from jaxport.reference import optimizer_state, training_reference

FRAMEWORK = "torch"


@training_reference
def train(params, data, cfg, run):
    x = torch.tensor(data["x"], dtype=run.dtype)
    y = torch.tensor(data["y"], dtype=run.dtype)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).to(run.dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=run.dtype) for k, v in params.items()}, strict=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    for t in range(cfg.steps):
        loss = torch.nn.functional.mse_loss(model(x), y)
        run.rec.loss(loss)
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"{t} {loss.item()}")
        optimizer.zero_grad()
        loss.backward()
        if run.record:  # the state under the JAX state's names (SGD keeps no step count: t steps so far)
            counts = {k: t for k, _ in model.named_parameters()}
            run.rec.step(optimizer_state(model, optimizer, counts=counts), {k: p.grad for k, p in model.named_parameters()},
                         optimizer, dict(model.named_parameters()))
        optimizer.step()
    run.rec.print(f"final loss {loss.item()}")
    return run.rec.finish(optimizer_state(model, optimizer, counts={k: cfg.steps for k, _ in model.named_parameters()}))
