"""E10 reference: the seed's "Pytorch Tensor Library" cells, as written.

Changes from the seed: each printed tensor is kept under a name instead of printed (the JAX port's
names); the float tensors (``torch.ones``) take the run's ``dtype`` and ``device``; the integer ones
stay ``int64`` (torch's default) and are returned as floats only for the comparison.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.data import np_dtype
from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype, dev = torch_dtype(cfg.dtype), torch_device(device)
    out: dict[str, torch.Tensor] = {}

    # Creating Tensors
    t = torch.tensor([3, 7, 1], device=dev)
    out["create.t_1"] = t
    t = torch.tensor([[2, 5], [3, 9]], device=dev)
    out["create.t_2"] = t

    # Indexing Tensors
    t = torch.tensor([[2, 5], [3, 9]], device=dev)  # rank 2 tensor
    out["index.t[0]"] = t[0]  # returns a rank 1 tensor
    out["index.t[0][0]"] = t[0][0]  # returns a rank 0 tensor. Equivalently t[0,0]
    out["index.t[0,0]"] = t[0, 0]

    # Slicing Tensors
    t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3]], device=dev)
    out["slice.t"] = t
    out["slice.t[0,:]"], out["slice.t[1,:]"] = t[0, :], t[1, :]
    out["slice.t[:,0]"] = t[:, 0]
    out["slice.t[0:2,1:]"] = t[0:2, 1:]

    # Tensor Shape and Reshaping
    t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]], device=dev)
    out["shape.t.shape"] = torch.tensor(t.shape)
    out["shape.t.view(12)"] = t.view(12)
    out["shape.t.view(2,-1)"] = t.view(2, -1)  # -1 tell the tensor to figure out what number should go there

    # Operations on Tensors
    x = torch.tensor([1, 1], device=dev)
    y = torch.tensor([2, 2], device=dev)
    out["ops.z"] = x + y
    out["cat.z"] = torch.cat([x, y])  # concatenate along the first axis

    # Tensor Broadcasting (Advanced Topic)
    out["broadcast.ones*2"] = torch.ones((3, 2), dtype=dtype, device=dev) * 2
    out["broadcast.ones*tensor"] = torch.ones((3, 2), dtype=dtype, device=dev) * torch.tensor(
        [[2.0, 2], [2, 2], [2, 2]], dtype=dtype, device=dev)
    x = torch.zeros((2, 3, 2), dtype=dtype, device=dev)
    y = torch.ones((3, 2), dtype=dtype, device=dev)
    out["broadcast.x+y_1"] = x + y
    x = torch.zeros((2, 3, 2), dtype=dtype, device=dev)
    y = torch.ones((1, 3, 2), dtype=dtype, device=dev)
    out["broadcast.x+y_2"] = x + y
    x = torch.zeros((2, 3, 2), dtype=dtype, device=dev)
    y = torch.ones((2,), dtype=dtype, device=dev)
    out["broadcast.x+y_3"] = x + y
    # In [49]: zeros((2,3,2)) + ones((3,3)) raises: see broadcast_error().
    return {k: to_numpy(v).astype(np_dtype(cfg.dtype)) for k, v in out.items()}


# phase: other
def broadcast_error() -> torch.Tensor:
    """The seed's ``In [49]``: raises ``RuntimeError: The size of tensor a (2) must match the size of
    tensor b (3) at non-singleton dimension 2``."""
    x = torch.zeros((2, 3, 2))
    y = torch.ones((3, 3))
    return x + y
