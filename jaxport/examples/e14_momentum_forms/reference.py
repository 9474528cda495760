"""E14 reference: the notes' momentum formula and torch's SGD momentum, on one gradient stream.

The seed gives the formula, not code: ``V_t = βV_{t-1} + (1-β)∂L/∂w``, ``w_{t+1} = w_t - αV_t``.
:class:`EMAMomentumSGD` is that formula as a ``torch.optim.Optimizer`` (V starts at zero), written
the way torch's own SGD is. Beside it run ``torch.optim.SGD(lr, momentum=β)`` (the seed's
optimizer) and ``torch.optim.SGD(α, momentum=β, dampening=β)``. Each step sets ``w.grad`` to the
stream's gradient (``data["grads"][t]``, the arrays JAX gets) and calls ``optimizer.step()``.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: other
class EMAMomentumSGD(torch.optim.Optimizer):
    """The notes' SGD with momentum: V = βV + (1-β)g, then w -= αV."""

    def __init__(self, params, lr, beta):
        super().__init__(params, dict(lr=lr, beta=beta))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                state = self.state[w]
                if "V" not in state:
                    state["V"] = torch.zeros_like(w)  # V_0 = 0
                V = state["V"]
                V.mul_(group["beta"]).add_(w.grad, alpha=1 - group["beta"])  # V = βV + (1-β)∂L/∂w
                w.add_(V, alpha=-group["lr"])  # w = w - αV


def _run(make_optimizer, w0: torch.Tensor, grads: torch.Tensor, buffer: str) -> tuple[np.ndarray, np.ndarray]:
    """The stream through one optimizer: w before every step and after the last, and each step's buffer."""
    w = w0.clone().requires_grad_(True)
    optimizer = make_optimizer([w])
    ws, bufs = [to_numpy(w).copy()], []
    for g in grads:
        optimizer.zero_grad()
        w.grad = g.clone()  # ∂L/∂w of this step
        optimizer.step()
        ws.append(to_numpy(w).copy())
        bufs.append(to_numpy(optimizer.state[w][buffer]).copy())
    return np.stack(ws), np.stack(bufs)


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)
    w0 = torch.tensor(params["w"], device=device, dtype=dtype)
    grads = torch.tensor(data["grads"], device=device, dtype=dtype)
    beta = cfg.beta
    alpha = cfg.lr / (1 - beta)  # the notes' learning rate that matches torch's lr

    out = {}
    forms = {
        "torch": (lambda ps: torch.optim.SGD(ps, lr=cfg.lr, momentum=beta), "momentum_buffer"),
        "ema": (lambda ps: EMAMomentumSGD(ps, lr=alpha, beta=beta), "V"),
        "dampened": (lambda ps: torch.optim.SGD(ps, lr=alpha, momentum=beta, dampening=beta), "momentum_buffer"),
    }
    for name, (make_optimizer, buffer) in forms.items():
        out[f"{name}.w"], out[f"{name}.V"] = _run(make_optimizer, w0, grads, buffer)
    return out
