"""E18 reference: the seed's autograd notes (``no_grad``, ``set_grad_enabled``, ``requires_grad_``,
``grad_fn``), each cell feeding ``loss = sum(w · x² · y)`` and one ``backward()``.

Changes from the seed: ``x`` (seed: ``torch.zeros(1, requires_grad=True)``) and ``w`` (ours: a tensor
created without ``requires_grad``) come in as arguments; ``set_grad_enabled`` is used as a context
manager (the same switch, restored on exit); ``dtype`` and ``device`` come from the run's settings;
each cell builds its tensors afresh, because ``backward()`` frees the graph.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype, device = torch_dtype(cfg.dtype), torch_device(device)
    out: dict[str, np.ndarray] = {}

    def leaves(w_requires_grad: bool = False):
        x = torch.tensor(params["x"], dtype=dtype, device=device, requires_grad=True)
        w = torch.tensor(params["w"], dtype=dtype, device=device)  # no requires_grad: a constant to autograd
        if w_requires_grad:
            w.requires_grad_(True)  # "at any time"
        return x, w

    x, w = leaves()
    with torch.no_grad():
        y = x * 2
    out["y"] = to_numpy(y).copy()
    out["y.requires_grad"] = np.asarray(y.requires_grad, dtype=cfg.dtype)  # seed: False

    # Also, you can turn on or off gradients altogether with torch.set_grad_enabled(True|False)
    for enabled in (False, True):
        with torch.set_grad_enabled(enabled):
            y_mode = x * 2
        out[f"set_grad_enabled({enabled}).requires_grad"] = np.asarray(y_mode.requires_grad, dtype=cfg.dtype)

    z = x**2  # seed: y = x**2; print(y.grad_fn) -> <PowBackward0 object at 0x...>
    out["x**2"] = to_numpy(z).copy()

    # y under no_grad: the loss's gradient flows through x**2 only
    loss = (w * z * y).sum()
    out["loss"] = to_numpy(loss).copy()
    loss.backward()
    assert w.grad is None  # w does not require grad
    out["no_grad.x.grad"] = to_numpy(x.grad).copy()

    # .detach(): the same cut, on one tensor
    x, w = leaves()
    y = (x * 2).detach()
    (w * x**2 * y).sum().backward()
    out["detach.x.grad"] = to_numpy(x.grad).copy()

    # y tracked: the gradient flows through y too
    x, w = leaves()
    y = x * 2
    (w * x**2 * y).sum().backward()
    out["tracked.x.grad"] = to_numpy(x.grad).copy()

    # w.requires_grad_(True): w gets a .grad; x's is unchanged
    x, w = leaves(w_requires_grad=True)
    with torch.no_grad():
        y = x * 2
    (w * x**2 * y).sum().backward()
    out["requires_grad_.x.grad"] = to_numpy(x.grad).copy()
    out["requires_grad_.w.grad"] = to_numpy(w.grad).copy()
    return out


# phase: gradients
def grad_fn_lines(params: Mapping[str, np.ndarray] | None = None) -> list[str]:
    """The seed's two printed outputs that only torch can print: ``y.requires_grad`` and ``y.grad_fn``."""
    params = params or {"x": np.zeros(1, np.float32)}  # the seed's x
    x = torch.tensor(params["x"], requires_grad=True)
    with torch.no_grad():
        y = x * 2
    lines = [">>> y.requires_grad  (y = x * 2 under no_grad)", str(y.requires_grad), f"y.grad_fn: {y.grad_fn}"]
    y = x**2
    lines.append(f"print(y.grad_fn)  (y = x**2): {y.grad_fn}")
    return lines
