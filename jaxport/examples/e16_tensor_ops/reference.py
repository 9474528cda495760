"""E16 reference: the operations seed 002 lists (Lesson 4 intro), in torch, as the notes describe them.

Changes from the seed: the notes show no tensors, so the inputs come in as data (the JAX port's
NumPy draws) and each result is kept under the port's name. The in-place snippets work on clones,
so the inputs handed in are never written to.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.data import np_dtype
from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"

INPUTS = ("a", "b", "c", "batch", "u", "v")


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype, dev = torch_dtype(cfg.dtype), torch_device(device)
    a, b, c, batch, u, v = (torch.tensor(data[k], dtype=dtype, device=dev) for k in INPUTS)  # copies
    out: dict[str, torch.Tensor] = {}

    # `*` does element-wise multiplication.
    out["mul.a*b"] = a * b
    # `@` does matrix multiplication, like A.mm(B). `.matmul` is an alias.
    out["matmul.a@c"] = a @ c
    out["matmul.a.matmul(c)"] = a.matmul(c)
    out["matmul.batch@c"] = batch @ c
    # `.mm` does not broadcast.
    out["mm.a.mm(c)"] = a.mm(c)

    # `torch.dot()` computes the inner product (of 1-D tensors: torch raises for 2-D ones today).
    out["dot.dot(u,v)"] = torch.dot(u, v)
    out["dot.dot(a.flatten(),b.flatten())"] = torch.dot(a.flatten(), b.flatten())

    # In-place operators end with a `_`, eg `a.add_(b) == a = a + b`
    s = a.clone()
    s.add_(b)
    out["add_.s.add_(b)"] = s.clone()
    s[0].add_(b[0])  # through a view: writes into s
    out["add_.s[0].add_(b[0])"] = s

    # All operators have an `out` parameter where the result is stored: `torch.add(x, y, out=r1)`
    r1 = torch.empty_like(a)
    torch.add(a, b, out=r1)
    out["out.r1"] = r1

    # `.numpy()` and `.from_numpy()` convert to/from numpy format ... by default the objects are not duplicated.
    n = a.cpu().numpy().copy()
    t = torch.from_numpy(n)
    out["numpy.from_numpy(n)"] = t
    out["numpy.t.numpy()"] = torch.from_numpy(t.numpy())

    # `.reshape()` will sometimes return the same memory range, and sometimes a clone
    out["reshape.a.reshape(3,2)"] = a.reshape(3, 2)
    # `.view((<shape>))` to reshape a tensor without changing it. Complains if the shape is invalid.
    out["view.a.view((3,2))"] = a.view((3, 2))
    out["view.a.view(-1)"] = a.view(-1)
    # `.resize()` can drop or add elements to satisify the given shape.
    s = a.clone()
    s.resize_(2, 2)
    out["resize_.s.resize_(2,2)"] = s

    # Set a random seed (the seed also writes `if torch.cuda.is_available: torch.cuda.manual_seed_all(1)`:
    # without the call parentheses that test is always true; manual_seed already seeds every CUDA device).
    state = torch.get_rng_state()  # leave the caller's global generator as it was
    torch.manual_seed(1)
    r1 = torch.randn(3, dtype=dtype)
    next_draw = torch.randn(3, dtype=dtype)
    torch.manual_seed(1)
    out["manual_seed.reseeded_draw_equal"] = torch.tensor(torch.equal(r1, torch.randn(3, dtype=dtype)))
    out["manual_seed.next_draw_differs"] = torch.tensor(not torch.equal(r1, next_draw))
    torch.set_rng_state(state)

    return {k: to_numpy(x).astype(np_dtype(cfg.dtype)) for k, x in out.items()}
