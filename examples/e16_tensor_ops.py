"""E16: the tensor operations of seed 002 (Lesson 4), in JAX and in torch: what maps, what cannot.

    python examples/e16_tensor_ops.py                 # the JAX port, printing the seed's outputs
    python examples/e16_tensor_ops.py --framework torch   # the reference, for side-by-side reading
    python examples/e16_tensor_ops.py --seed 3 --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e16_tensor_ops.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E16", *sys.argv[1:]]))
