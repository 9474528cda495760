"""E25 reference: the seed's two heads and their losses, as torch's ``nn`` loss modules.

The seed names the losses and the probabilities and shows no code; this is the plain torch use of
them: ``nn.CrossEntropyLoss()`` on 2 output features with ``softmax`` for the probabilities,
``nn.BCEWithLogitsLoss()`` and ``nn.BCELoss()`` (on ``sigmoid``) on 1 output feature,
``nn.NLLLoss`` on ``log_softmax`` and ``nn.CrossEntropyLoss(weight, ignore_index=-100)`` for the
multiclass set. Each mean loss is differentiated by ``backward()`` into ``logits.grad``. The inputs
come in as data (the same arrays JAX gets).
"""

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"
SETS = ("", "extreme.")


# phase: other
def _losses(d: Mapping[str, torch.Tensor], ignore_index: int) -> dict[str, np.ndarray]:
    out = {
        # Can get probability of each class by using softmax
        "softmax2": to_numpy(F.softmax(d["logits2"], dim=1)),
        # Can easily get probability of class 1 using sigmoid on the network's output logits
        "sigmoid1": to_numpy(torch.sigmoid(d["logit1"])),
    }
    w = d["class_weight"]
    heads = {
        # Cross Entropy Loss: when used for binary classification it expects 2 output features
        "ce2": (lambda r: nn.CrossEntropyLoss(reduction=r), "logits2", lambda z: z, "labels2"),
        # Binary Cross Entropy Loss: expects 1 output feature
        "bce_with_logits": (lambda r: nn.BCEWithLogitsLoss(reduction=r), "logit1", lambda z: z, "target1"),
        "bce": (lambda r: nn.BCELoss(reduction=r), "logit1", torch.sigmoid, "target1"),
        # CrossEntropyLoss = LogSoftmax + NLLLoss
        "nll": (lambda r: nn.NLLLoss(weight=w, ignore_index=ignore_index, reduction=r), "logits",
                lambda z: F.log_softmax(z, dim=1), "classes"),
        "ce": (lambda r: nn.CrossEntropyLoss(weight=w, ignore_index=ignore_index, reduction=r), "logits",
               lambda z: z, "classes"),
    }
    for name, (criterion, x, head, y) in heads.items():
        logits = d[x].clone().requires_grad_(True)
        loss = criterion("mean")(head(logits), d[y])
        loss.backward()
        out[name], out[f"grad.{name}"] = to_numpy(loss).copy(), to_numpy(logits.grad).copy()
        with torch.no_grad():
            out[f"{name}.none"] = to_numpy(criterion("none")(head(d[x]), d[y])).copy()
    with torch.no_grad():
        out["ce.sum"] = to_numpy(heads["ce"][0]("sum")(d["logits"], d["classes"])).copy()
    return out


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    device = torch_device(device)
    out = {}
    for prefix in SETS:
        d = {}
        for k, v in data.items():
            if k.startswith(prefix) and "." not in k[len(prefix):]:
                as_long = np.issubdtype(v.dtype, np.integer)  # class labels: torch wants int64
                d[k[len(prefix):]] = torch.tensor(v, device=device, dtype=torch.long if as_long else dtype)
        out.update({f"{prefix}{k}": v for k, v in _losses(d, cfg.ignore_index).items()})
    return out
