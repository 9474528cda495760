"""E11: the seed's computation graph, L = 10 - d, differentiated with jax.grad; both views of the graph.

    python examples/e11_computation_graph.py                 # the JAX port: the seed's lines, then the jaxpr
    python examples/e11_computation_graph.py --framework torch   # the reference: the same, then the grad_fn chain
    python examples/e11_computation_graph.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e11_computation_graph.py.
After `jaxport run`'s lines this script prints the framework's own view of the graph
(`jax.make_jaxpr` for JAX; the seed's outputs with their grad_fn, and `L.grad_fn`'s chain, for torch).
"""

import sys

from jaxport.cli import build_parser, main


def graph_lines(argv: list[str]) -> list[str]:
    """The graph as the chosen framework shows it (nothing for --json)."""
    from jaxport import params
    from jaxport.examples import e11_computation_graph as e11

    args = build_parser().parse_args(["run", "E11", *argv])
    if args.json:
        return []
    cfg = e11.Config(dtype=args.dtype or e11.CONFIG.dtype)
    if args.framework == "jax":
        return e11.graph_lines(cfg)
    from jaxport.examples import e11_computation_graph_torch as ref

    init = params.load(args.init, e11.SHAPES) if args.init else e11.EXAMPLE.init(args.seed)
    return ref.grad_fn_lines(params.cast(init, cfg.dtype))


if __name__ == "__main__":
    code = main(["run", "E11", *sys.argv[1:]])
    if code == 0:
        for line in graph_lines(sys.argv[1:]):
            print(line)
    sys.exit(code)
