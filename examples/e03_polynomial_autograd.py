"""E03: the seed's autograd network, ported with jax.value_and_grad.

    python examples/e03_polynomial_autograd.py                 # the JAX port, printing the seed's lines
    python examples/e03_polynomial_autograd.py --framework torch   # the reference, for side-by-side reading
    python examples/e03_polynomial_autograd.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e03_polynomial_autograd.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E03", *sys.argv[1:]]))
