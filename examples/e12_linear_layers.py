"""E12: the seed's torch.nn.Linear cells, as nnx.Linear layers built from torch's weights.

    python examples/e12_linear_layers.py                 # the JAX port, printing the seed's outputs
    python examples/e12_linear_layers.py --framework torch   # the reference, for side-by-side reading
    python examples/e12_linear_layers.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e12_linear_layers.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E12", *sys.argv[1:]]))
