"""E18: no_grad, set_grad_enabled, requires_grad_ and grad_fn, as stop_gradient, argnums and a jaxpr.

    python examples/e18_grad_modes.py                 # the JAX port: the seed's lines, then the jaxprs
    python examples/e18_grad_modes.py --framework torch   # the reference: the same, then y.grad_fn
    python examples/e18_grad_modes.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e18_grad_modes.py.
After `jaxport run`'s lines this script prints what only each framework can show: torch's
`y.grad_fn` (`<PowBackward0 ...>`), or JAX's jaxpr of `x**2` and of the loss (`stop_gradient`).
"""

import sys

from jaxport.cli import build_parser, main


def graph_lines(argv: list[str]) -> list[str]:
    """The grad_fn / jaxpr lines of the chosen framework (nothing for --json)."""
    from jaxport import params
    from jaxport.examples import e18_grad_modes as e18

    args = build_parser().parse_args(["run", "E18", *argv])
    if args.json:
        return []
    cfg = e18.Config(dtype=args.dtype or e18.CONFIG.dtype)
    if args.framework == "jax":
        return e18.graph_lines(cfg)
    from jaxport.examples import e18_grad_modes_torch as ref

    init = params.load(args.init, e18.SHAPES) if args.init else e18.EXAMPLE.init(args.seed)
    return ref.grad_fn_lines(params.cast(init, cfg.dtype))


if __name__ == "__main__":
    code = main(["run", "E18", *sys.argv[1:]])
    if code == 0:
        for line in graph_lines(sys.argv[1:]):
            print(line)
    sys.exit(code)
