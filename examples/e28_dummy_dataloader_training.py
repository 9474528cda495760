"""E28: the seed's dummy dataloader and training loop, the shuffle drawn up front and the run one lax.scan.

    python examples/e28_dummy_dataloader_training.py                 # the JAX port, printing the seed's "Loss:" lines
    python examples/e28_dummy_dataloader_training.py --framework torch   # the reference, for side-by-side reading
    python examples/e28_dummy_dataloader_training.py --seed 3 --steps 100 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e28_dummy_dataloader_training.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E28", *sys.argv[1:]]))
