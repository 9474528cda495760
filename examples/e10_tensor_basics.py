"""E10: the seed's "Pytorch Tensor Library" cells, in jax.numpy and in torch.

    python examples/e10_tensor_basics.py                 # the JAX port, printing the seed's outputs
    python examples/e10_tensor_basics.py --framework torch   # the reference, for side-by-side reading
    python examples/e10_tensor_basics.py --dtype float64 --json

Every flag of `jaxport run` works here; the port is jaxport/examples/e10_tensor_basics.py.
"""

import sys

from jaxport.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "E10", *sys.argv[1:]]))
