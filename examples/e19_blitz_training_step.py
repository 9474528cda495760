"""E19: the seed's blitz training step of a ResNet-18 (forward, backward, SGD momentum step), in JAX.

    python examples/e19_blitz_training_step.py                 # the JAX port, printing the loss and gradients
    python examples/e19_blitz_training_step.py --framework torch   # the reference, for side-by-side reading
    python examples/e19_blitz_training_step.py --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e19_blitz_training_step.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E19", *sys.argv[1:]]))
