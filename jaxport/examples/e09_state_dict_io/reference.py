"""E09 reference: the seed's ``torch.save(model.state_dict(), ...)`` and ``load_state_dict(torch.load(...))``.

Changes from the seed: the model's values come in (``load_state_dict(strict=True)``); the file goes
to a temporary directory; ``torch.load`` is called with ``weights_only=True`` (the seed's plain
``torch.load`` is the unsafe default of older torch). ``.safetensors`` and ``.npz`` are written and
read by torch-side code too (safetensors' torch API; NumPy), so each format is checked both ways.
"""

import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

FRAMEWORK = "torch"
FORMATS = (".pth", ".safetensors", ".npz")


# phase: other
def _model(dtype):
    return torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1)).to(dtype=dtype)


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = {"float32": torch.float32, "float64": torch.float64}[cfg.dtype]
    model = _model(dtype)
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()}, strict=True)
    x = torch.tensor(data["x"])
    xx = x.unsqueeze(-1).pow(torch.tensor(data["p"].tolist()))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in FORMATS:
            path = Path(tmp) / f"model{suffix}"
            state = model.state_dict()
            if suffix == ".pth":
                torch.save(state, path)  # the seed: torch.save(model.state_dict(), "model.pth")
                loaded = torch.load(path, weights_only=True)
            elif suffix == ".safetensors":
                from safetensors.torch import load_file, save_file

                save_file({k: v.contiguous() for k, v in state.items()}, str(path))
                loaded = load_file(str(path))
            else:
                np.savez(path, **{k: v.numpy() for k, v in state.items()})
                with np.load(path, allow_pickle=False) as npz:
                    loaded = {k: torch.from_numpy(npz[k].copy()) for k in npz.files}
            restored = _model(dtype)
            restored.load_state_dict(loaded, strict=True)  # the seed: model.load_state_dict(torch.load(...))
            same = all(torch.equal(restored.state_dict()[k], state[k]) for k in state)
            out[f"{suffix[1:]}.bitwise"] = np.float64(same)
            with torch.no_grad():
                out[f"{suffix[1:]}.output"] = restored(xx).numpy()
    return out
