"""E26: the seed's from-scratch NumPy LinearRegression (hand gradients), in jax.numpy.

    python examples/e26_linear_regression_numpy.py                 # the JAX port, printing predict and get_gradients
    python examples/e26_linear_regression_numpy.py --framework numpy   # the reference (the seed's NumPy class), for side-by-side reading
    python examples/e26_linear_regression_numpy.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e26_linear_regression_numpy.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E26", *sys.argv[1:]]))
