"""E12 reference: the seed's two ``torch.nn.Linear`` cells, as written.

Changes from the seed: each layer's weights come in as arguments (torch's state_dict keys prefixed
with the seed's variable name: ``lin.weight``, ``lin1.bias``, ...) and are loaded with
``load_state_dict(strict=True)``; ``x`` comes in as data; ``dtype`` and ``device`` come from the run's settings.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: other
def _load(module: torch.nn.Module, params: Mapping[str, np.ndarray], name: str) -> torch.nn.Module:
    """``module`` with the weights ``params[name + '.*']`` (the seed's layers were initialised by torch)."""
    own = {k[len(name) + 1:]: torch.tensor(v) for k, v in params.items() if k.startswith(name + ".")}
    module.load_state_dict(own, strict=True)
    return module


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)

    lin = _load(torch.nn.Linear(in_features=3, out_features=5).to(device, dtype), params, "lin")

    x = torch.tensor(data["x"], device=device, dtype=dtype)  # seed: torch.tensor([1., 2., 3.])
    first = lin(x)

    # Layers can be stacked together
    x = torch.tensor(data["x"], device=device, dtype=dtype)

    lin1 = _load(torch.nn.Linear(in_features=3, out_features=5).to(device, dtype), params, "lin1")
    lin2 = _load(torch.nn.Linear(in_features=5, out_features=4).to(device, dtype), params, "lin2")

    hidden = lin1(x)
    output = lin2(hidden)
    return {"lin(x)": to_numpy(first), "hidden": to_numpy(hidden), "output": to_numpy(output)}
