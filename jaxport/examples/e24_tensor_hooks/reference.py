"""E24 reference: the seed's hook ``fn`` (print the gradient, return ``grad + 2``) on ``c`` of E11's graph,
with ``c.retain_grad()``.

Changes from the seed: the graph is E11's (the seed leaves ``c`` undefined), its leaves come in as
arguments; ``fn``'s ``print`` is a parameter (:func:`make_fn`), so a comparison can record what it
prints instead of printing; ``dtype`` and ``device`` come from the run's settings.
"""

from collections.abc import Callable, Mapping

import numpy as np
import torch

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"

LEAVES = ("a", "w1", "w2", "w3", "w4")


# phase: gradients
def make_fn(show: Callable[[torch.Tensor], None] = print) -> Callable[[torch.Tensor], torch.Tensor]:
    def fn(grad):
        show(grad)  # seed: print(grad)
        return grad + 2  # if you return nothing, the same gradient as before will be used
    return fn


# phase: other
def backward(params: Mapping[str, np.ndarray], hooks=(), dtype=torch.float32, device="cpu", retain_first: bool = True):
    """E11's graph with ``hooks`` registered on ``c`` (in this order) and ``c.retain_grad()``
    (before the hooks, or after them: torch keeps the post-hook gradient either way); ``L.backward()``."""
    a, w1, w2, w3, w4 = (torch.tensor(params[k], dtype=dtype, device=device, requires_grad=True) for k in LEAVES)
    b = w1 * a
    c = w2 * a
    if retain_first:
        c.retain_grad()  # stores the grad on this intermediate node
    for fn in hooks:
        c.register_hook(fn)
    if not retain_first:
        c.retain_grad()
    d = w3 * b + w4 * c
    L = 10 - d
    L.backward()  # starts the backward pass with a gradient of 1.0
    return L, c, dict(zip(LEAVES, (a, w1, w2, w3, w4)))


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype, device = torch_dtype(cfg.dtype), torch_device(device)
    grad = lambda t: to_numpy(t.grad).copy()  # noqa: E731

    L, c, leaves = backward(params, (), dtype, device)
    out = {"L": to_numpy(L).copy(), "plain.c.grad": grad(c), **{f"plain.{k}.grad": grad(v) for k, v in leaves.items()}}

    seen = []
    _, c, leaves = backward(params, (make_fn(show=lambda g: seen.append(to_numpy(g).copy())),), dtype, device)
    out["hook.seen"] = seen[0]
    out["hook.calls"] = np.asarray(len(seen), dtype=cfg.dtype)
    out["c.grad"] = grad(c)
    out.update({f"{k}.grad": grad(v) for k, v in leaves.items()})

    # hooks get called on tensors in the order they were added
    after_add = []
    backward(params, (lambda g: g + 2, lambda g: after_add.append(to_numpy(g).copy())), dtype, device)
    out["order.seen"] = after_add[0]
    return out
