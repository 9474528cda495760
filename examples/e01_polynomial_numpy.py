"""E01: the seed's NumPy network (hand gradients), ported to jax.numpy.

    python examples/e01_polynomial_numpy.py                 # the JAX port, printing the seed's lines
    python examples/e01_polynomial_numpy.py --framework numpy   # the reference, for side-by-side reading
    python examples/e01_polynomial_numpy.py --seed 3 --steps 500 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e01_polynomial_numpy.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E01", *sys.argv[1:]]))
