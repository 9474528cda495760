"""E23: the notes' gradient clipping (by value, by norm) chained before SGD, as optax transformations.

    python examples/e23_grad_clipping.py                     # the JAX port: gradients before and after each clip
    python examples/e23_grad_clipping.py --framework torch   # the reference, for side-by-side reading
    python examples/e23_grad_clipping.py --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e23_grad_clipping.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E23", *sys.argv[1:]]))
