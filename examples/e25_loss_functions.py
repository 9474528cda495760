"""E25: the seed's loss functions (CrossEntropy with 2 logits, BCE with 1), as jaxport's loss functions.

    python examples/e25_loss_functions.py                 # the JAX port, printing the losses and probabilities
    python examples/e25_loss_functions.py --framework torch   # the reference, for side-by-side reading
    python examples/e25_loss_functions.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e25_loss_functions.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E25", *sys.argv[1:]]))
