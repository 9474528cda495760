"""E11 reference: the seed's ``In [120]``–``In [122]``, ``L.backward()`` through a recorded graph.

Changes from the seed: the five leaves' values come in as arguments (default: the seed's ones);
``dtype`` and ``device`` come from the run's settings; the printed tensors and ``.grad`` are returned
by name. :func:`grad_fn_lines` prints torch's view of the graph: ``L.grad_fn`` and its ``next_functions``.
"""

from collections.abc import Mapping

import numpy as np
import torch

from jaxport.reference import to_numpy, torch_device, torch_dtype

FRAMEWORK = "torch"

LEAVES = ("a", "w1", "w2", "w3", "w4")
NODES = {"leaves": "AccumulateGrad", "mul": "MulBackward0", "add": "AddBackward0", "sub": "RsubBackward1"}


# phase: other
def build(params: Mapping[str, np.ndarray], dtype=torch.float32, device="cpu") -> dict[str, torch.Tensor]:
    """The seed's cells: five leaves with ``requires_grad=True``, then the forward pass (recording the graph)."""
    a = torch.tensor(params["a"], dtype=dtype, device=device, requires_grad=True)
    w1 = torch.tensor(params["w1"], dtype=dtype, device=device, requires_grad=True)
    w2 = torch.tensor(params["w2"], dtype=dtype, device=device, requires_grad=True)
    w3 = torch.tensor(params["w3"], dtype=dtype, device=device, requires_grad=True)
    w4 = torch.tensor(params["w4"], dtype=dtype, device=device, requires_grad=True)

    b = w1 * a
    c = w2 * a
    d = w3 * b + w4 * c
    L = 10 - d
    return {"a": a, "w1": w1, "w2": w2, "w3": w3, "w4": w4, "b": b, "c": c, "d": d, "L": L}


def graph_nodes(root) -> list:
    """Every node reachable from ``root`` (a ``grad_fn``) through ``next_functions``, each once."""
    seen, order, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(n for n, _ in node.next_functions)
    return order


def graph_counts(L: torch.Tensor) -> dict[str, int]:
    names = [type(n).__name__ for n in graph_nodes(L.grad_fn)]
    return {k: names.count(v) for k, v in NODES.items()}


# phase: report
def values(params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray], cfg, *, device: str = "cpu") -> dict[str, np.ndarray]:
    dtype = torch_dtype(cfg.dtype)
    t = build(params, dtype, torch_device(device))
    counts = graph_counts(t["L"])  # before backward() frees the graph's saved tensors

    t["L"].backward()  # fills .grad on the five leaves
    return {
        **{k: to_numpy(t[k]).copy() for k in ("b", "c", "d", "L")},
        **{f"{k}.grad": to_numpy(t[k].grad).copy() for k in LEAVES},
        **{f"graph.{k}": np.asarray(n, dtype=cfg.dtype) for k, n in counts.items()},
    }


# phase: gradients
def grad_fn_lines(params: Mapping[str, np.ndarray] | None = None) -> list[str]:
    """torch's view of the graph: the seed's outputs as torch prints them (with ``grad_fn``), then the
    chain from ``L.grad_fn`` down to the leaves' ``AccumulateGrad`` nodes."""
    params = params or {k: np.ones(1, np.float32) for k in LEAVES}  # the seed's ones
    t = build(params, torch.from_numpy(np.asarray(params["a"])).dtype)
    names = {id(t[k]): k for k in LEAVES}
    lines = [repr((t["b"], t["d"])), repr(t["L"]), "torch's graph, L.grad_fn and its next_functions:"]

    def walk(node, depth: int) -> None:
        leaf = getattr(node, "variable", None)
        lines.append("  " * depth + type(node).__name__ + (f" ({names[id(leaf)]})" if leaf is not None else ""))
        for child, _ in node.next_functions:
            if child is not None:
                walk(child, depth + 1)

    walk(t["L"].grad_fn, 1)
    return lines
