"""E24: the seed's gradient hook (print, return grad + 2) and retain_grad, as a custom_vjp identity.

    python examples/e24_tensor_hooks.py                 # the JAX port, printing the seed's lines
    python examples/e24_tensor_hooks.py --framework torch   # the reference, for side-by-side reading
    python examples/e24_tensor_hooks.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e24_tensor_hooks.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E24", *sys.argv[1:]]))
