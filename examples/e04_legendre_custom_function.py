"""E04: the seed's custom autograd Function (Legendre P3), ported with jax.custom_vjp.

    python examples/e04_legendre_custom_function.py                 # the JAX port, printing the seed's lines
    python examples/e04_legendre_custom_function.py --framework torch   # the reference, for side-by-side reading
    python examples/e04_legendre_custom_function.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e04_legendre_custom_function.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E04", *sys.argv[1:]]))
