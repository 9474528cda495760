"""E20 reference: the seed's frozen ResNet-18 with a new classifier, trained a few steps.

Changes from the seed: ``torchvision.models.resnet18(pretrained=True)`` is ``_resnet_torch``'s
resnet18 loaded with the given "pretrained" state (``load_state_dict(strict=True)``, a fresh
model's buffers); the new ``nn.Linear(512, 10)`` is loaded with the given initial values. What the
seed leaves out (optimizer, loss, data, steps) is the blitz's: SGD lr 1e-2 momentum 0.9 over
``model.parameters()``, ``nn.CrossEntropyLoss()``, the given batch. A Recorder keeps the new fc,
SGD's state and the BatchNorm buffers under the JAX names, each before its step's forward.
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn

from jaxport.examples import _resnet, _resnet_torch
from jaxport.examples.e20_finetune_freeze.port import PRETRAINED, buffer_names
from jaxport.reference import RunContext, optimizer_buffers, training_reference
from jaxport.spec import RefRun

FRAMEWORK = "torch"


# phase: other
def _state(model: nn.Module, optimizer: torch.optim.Optimizer, counts: Mapping[str, int]) -> dict:
    """The new fc, its SGD state (a momentum buffer unless momentum is 0) and every BatchNorm buffer,
    copied now (buffers change in forward)."""
    out = {}
    for k, p in model.fc.named_parameters():
        out[f"fc.{k}"] = p.detach().clone()
        for name in optimizer_buffers(optimizer):
            buf = optimizer.state.get(p, {}).get(name)
            out[f"{name}.fc.{k}"] = torch.zeros_like(p) if buf is None else buf.clone()
        out[f"count.fc.{k}"] = np.int32(counts[f"fc.{k}"])
    buffers = dict(model.named_buffers())
    for name, key in buffer_names().items():
        out[name] = buffers[key].detach().clone()
    return out


@training_reference
def finetune(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> tuple[RefRun, nn.Module]:
    """The run and the trained model (for the tests: its frozen parameters can be inspected)."""

    pretrained = {k[len(PRETRAINED):]: v for k, v in data.items() if k.startswith(PRETRAINED)}
    model = _resnet_torch.load(_resnet_torch.resnet18(), pretrained, _resnet.initial_buffers(cfg.dtype), device=run.device, dtype=run.dtype)

    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False

    # replace last linear layer (the classifier) with new unfrozen classification layer
    model.fc = nn.Linear(512, 10).to(run.device, run.dtype)
    model.fc.load_state_dict({k[len("fc."):]: torch.tensor(v, device=run.device, dtype=run.dtype) for k, v in params.items()}, strict=True)

    # the blitz's optimizer, over all parameters: the frozen ones get no .grad and SGD skips them
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    criterion = nn.CrossEntropyLoss()
    inputs = torch.tensor(data["data"], device=run.device, dtype=run.dtype)
    labels = torch.tensor(data["labels"], device=run.device)
    counts = {"fc.weight": 0, "fc.bias": 0}

    for t in range(cfg.steps):  # model is in train mode: BatchNorm uses and updates batch statistics
        before = _state(model, optimizer, counts) if run.record else None
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        run.rec.loss(loss)
        if t % cfg.print_every == cfg.print_every - 1:
            run.rec.print(f"step {t} loss {loss.item()}")
        optimizer.zero_grad()
        loss.backward()
        if run.record:
            run.rec.step(before, {f"fc.{k}": p.grad for k, p in model.fc.named_parameters()})
        optimizer.step()
        for k, p in model.fc.named_parameters():
            counts[f"fc.{k}"] += p.grad is not None

    result = run.rec.finish(_state(model, optimizer, counts))
    if run.report is not None:
        run.report(f"fc.weight[0, :3] after training: {model.fc.weight[0, :3].detach().cpu().numpy()}")
        run.report(f"bn1.running_mean[:3] (frozen, still updated in train mode): {model.bn1.running_mean[:3].cpu().numpy()}")
        run.report(f"bn1.num_batches_tracked: {int(model.bn1.num_batches_tracked)}")
    return result, model


# phase: update
@training_reference
def train(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, run: RunContext) -> RefRun:
    return finetune.body(params, data, cfg, run)[0]
