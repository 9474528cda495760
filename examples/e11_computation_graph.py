"""E11: the seed's computation graph, L = 10 - d, differentiated with jax.grad; both views of the graph.

    python examples/e11_computation_graph.py                 # the JAX port: the seed's lines, then the jaxpr
    python examples/e11_computation_graph.py --framework torch   # the reference: the same, then the grad_fn chain
    python examples/e11_computation_graph.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e11_computation_graph.py.
After `jaxport run`'s lines this script prints the framework's own view of the graph
(`jax.make_jaxpr` for JAX; the seed's outputs with their grad_fn, and `L.grad_fn`'s chain, for torch).
"""

import sys

from jaxport.cli import script, view_lines


def views(framework: str, cfg, params) -> list[str]:
    """The graph as the chosen framework shows it: JAX's jaxpr, or torch's grad_fn chain."""
    from jaxport.examples.e11_computation_graph import port as e11

    if framework == "jax":
        return e11.graph_lines(cfg)
    from jaxport.examples.e11_computation_graph import reference as ref

    return ref.grad_fn_lines(params)


def graph_lines(argv: list[str]) -> list[str]:
    """The lines this script prints after `jaxport run E11`'s (nothing for --json)."""
    return view_lines("E11", argv, views)


if __name__ == "__main__":
    sys.exit(script("E11", sys.argv[1:], views))
