"""E20: the seed's frozen ResNet-18 with a new fc, finetuned a few steps, in JAX.

    python examples/e20_finetune_freeze.py                 # the JAX port, printing the loss of each step
    python examples/e20_finetune_freeze.py --framework torch   # the reference, for side-by-side reading
    python examples/e20_finetune_freeze.py --steps 10 --dtype float64

Every flag of `jaxport run` works here; the port is jaxport/examples/e20_finetune_freeze.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E20", *sys.argv[1:]]))
