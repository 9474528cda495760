"""E18: no_grad, set_grad_enabled, requires_grad_ and grad_fn, as stop_gradient, argnums and a jaxpr.

    python examples/e18_grad_modes.py                 # the JAX port: the seed's lines, then the jaxprs
    python examples/e18_grad_modes.py --framework torch   # the reference: the same, then y.grad_fn
    python examples/e18_grad_modes.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e18_grad_modes.py.
After `jaxport run`'s lines this script prints what only each framework can show: torch's
`y.grad_fn` (`<PowBackward0 ...>`), or JAX's jaxpr of `x**2` and of the loss (`stop_gradient`).
"""

import sys

from jaxport.cli import script, view_lines


def views(framework: str, cfg, params) -> list[str]:
    """The graph as the chosen framework shows it: JAX's jaxpr, or torch's grad_fn chain."""
    from jaxport.examples.e18_grad_modes import port as e18

    if framework == "jax":
        return e18.graph_lines(cfg)
    from jaxport.examples.e18_grad_modes import reference as ref

    return ref.grad_fn_lines(params)


def graph_lines(argv: list[str]) -> list[str]:
    """The lines this script prints after `jaxport run E18`'s (nothing for --json)."""
    return view_lines("E18", argv, views)


if __name__ == "__main__":
    sys.exit(script("E18", sys.argv[1:], views))
