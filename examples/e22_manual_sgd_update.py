"""E22: the seed's manual SGD update of the blitz Net, as one jax.tree.map.

    python examples/e22_manual_sgd_update.py                 # the JAX port, printing the loss and gradients
    python examples/e22_manual_sgd_update.py --framework torch   # the reference, for side-by-side reading
    python examples/e22_manual_sgd_update.py --lr 0.1 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e22_manual_sgd_update.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E22", *sys.argv[1:]]))
