"""E23 reference: the notes' gradient clipping between ``backward()`` and ``step()``, as written.

Changes from the notes: the model, criterion, optimizer and batch (which the notes do not show)
are the ones described in the JAX port, with the initial weights and data passed in; both clips
run, each from a fresh model with the same weights; the by-norm line uses torch's keyword
``max_norm`` (the notes' ``clip_norm=1`` raises ``TypeError``); and, not in the notes, the by-norm clip
of small gradients: the raw gradients scaled to a total norm of ``small_norm``, clipped at half of it.
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: update
def _backward_clip_step(clip, params, data, cfg, device, dtype) -> tuple[dict, dict, dict, torch.Tensor, torch.Tensor]:
    """One notes-style step with ``clip``: returns grads before and after the clip, new params, loss, clip's return."""
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device, dtype)
    model.load_state_dict({k: torch.tensor(v, dtype=dtype) for k, v in params.items()}, strict=True)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=cfg.lr)
    input = torch.tensor(data["input"], device=device, dtype=dtype)
    target = torch.tensor(data["target"], device=device, dtype=dtype)

    loss = criterion(model(input), target)
    optimizer.zero_grad()
    loss.backward()
    raw = {k: to_numpy(p.grad).copy() for k, p in model.named_parameters()}

    returned = clip(model.parameters())

    clipped = {k: to_numpy(p.grad).copy() for k, p in model.named_parameters()}
    optimizer.step()
    stepped = {k: to_numpy(p).copy() for k, p in model.named_parameters()}
    return raw, clipped, stepped, loss, returned


# phase: other
def _clip_small(raw, total_norm, small_norm, device, dtype) -> tuple[dict, dict]:
    """``clip_grad_norm_(max_norm=small_norm / 2)`` on gradients whose total norm is ``small_norm``:
    ``g * (small_norm / total_norm)`` (``total_norm`` as clip_grad_norm_ returned it), clipped in place;
    both, by name. Here torch's + 1e-6 in ``max_norm / (total_norm + 1e-6)`` is a 1% effect."""
    ts = {k: torch.zeros(g.shape, device=device, dtype=dtype, requires_grad=True) for k, g in raw.items()}
    for k, t in ts.items():
        t.grad = torch.tensor(raw[k], device=device, dtype=dtype) * (small_norm / total_norm)
    small = {k: to_numpy(t.grad).copy() for k, t in ts.items()}
    torch.nn.utils.clip_grad_norm_(list(ts.values()), max_norm=small_norm / 2)
    return small, {k: to_numpy(t.grad).copy() for k, t in ts.items()}


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    # by value
    raw, by_value, after_value, loss, _ = _backward_clip_step(
        lambda ps: torch.nn.utils.clip_grad_value_(ps, clip_value=cfg.clip_value), params, data, cfg, device, dtype)
    # by norm (the notes: clip_norm=1; torch's keyword is max_norm)
    _, by_norm, after_norm, _, total_norm = _backward_clip_step(
        lambda ps: torch.nn.utils.clip_grad_norm_(ps, max_norm=cfg.max_norm), params, data, cfg, device, dtype)

    # small gradients: the raw gradients scaled to a total norm of small_norm, clipped by norm at half of it
    small, clip_small = _clip_small(raw, total_norm, cfg.small_norm, device, dtype)

    out = {"loss": to_numpy(loss).copy(), "total_norm": to_numpy(total_norm).copy()}
    for name, tree in (("grad", raw), ("clip_value", by_value), ("clip_norm", by_norm),
                       ("step_value", after_value), ("step_norm", after_norm),
                       ("small", small), ("clip_small", clip_small)):
        out.update({f"{name}.{k}": v for k, v in tree.items()})
    return out
