"""E29: .grad accumulating over two backward() calls, as an explicit sum of gradient values.

    python examples/e29_grad_accumulation.py                 # the JAX port, printing the seed's lines
    python examples/e29_grad_accumulation.py --framework torch   # the reference, for side-by-side reading
    python examples/e29_grad_accumulation.py --lr 1 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e29_grad_accumulation.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E29", *sys.argv[1:]]))
