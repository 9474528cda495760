"""E19 reference: the seed's blitz training step of a ResNet-18, as written.

Changes from the seed: ``torchvision.models.resnet18(pretrained=True)`` is ``_resnet_torch``'s
resnet18 (torchvision's code; torchvision is not installed) loaded with the given weights and a
fresh model's buffers (``load_state_dict(strict=True)``); ``data`` and ``labels`` come in as
arrays; ``dtype`` and ``device`` come from the run's settings. After the step it also records the
BatchNorm buffers and the stepped model's output in eval mode.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.examples import _resnet, _resnet_torch
from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    model = _resnet_torch.load(_resnet_torch.resnet18(), params, _resnet.initial_buffers(cfg.dtype), device=device, dtype=dtype)
    data_t = torch.tensor(data["data"], device=device, dtype=dtype)  # 64 x 64 img with 3 channels
    labels = torch.tensor(data["labels"], device=device, dtype=dtype)

    prediction = model(data_t)  # Forward pass

    loss = (prediction - labels).sum()

    loss.backward()  # backward pass (backprop)
    grads = {f"grad.{k}": to_numpy(p.grad).copy() for k, p in model.named_parameters()}

    # register all the model params in the optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    optimizer.step()  # initiate gradient descent

    buffers = {f"buffer.{k}": to_numpy(b).copy() for k, b in model.named_buffers()}
    model.eval()
    with torch.no_grad():
        eval_prediction = model(data_t)
    return {
        "prediction": to_numpy(prediction).copy(),
        "loss": to_numpy(loss).copy(),
        **grads,
        **{f"stepped.{k}": to_numpy(p).copy() for k, p in model.named_parameters()},
        **{f"momentum_buffer.{k}": to_numpy(optimizer.state[p]["momentum_buffer"]).copy() for k, p in model.named_parameters()},
        **buffers,
        "eval_prediction": to_numpy(eval_prediction).copy(),
    }
